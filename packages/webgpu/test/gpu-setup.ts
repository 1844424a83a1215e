import type { WebGpuBackend } from '../src/index.js';

/**
 * Tests run on a software adapter (lavapipe in Node, SwiftShader in Chromium) where there is no
 * GPU; the backend refuses fallback adapters unless told otherwise. No adapter at all still
 * makes load() throw, which fails every test: never a skip.
 */
export function useSoftwareAdapterInTests(b: WebGpuBackend): void {
  b.configure({ allowFallbackAdapter: true });
}
