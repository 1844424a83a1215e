import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // The CommonJS build finds the addon next to the package through a shimmed import.meta.url.
  shims: true,
  target: 'es2022',
  external: ['@gru/core'],
});
