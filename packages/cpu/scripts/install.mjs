#!/usr/bin/env node
// The package's install script. It never fails the user's `npm install`:
//  1. a prebuilt binary for this platform and CPU (prebuilds/<platform>-<arch>/) that loads: done;
//  2. otherwise build from source with node-gyp (needs python3 and a C++20 compiler);
//  3. if that fails too, one clear warning, and the install goes on: @gru/cpu then reports itself
//     unavailable with the reason, and automatic backend selection falls back (@gru/wasm, or the
//     reference backend in @gru/core).
// GRU_CPU_ADDON (a path to a gru_cpu.node) skips all of this.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const here = `${process.platform}-${process.arch}`;
const prebuilt = join(pkg, 'prebuilds', here, 'gru_cpu.node');
const built = join(pkg, 'build', 'Release', 'gru_cpu.node');

/**
 * The addon interface this package's JavaScript speaks, read from the native source it ships
 * (kAddonAbi in native/addon.cc; src/loader.ts's ADDON_ABI is tested equal), or undefined where
 * the source is absent. A binary of another interface loads but is refused at run time, so it
 * must not count as installed: `npm rebuild @gru/cpu` would otherwise keep it and build nothing.
 */
function packageAbi() {
  try {
    const m = /constexpr int kAddonAbi = (\d+);/.exec(readFileSync(join(pkg, 'native', 'addon.cc'), 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Why the binary at `path` cannot be used here, or null when it loads. */
function loadProblem(path) {
  try {
    const binding = createRequire(import.meta.url)(path);
    if (typeof binding?.Layer !== 'function') return 'it is not the @gru/cpu addon';
    const abi = packageAbi();
    if (abi !== undefined && binding.abi !== abi)
      return `it is from another version of @gru/cpu: addon interface ${String(binding.abi)}, this package speaks ${abi}`;
    return null;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).split('\n')[0];
  }
}

if (process.env.GRU_CPU_ADDON) process.exit(0);
let why = `no prebuilt binary for ${here} in this package`;
if (existsSync(prebuilt)) {
  const problem = loadProblem(prebuilt);
  if (problem === null) process.exit(0);
  why = `the prebuilt binary for ${here} does not load here (${problem})`;
}
if (existsSync(built) && loadProblem(built) === null) process.exit(0);

// The build's own output is shown only when it succeeds or when asked (npm install --foreground-scripts
// shows it anyway): on failure the user gets one warning, with the build's last words in it.
const build = spawnSync(process.execPath, [join(pkg, 'scripts', 'build-addon.mjs')], { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
if (build.status === 0) {
  process.stderr.write(build.stderr ?? '');
  process.exit(0);
}
const output = `${build.stderr ?? ''}\n${build.stdout ?? ''}`;
const last =
  output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ??
  build.error?.message ??
  `exit ${build.status}`;
// build-addon.mjs ends with its own advice; the line that says why (node-gyp's or the compiler's) comes before it.
// Imported only here, and allowed to fail: a dependency this script cannot reach must not fail the install.
const cause = await import('@gru/native-build/gyp-failure').then(
  (m) => m.gypFailureCause(output),
  () => undefined,
);
const said = cause && cause !== last ? ` The build said: ${cause.replace(/\.?$/, '.')}` : '';
console.warn(
  `@gru/cpu: ${why}, and building it from source failed: ${last.replace(/^@gru\/cpu: /, '').replace(/\.?$/, '.')}${said} ` +
    'The install goes on without the native backend: gru will use @gru/wasm or its reference backend instead, and ' +
    "`loadBackend(getBackend('cpu'))` says why cpu is unavailable. To get it later: install a compiler, then `npm rebuild @gru/cpu`.",
);
process.exit(0);
