import { defineConfig } from 'vitest/config';
// The soak test runs the webgpu backend too, on the pinned lavapipe where there is no GPU (turbo
// runs @gru/webgpu#setup:lavapipe first), as @gru/keras's tests do.
import { vulkanTestEnv } from '../packages/webgpu/test/gpu-setup.js';

export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, env: vulkanTestEnv() },
});
