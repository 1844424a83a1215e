import { defineConfig } from 'vitest/config';

// Generous limits: they catch hangs, and must never fail a test because a CI machine is loaded.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
});
