import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/vitest.ts', 'src/testing.ts', 'src/cli.ts', 'src/browser.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/vitest.ts', 'src/testing.ts', 'src/browser.ts'] },
  sourcemap: true,
  clean: true,
  // import.meta.url locates the bundled cases in the CommonJS build too.
  shims: true,
  target: 'es2022',
  external: ['vitest', '@gru/core'],
});
