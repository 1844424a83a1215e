// Compiles assembly/ (AssemblyScript) with SIMD128 into two modules. Runs after tsup, which
// empties dist/. Neither has imports besides memory, nor an allocator of its own (stub runtime,
// never used): JavaScript owns the memory layout.
// - dist/gru.wasm: its own memory, one thread.
// - dist/gru-threads.wasm: the same kernels with atomics, on an imported shared memory (up to
//   4 GiB), so that worker threads can run one call together (src/thread-pool.ts).
// - dist/gru-relaxed.wasm, dist/gru-threads-relaxed.wasm: both again with relaxed SIMD (the GEMM
//   multiply-adds as f32x4.relaxed_madd), loaded where the engine validates them.
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist'), { recursive: true });
const common = [
  join(root, 'assembly', 'index.ts'),
  '--runtime',
  'stub',
  '--optimizeLevel',
  '3',
  '--shrinkLevel',
  '0',
  '--noAssert',
  // Kernels pass v128 between internal functions; nothing of that type is exported.
  '--disableWarning',
  '112',
];
const shared = ['--importMemory', '--sharedMemory', '--initialMemory', '1', '--maximumMemory', '65536'];
const builds = {
  'gru.wasm': ['--enable', 'simd'],
  'gru-threads.wasm': ['--enable', 'simd,threads', ...shared],
  'gru-relaxed.wasm': ['--enable', 'simd,relaxed-simd'],
  'gru-threads-relaxed.wasm': ['--enable', 'simd,threads,relaxed-simd', ...shared],
};
for (const [file, flags] of Object.entries(builds)) {
  const { error, stderr } = await asc.main([...common, '--outFile', join(root, 'dist', file), ...flags]);
  if (error) {
    process.stderr.write(stderr.toString());
    console.error(`build-wasm: ${file}: ${error.message}`);
    process.exit(1);
  }
  console.log(`build-wasm: dist/${file}`);
}
