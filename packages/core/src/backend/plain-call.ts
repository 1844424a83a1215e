import type { GruCallInfo } from './types.js';

/**
 * The call info of the plainest call of a given size: no mask, no initial state, forwards, last
 * output only, no dropout, inference, no backward, not unrolled. For backend authors' tests of
 * `supports()`: spread it and override only what the test is about, e.g.
 * `backend.supports(spec, { ...plainCallInfo(2, 3), mask: 'any' })`, so that a field added to
 * `GruCallInfo` later reaches every test with its plain value.
 */
export function plainCallInfo(batch: number, timesteps: number): GruCallInfo {
  return {
    batch,
    timesteps,
    mask: 'none',
    initialState: false,
    goBackwards: false,
    returnSequences: false,
    inputDropoutPerGate: false,
    recurrentDropout: false,
    recurrentDropoutRate: 0,
    training: false,
    backward: false,
    unroll: false,
  };
}
