// The kit's shared test helpers (one seeded generator, one random case, one tolerance), so a
// failure here reads like a conformance failure and reproduces from its seed.
export {
  assertClose,
  bitwiseEqual,
  heapGrowthDuring,
  makeCase,
  rng,
  streamBoundSteps,
  type CaseOptions,
  type RandomCase as Case,
} from '@gru/conformance/testing';

import type { NativeRequestArgs } from '../src/native.js';

/** The addon's order of a forward request's fields (addon interface 6: arguments, not an object). */
export const NATIVE_REQUEST_FIELDS = [
  'x',
  'batch',
  'timesteps',
  'goBackwards',
  'returnSequences',
  'initialState',
  'mask',
  'inputDropoutMasks',
  'recurrentDropoutMasks',
  'keepForBackward',
] as const;

/** A request object's fields as the addon's arguments, for tests that call the addon directly. */
export function nativeArgs(request: object): NativeRequestArgs {
  const r = request as Record<string, unknown>;
  return NATIVE_REQUEST_FIELDS.map((k) => r[k]) as unknown as NativeRequestArgs;
}
