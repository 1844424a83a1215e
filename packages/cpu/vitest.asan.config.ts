import { defineConfig } from 'vitest/config';

// The AddressSanitizer run (scripts/test-asan.mjs): every test, plus a check that the
// instrumented addon is the one loaded.
export default defineConfig({
  test: { include: ['test/**/*.test.ts', 'test/**/*.asan.ts'], testTimeout: 120000 },
});
