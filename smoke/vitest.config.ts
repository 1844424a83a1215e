import { defineConfig } from 'vitest/config';

// One app, installed once by the global setup, shared by every file. Files run one after another:
// each drives npm, tsc, bundlers or Chromium, and the machine may have 2 cores. The limits are
// generous so that a loaded CI machine never fails a test; they only catch hangs.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
