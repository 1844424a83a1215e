import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  // Only dist/ is cleaned: build/ holds the compiled addon.
  clean: true,
  // import.meta.url finds the addon from the CommonJS build too.
  shims: true,
  target: 'es2022',
  external: ['@gru/core'],
});
