import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  // gru.wasm is rebuilt right after (scripts/build-wasm.mjs); keeping it meanwhile means a rebuild
  // never leaves a window in which the package cannot load.
  clean: ['!gru.wasm', '!gru-threads.wasm', '!gru-relaxed.wasm', '!gru-threads-relaxed.wasm'],
  // The CommonJS build finds gru.wasm through a shimmed import.meta.url.
  shims: true,
  target: 'es2022',
  external: ['@gru/core'],
});
