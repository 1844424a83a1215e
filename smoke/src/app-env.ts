import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { describe } from 'vitest';

/** What the global setup hands every test file (vitest's provide/inject). */
export interface SmokeApp {
  /** The fresh app, outside the workspace: `npm init -y`, then the tarballs installed with npm. */
  dir: string;
  /** The PATH with no compiler on it (symlinks to node, npm, sh and basic tools only). */
  path: string;
  /** The tarballs `pnpm pack` made, by package name. */
  tarballs: Record<string, string>;
  /** npm install's output (stdout and stderr). */
  installLog: string;
  /**
   * Why there is no app: the npm registry could not be reached (outside CI only; under CI=true
   * that fails the setup). Every test is then skipped, and install.test.ts says why.
   */
  unavailable?: string;
}

/** `describe`, or `describe.skip` when the global setup could not build the app. */
export function describeWithApp(app: SmokeApp): (name: string, body: () => void) => void {
  return (name, body) => (app.unavailable ? describe.skip(name, body) : describe(name, body));
}

declare module 'vitest' {
  export interface ProvidedContext {
    smokeApp: SmokeApp;
  }
}

/**
 * The environment of a command run in the app: the no-compiler PATH, HOME (npm's cache), and
 * nothing from the workspace's package manager (npm_config_*, pnpm's variables), so plain npm and
 * Node behave as on a user's machine. `extra` adds variables (a Vulkan driver, say).
 */
export function appEnv(app: Pick<SmokeApp, 'path'>, extra: Record<string, string> = {}): Record<string, string> {
  // And how the machine reaches the registry (a proxy, a TLS-inspecting gateway's CA), as a user's shell has it.
  const network = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy'];
  const keep = ['HOME', 'USER', 'LANG', 'TMPDIR', 'TERM', 'CI', 'DISPLAY', 'XDG_RUNTIME_DIR', 'NO_COLOR', ...network];
  const env: Record<string, string> = { PATH: app.path };
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  return { ...env, ...extra };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The command and its output, for assertion messages. */
  log: string;
}

/** Runs `command args` in `cwd` (the app by default) with the app's environment. */
export function runInApp(
  app: Pick<SmokeApp, 'dir' | 'path'>,
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; input?: string } = {},
): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(command, args, {
    cwd: options.cwd ?? app.dir,
    env: appEnv(app, options.env),
    encoding: 'utf8',
    input: options.input,
    timeout: options.timeoutMs ?? 300_000,
    maxBuffer: 64 << 20,
  });
  const stdout = r.stdout ?? '';
  const stderr = r.stderr ?? '';
  const status = r.error ? null : r.status;
  const log = `$ ${command} ${args.join(' ')}  (in ${options.cwd ?? app.dir}; exit ${status}${r.error ? `, ${r.error.message}` : ''})\n${stdout}\n${stderr}`;
  return { status, stdout, stderr, log };
}

/** The last line of stdout parsed as JSON: the app's scripts print their findings that way. */
export function lastJson<T>(r: RunResult): T {
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`expected a JSON line at the end of the output:\n${r.log}`);
  }
}
