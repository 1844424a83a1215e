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
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.argv.includes('--if-ci') && process.env.CI !== 'true') process.exit(0);

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(pkg, 'package.json'));
const out = join(pkg, 'build-asan');
const addon = join(out, 'gru_cpu.node');
mkdirSync(out, { recursive: true });

const libasan = execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
if (!libasan.startsWith('/') || !existsSync(libasan)) {
  console.error(`test:asan: g++ has no libasan.so (got '${libasan}'); install the compiler's sanitizer runtime (Debian: libasan8).`);
  process.exit(1);
}

function nodeHeaders() {
  const local = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (existsSync(join(local, 'node_api.h'))) return local;
  // node-gyp's download cache, when Node came without headers.
  const cache = join(process.env.HOME ?? '', '.cache', 'node-gyp', process.versions.node, 'include', 'node');
  if (existsSync(join(cache, 'node_api.h'))) return cache;
  console.error('test:asan: Node.js headers not found (neither beside this Node nor in the node-gyp cache).');
  process.exit(1);
}

const x64 = process.arch === 'x64';
const sources = [
  ['addon.cc', []],
  ['cpu_features.cc', []],
  ['isa_base.cc', []],
  ['layer.cc', []],
  ['memory.cc', []],
  ['promise_worker.cc', []],
  ['scalar_activations.cc', []],
  ['thread_pool.cc', []],
  ...(x64 ? [['isa_avx2.cc', ['-mavx2', '-mfma']], ['isa_avx512.cc', ['-mavx512f', '-mavx2', '-mfma']]] : []),
];
const common = [
  '-std=gnu++20', '-O1', '-g', '-fPIC', '-fexceptions', '-ffp-contract=fast', '-fsanitize=address', '-fno-omit-frame-pointer',
  `-I${nodeHeaders()}`, `-I${require('node-addon-api').include_dir}`,
  '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_CPP_EXCEPTIONS_ALL', '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
  '-DNODE_ADDON_API_DISABLE_DEPRECATED', ...(x64 ? ['-DGRU_HAVE_X86_KERNELS'] : []),
];

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const headers = ['addon.cc', 'promise_worker.h', 'gru_types.h', 'kernels_impl.h', 'vec.h', 'layer.h', 'memory.h', 'thread_pool.h', 'scalar_activations.h', 'cpu_features.h'].map((f) =>
  mtime(join(pkg, 'native', f)),
);
const newestHeader = Math.max(...headers, mtime(fileURLToPath(import.meta.url)));

function compile([file, flags]) {
  const obj = join(out, file.replace(/\.cc$/, '.o'));
  const src = join(pkg, 'native', file);
  if (mtime(obj) > Math.max(mtime(src), newestHeader)) return Promise.resolve(obj);
  return new Promise((resolve, reject) => {
    const p = spawn('g++', [...common, ...flags, '-c', src, '-o', obj], { stdio: 'inherit' });
    p.on('exit', (code) => (code === 0 ? resolve(obj) : reject(new Error(`g++ failed on ${file} (exit ${code})`))));
  });
}

async function build() {
  const jobs = Math.max(1, Math.min(4, availableParallelism()));
  const objects = [];
  const queue = [...sources];
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (queue.length) objects.push(await compile(queue.shift()));
    }),
  );
  const link = spawnSync('g++', ['-shared', '-fsanitize=address', '-o', addon, ...objects], { stdio: 'inherit' });
  if (link.status !== 0) throw new Error('linking the AddressSanitizer build failed');
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
