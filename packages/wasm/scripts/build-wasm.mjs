// Compiles assembly/ (AssemblyScript) to dist/gru.wasm with SIMD128. Runs after tsup, which
// empties dist/. The module has no imports and no allocator of its own (stub runtime, never
// used): JavaScript owns the memory layout.
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist'), { recursive: true });
const args = [
  join(root, 'assembly', 'index.ts'),
  '--outFile', join(root, 'dist', 'gru.wasm'),
  '--enable', 'simd',
  '--runtime', 'stub',
  '--optimizeLevel', '3',
  '--shrinkLevel', '0',
  '--noAssert',
  // Kernels pass v128 between internal functions; nothing of that type is exported.
  '--disableWarning', '112',
];
const { error, stderr } = await asc.main(args);
if (error) {
  process.stderr.write(stderr.toString());
  console.error(`build-wasm: ${error.message}`);
  process.exit(1);
}
console.log('build-wasm: dist/gru.wasm');
