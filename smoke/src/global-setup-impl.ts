import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runInApp, type SmokeApp } from './app-env.js';
import { makeNoCompilerPath, reachableCompilers } from './no-compiler-path.js';
import { PUBLIC_PACKAGES, pnpmBin, repoRoot } from './workspace.js';

/**
 * What the app installs from the registry besides the tarballs: the tools a user's app would add,
 * pinned to versions that work on Node 20 (see the toolchain notes), and Dawn for @gru/webgpu.
 */
export const APP_DEV_DEPENDENCIES = ['typescript@5.9.3', 'esbuild@0.27.7', 'vite@8.3.8', 'vitest@4.1.12', '@types/node@20.19.43', 'webgpu@0.6.2'];

/**
 * Packs every public package as a release would (pnpm rewrites workspace: ranges). Outside CI
 * (`npm test` on a machine without the cross compilers, which only CI installs) the addon
 * packages' prepack check lets absent cross-target binaries through with a warning; CI packs
 * as strictly as a release.
 */
function pack(dest: string): Record<string, string> {
  const filters = PUBLIC_PACKAGES.flatMap((name) => ['--filter', name]);
  const env = process.env.CI === 'true' ? process.env : { ...process.env, GRU_PREBUILDS_ALLOW_MISSING: '1' };
  const r = spawnSync(pnpmBin, ['-r', ...filters, 'pack', '--pack-destination', dest], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000, env });
  if (r.status !== 0) throw new Error(`pnpm pack failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stderr}${r.stdout}`);
  const tarballs: Record<string, string> = {};
  for (const file of readdirSync(dest).filter((f) => f.endsWith('.tgz'))) {
    const name = PUBLIC_PACKAGES.find((p) => file.startsWith(`${p.slice(1).replace('/', '-')}-`));
    if (name) tarballs[name] = join(dest, file);
  }
  const missing = PUBLIC_PACKAGES.filter((p) => !tarballs[p]);
  if (missing.length) throw new Error(`pnpm pack made no tarball for ${missing.join(', ')} (in ${dest}: ${readdirSync(dest).join(', ')})`);
  return tarballs;
}

/**
 * Recent npm (11.19 here) skips dependencies' install scripts unless the app's `allowScripts` approves them; the
 * user who approves them (and every older npm, which runs them unasked) is the case that can fail
 * without a compiler, so the app approves every package that has one. Older npm ignores the field.
 */
export const SCRIPTED_PACKAGES = ['@gru/cpu', '@gru/cudnn', 'esbuild', 'webgpu'];

/** npm names a registry package by its name, and a tarball by its `file:` path. */
function allowInstallScripts(dir: string, tarballs: Record<string, string>): void {
  const file = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.allowScripts = Object.fromEntries(SCRIPTED_PACKAGES.map((name) => [tarballs[name] ? `file:${tarballs[name]}` : name, true]));
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Builds the app a new user would: a temp folder outside the workspace, `npm init -y`, the
 * tarballs and the app's tools installed with plain npm and no compiler on PATH, then the app's
 * own files (../app) copied in.
 */
export function createSmokeApp(): { app: SmokeApp; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'gru-smoke-'));
  if (!relative(repoRoot, base).startsWith('..')) throw new Error(`the app must be outside the workspace; ${base} is inside ${repoRoot}`);
  const cleanup = () => {
    if (process.env.GRU_SMOKE_KEEP !== '1') rmSync(base, { recursive: true, force: true });
  };
  try {
    const path = makeNoCompilerPath(join(base, 'bin'));
    const compilers = reachableCompilers(path);
    if (compilers.length) throw new Error(`the no-compiler PATH ${path} still reaches ${compilers.join(', ')}`);
    const tarDir = join(base, 'tarballs');
    mkdirSync(tarDir);
    const tarballs = pack(tarDir);
    const dir = join(base, 'app');
    mkdirSync(dir);
    const app: SmokeApp = { dir, path, tarballs, installLog: '' };
    const init = runInApp(app, 'npm', ['init', '-y']);
    if (init.status !== 0) throw new Error(`npm init -y failed:\n${init.log}`);
    allowInstallScripts(dir, tarballs);
    // npm's own cache (~/.npm) makes a rerun quick; --prefer-offline uses it without revalidating.
    // --foreground-scripts shows what install scripts print, which is what a user would read.
    const install = runInApp(
      app,
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=warn',
        '--foreground-scripts',
        ...PUBLIC_PACKAGES.map((p) => tarballs[p]),
        ...APP_DEV_DEPENDENCIES,
      ],
      { timeoutMs: 600_000 },
    );
    app.installLog = `${install.stdout}\n${install.stderr}`;
    writeFileSync(join(dir, 'npm-install.log'), install.log);
    if (install.status !== 0) {
      // npm retries an unreachable registry for minutes: a kill by our timeout says the same.
      const offline =
        /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH)\b/.exec(install.log)?.[1] ??
        (install.status === null ? 'npm install did not finish in 10 minutes' : undefined);
      if (offline && process.env.CI !== 'true') {
        app.unavailable = `the npm registry could not be reached (${offline}) for the app's third-party dependencies; under CI=true this fails`;
        return { app, cleanup };
      }
      throw new Error(`npm install of the tarballs failed with no compiler on PATH:\n${install.log}`);
    }
    cpSync(join(repoRoot, 'smoke', 'app'), dir, { recursive: true });
    return { app, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}
