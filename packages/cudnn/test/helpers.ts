import { compareArrays } from '@gru/conformance/testing';
import { backendWith, type CudnnBackend } from '../src/backend.js';
import { resolveOptions } from '../src/options.js';
import { emulatedRuntime, type EmulatedRuntime } from './emulator.js';

// The kit's seeded generator: failures reproduce from the seed, as the conformance kit's do.
export { rng } from '@gru/conformance/testing';

/** The real backend object (supports, packing, sequence mapping) over the emulated device. */
export function emulatedBackend(name = 'cudnn-emulated'): { backend: CudnnBackend; runtime: EmulatedRuntime } {
  const runtime = emulatedRuntime();
  const resolved = resolveOptions({ name }, {});
  return {
    backend: backendWith(
      () => resolved,
      name,
      100,
      async () => runtime,
    ),
    runtime,
  };
}

/** max |a - b| (Infinity when the lengths differ), from the kit's one comparison. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return compareArrays(a, b, { atol: Number.POSITIVE_INFINITY, rtol: 0 }).maxAbsDiff;
}
