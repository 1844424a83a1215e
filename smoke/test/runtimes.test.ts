import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, inject, it } from 'vitest';
import { describeWithApp, lastJson, runInApp, type RunResult } from '../src/app-env.js';

const app = inject('smokeApp');
const describeApp = describeWithApp(app);

/**
 * Bun and Deno run the same installed packages as Node (app/runtimes.mjs): cpu's Node-API addon,
 * wasm on one thread and on two worker threads, and automatic selection, bit for bit as in Node.
 * Deno runs without --allow-env (its refused reads once killed `import '@gru/cpu'`); Bun's
 * worker_threads once hung the wasm pool's start. Pinned to the versions the runtimes probe ran;
 * both ship as npm packages, so CI needs nothing but the registry.
 */
const RUNTIMES = {
  bun: { spec: '@oven/bun-linux-x64@1.4.5', bin: ['@oven', 'bun-linux-x64', 'bin', 'bun'] },
  deno: { spec: '@deno/linux-x64-glibc@2.9.6', bin: ['@deno', 'linux-x64-glibc', 'deno'] },
};
const platformNote =
  process.platform === 'linux' && process.arch === 'x64' ? undefined : `these pinned binaries are for linux-x64; this is ${process.platform}-${process.arch}`;

interface Findings {
  runs: Record<string, { backend: string; hash: string }>;
  auto: string;
}

describeApp('Bun and Deno run the installed packages bit for bit as Node', () => {
  const dir = join(app.dir, '..', 'runtimes');
  let unavailable: string | undefined = platformNote;
  let node: Findings;
  beforeAll(() => {
    node = lastJson<Findings>(runInApp(app, 'node', ['runtimes.mjs']));
    if (unavailable) return;
    mkdirSync(dir, { recursive: true });
    const install = runInApp(
      app,
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn', '--prefix', dir, RUNTIMES.bun.spec, RUNTIMES.deno.spec],
      { cwd: dir, timeoutMs: 600_000 },
    );
    if (install.status !== 0) {
      const offline = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH)\b/.exec(install.log)?.[1];
      if (offline && process.env.CI !== 'true') unavailable = `the npm registry could not be reached (${offline}) for Bun and Deno`;
      else throw new Error(`installing Bun and Deno from npm failed:\n${install.log}`);
    }
  }, 700_000);

  const run = (runtime: keyof typeof RUNTIMES, args: string[]): RunResult => {
    const bin = join(dir, 'node_modules', ...RUNTIMES[runtime].bin);
    expect(existsSync(bin), `${bin} (from ${RUNTIMES[runtime].spec})`).toBe(true);
    // Deno keeps its caches under DENO_DIR; in the app's folder, not the user's home.
    return runInApp(app, bin, args, { env: { DENO_DIR: join(dir, 'deno-cache'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }, timeoutMs: 120_000 });
  };

  it('Node (the baseline): cpu and automatic selection on cpu, wasm on one and two threads alike', () => {
    expect(node.runs.cpu.backend).toBe('cpu');
    expect(node.runs['wasm-plain-2t'].hash).toBe(node.runs['wasm-plain'].hash);
    expect(node.auto).toBe('cpu');
  });

  it('Bun: the same bits (wasm with threads: 2 starts; it hung)', (ctx) => {
    if (unavailable) ctx.skip(unavailable);
    const r = run('bun', ['runtimes.mjs']);
    expect(r.status, r.log).toBe(0);
    expect(lastJson<Findings>(r), r.log).toEqual(node);
  });

  it('Deno without --allow-env: the same bits (importing @gru/cpu killed the program)', (ctx) => {
    if (unavailable) ctx.skip(unavailable);
    const r = run('deno', ['run', '--allow-read', '--allow-ffi', 'runtimes.mjs']);
    expect(r.status, r.log).toBe(0);
    expect(lastJson<Findings>(r), r.log).toEqual(node);
  });
});
