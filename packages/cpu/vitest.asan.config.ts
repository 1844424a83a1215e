import { configDefaults, defineConfig } from 'vitest/config';

// The AddressSanitizer run (scripts/test-asan.mjs): every test, plus a check that the
// instrumented addon is the one loaded. The activation sweep is left out: it builds and runs its
// own uninstrumented binary, so here it would only repeat the plain run's ~8 minutes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.asan.ts'],
    exclude: [...configDefaults.exclude, 'test/activations-accuracy.test.ts'],
    testTimeout: 120000,
  },
});
