#!/usr/bin/env node
// Builds the addon with AddressSanitizer into build-asan/ and runs the package's tests against
// it, so out-of-bounds reads and writes, use-after-free and double frees in the native code fail
// the run instead of passing silently.
//
//   node scripts/test-asan.mjs          build and test
//   node scripts/test-asan.mjs --if-ci  the same, but only when CI=true (the `test` script's tail)
//
// Needs g++ with libasan (Debian's g++ has it). Leak checking is off: Node itself keeps memory
// until exit; native leaks are what the memoryInUse() tests catch.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { cpuAddon } from './addon.mjs';

const { pkg } = cpuAddon;

if (process.argv.includes('--if-ci') && process.env.CI !== 'true') process.exit(0);

const require = createRequire(join(pkg, 'package.json'));
const out = join(pkg, 'build-asan');
const addon = join(out, 'gru_cpu.node');
mkdirSync(out, { recursive: true });

const libasan = execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
if (!libasan.startsWith('/') || !existsSync(libasan)) {
  console.error(`test:asan: g++ has no libasan.so (got '${libasan}'); install the compiler's sanitizer runtime (Debian: libasan8).`);
  process.exit(1);
}

// The host's compiler, with no prebuilt-binary link options: the sanitizer runtime is preloaded.
const target = { platform: process.platform, arch: process.arch, cxx: 'g++', compile: ['-fPIC'], link: ['-shared'] };

async function build() {
  await cpuAddon.build({ out, target, optimize: ['-O1', '-g'], extra: ['-fsanitize=address', '-fno-omit-frame-pointer'] });
}

const started = Date.now();
await build();
console.log(`test:asan: built ${addon} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const env = {
  ...process.env,
  GRU_CPU_ADDON: addon,
  GRU_CPU_EXPECT_ASAN: '1',
  LD_PRELOAD: [libasan, process.env.LD_PRELOAD].filter(Boolean).join(' '),
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0',
};
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const run = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.asan.config.ts', '--reporter=default'], { cwd: pkg, env, stdio: 'inherit' });
if (run.status !== 0) {
  console.error(`test:asan: the tests failed under AddressSanitizer (exit ${run.status ?? run.signal})`);
  process.exit(run.status ?? 1);
}
console.log(`test:asan: all tests passed under AddressSanitizer in ${((Date.now() - started) / 1000).toFixed(0)} s`);
