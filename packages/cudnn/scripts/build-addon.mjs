#!/usr/bin/env node
/**
 * Builds the addon (build/Release/gru_cudnn.node) with node-gyp. It needs a C++17 compiler and
 * Node's headers only: no CUDA toolkit and no cuDNN headers, because the driver API and cuDNN
 * are declared in native/*_api.h and loaded with dlopen at run time.
 *
 * `--if-needed` (the package's install script) skips the build when a prebuilt binary for this
 * platform loads (prebuilds/, scripts/prebuild.mjs) or when the addon is newer than
 * every native source, and only warns when the build fails: an optional GPU backend must not
 * break `npm install` (load() then explains that the addon is missing). The package's `build`
 * script runs without the flag, so CI still fails on a compile error. Node's headers are passed explicitly with --nodedir: pnpm does not
 * forward npm's nodedir setting, and without it node-gyp tries to download headers (offline CI
 * fails there).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
const addon = join(pkgDir, 'build', 'Release', 'gru_cudnn.node');
const ifNeeded = process.argv.includes('--if-needed');

function newestSource() {
  const files = [join(pkgDir, 'binding.gyp'), ...readdirSync(join(pkgDir, 'native')).map((f) => join(pkgDir, 'native', f))];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  try {
    return createRequire(join(pkgDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

/** Node's own headers sit beside the running binary (<prefix>/include/node) in official and distro builds. */
function findNodeDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured && existsSync(join(configured, 'include', 'node', 'node_api.h'))) return configured;
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

if (ifNeeded && existsSync(addon) && statSync(addon).mtimeMs >= newestSource()) {
  process.exit(0);
}

// The install script needs no compiler where the package ships a binary for this platform and
// CPU (prebuilds/linux-x64, prebuilds/linux-arm64; scripts/prebuild.mjs) and it loads here.
const prebuilt = join(pkgDir, 'prebuilds', `${process.platform}-${process.arch}`, 'gru_cudnn.node');
if (ifNeeded && existsSync(prebuilt)) {
  try {
    if (typeof createRequire(import.meta.url)(prebuilt).openRuntime === 'function') process.exit(0);
  } catch {
    // It does not load here (an older glibc, say): build from source below.
  }
}

const nodeGyp = findNodeGyp();
/** Fails the build, or (install script) warns once and lets the install go on. */
function fail(message, code) {
  if (ifNeeded) {
    console.warn(`${message} The install goes on without the addon; the cuDNN backend will report that it is not built.`);
    process.exit(0);
  }
  console.error(message);
  process.exit(code);
}

if (!nodeGyp) {
  fail(
    '@gru/cudnn: node-gyp was not found (looked at $npm_config_node_gyp and the node-gyp package). ' +
      'Install node-gyp 12 (`npm i -g node-gyp@12`) and run `node scripts/build-addon.mjs` in the package directory.',
    1,
  );
}
const args = [nodeGyp, 'rebuild', `--jobs=${process.env.JOBS ?? '2'}`];
const nodeDir = findNodeDir();
if (nodeDir) args.push(`--nodedir=${nodeDir}`);
// As the install script, node-gyp's output is kept back and only its last error line is shown in
// the one warning: a user without a compiler gets one line, not forty `gyp ERR!` lines.
const result = spawnSync(process.execPath, args, { cwd: pkgDir, stdio: ifNeeded ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8' });
if (result.status !== 0) {
  // Imported only here, and allowed to fail: as the install script this must only ever warn.
  const output = `${result.stderr ?? ''}\n${result.stdout ?? ''}`;
  const last = await import('@gru/native-build/gyp-failure').then(
    (m) => m.gypFailureCause(output),
    () => undefined,
  );
  fail(
    `@gru/cudnn: building the addon failed (node-gyp exit code ${result.status ?? result.signal}${ifNeeded && last ? `: ${last}` : ''}). ` +
      'It needs a C++17 compiler, make and python3; no CUDA or cuDNN is needed to build.',
    result.status ?? 1,
  );
}
