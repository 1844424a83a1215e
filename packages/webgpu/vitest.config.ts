import { defineConfig } from 'vitest/config';
import { vulkanTestEnv } from './test/gpu-setup.js';

// Dawn (npm `webgpu`) needs a Vulkan driver; on machines without a GPU the tests use the lavapipe
// that scripts/setup-lavapipe.sh (run by `pnpm test`) unpacks in .vulkan/. An explicit
// VK_ICD_FILENAMES wins (a real GPU's driver, say).
const env = vulkanTestEnv();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    env,
    // Each file gets its own process: Dawn instances are per process, and a file that destroys
    // its device on purpose must not affect another.
    pool: 'forks',
    // test/backend.test.ts forces garbage collection to check the finalizer frees GPU memory.
    execArgv: ['--expose-gc'],
  },
});
