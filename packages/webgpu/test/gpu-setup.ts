import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WebGpuBackend } from '../src/index.js';

/**
 * Tests run on a software adapter (lavapipe in Node, SwiftShader in Chromium) where there is no
 * GPU; the backend refuses fallback adapters unless told otherwise. No adapter at all still
 * makes load() throw, which fails every test: never a skip.
 */
export function useSoftwareAdapterInTests(b: WebGpuBackend): void {
  b.configure({ allowFallbackAdapter: true });
}

/** The ICD json of the lavapipe that scripts/setup-lavapipe.sh (the `setup:lavapipe` script) unpacks. */
export const LAVAPIPE_ICD = fileURLToPath(new URL('../.vulkan/lvp_icd.json', import.meta.url));

/**
 * The environment a vitest config gives its tests so that Dawn (npm `webgpu`) finds a Vulkan
 * driver: the pinned lavapipe when it is unpacked, unless VK_ICD_FILENAMES already names a driver
 * (a real GPU's, say), which wins. Used by this package's vitest config and by other packages
 * whose tests run the webgpu backend (@gru/keras).
 */
export function vulkanTestEnv(): Record<string, string> {
  if (process.env.VK_ICD_FILENAMES || !existsSync(LAVAPIPE_ICD)) return {};
  return { VK_ICD_FILENAMES: LAVAPIPE_ICD, NODEVICE_SELECT: '1' };
}
