import type { GruBackend } from '@gru/core';
import { beforeAll, describe, it } from 'vitest';
import { planAgainstReference, type SweepOptions } from './testing/against-reference.js';

/**
 * `@gru/conformance/testing`: one shared kit for backend tests (ours and third parties'): the
 * seeded `rng`, `makeCase` (a random spec, weights and request), the tolerance helpers, and
 * `describeAgainstReference`, seeded random comparisons against the reference backend.
 */
export * from './testing/index.js';
// Node only (node:fs, node:v8), so not in testing/index.ts, which browsers load too.
export { heapGrowthDuring } from './testing/heap-growth.js';
export { launchWebGpuChromium, WEBGPU_CHROMIUM_ARGS, type PersistentContextLauncher, type WebGpuChromium } from './testing/chromium.js';

/**
 * Registers one vitest test per (shape, variant) pair: a seeded random layer and call run on the
 * backend through `forward` and `forwardSync` (where it has one) and compared with the reference
 * backend. The default sweep covers units >= 64, batch >= 16, timesteps >= 200 and sizes that are
 * not multiples of any SIMD width. A call the backend declines is skipped with its reason.
 */
export function describeAgainstReference(backend: GruBackend, options: SweepOptions = {}): void {
  describe(`'${backend.name}' against the reference backend`, () => {
    beforeAll(async () => {
      await backend.load();
    });
    for (const c of planAgainstReference(backend, options)) {
      it(c.name, async (ctx) => {
        const outcome = await c.run();
        if (outcome.status === 'failed') throw new Error(outcome.detail);
        if (outcome.status === 'unsupported') ctx.skip(`declined: ${outcome.detail}`);
      });
    }
  });
}
