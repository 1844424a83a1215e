import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // `webgpu` (Dawn for Node) is an optional peer, imported only when there is no navigator.gpu.
  external: ['@gru/core', 'webgpu'],
});
