import { checkForwardRequest, type CheckedForward, type ForwardRequest, GruError, type GruSpec } from '@gru/core';

// cuDNN counts rows and steps in 32-bit integers (the native layer refuses more, but only once
// the call is queued).
export const MAX_COUNT = 2 ** 31 - 1;

/** Either float type is converted to the layer's dtype as it is copied for the device. */
export const ANY_FLOAT = { anyFloat: true } as const;

/**
 * Core's forward check (types and sizes, before anything is copied or sized from the request),
 * plus cuDNN's own limit on the counts.
 */
export function checkCudnnForward(spec: GruSpec, req: ForwardRequest): CheckedForward {
  const counts = checkForwardRequest(spec, req, 'cudnn forward', ANY_FLOAT);
  for (const name of ['batch', 'timesteps'] as const) {
    if (counts[name] > MAX_COUNT) {
      throw new GruError(
        'ValueError',
        `cudnn forward: \`${name}\` must be at most ${MAX_COUNT} (cuDNN counts in 32-bit integers); received number ${counts[name]}.`,
      );
    }
  }
  return counts;
}
