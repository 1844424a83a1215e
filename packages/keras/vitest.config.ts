import { defineConfig } from 'vitest/config';
// The same Vulkan set-up as @gru/webgpu's own tests, so test/backends.test.ts runs the webgpu
// backend on the pinned lavapipe where there is no GPU (turbo runs @gru/webgpu#setup:lavapipe first).
import { vulkanTestEnv } from '../webgpu/test/gpu-setup.js';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, env: vulkanTestEnv() },
});
