import { referenceBackend, type BoundForwardRequest, type PreparedGru } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { bitwiseEqual, makeCase, streamBoundSteps } from '../src/testing.js';

/** The reference layer with a bindForward that runs forwardSync (as core's fallback for streams does). */
function boundReference(c: ReturnType<typeof makeCase>): PreparedGru {
  const prepared = referenceBackend.prepareSync!(c.spec, c.weights);
  const forwardSync = prepared.forwardSync!.bind(prepared);
  return Object.assign(prepared, {
    bindForward({ output, lastState, ...request }: BoundForwardRequest) {
      return {
        run() {
          const r = forwardSync(request);
          output.set(r.output);
          lastState.set(r.lastState);
        },
        dispose() {},
      };
    },
  });
}

describe('streamBoundSteps', () => {
  it('one bound step at a time gives the outputs and last state of one whole-sequence call', () => {
    const [B, T, D, H] = [3, 6, 5, 7];
    const c = makeCase({ B, T, D, H, seed: 4 });
    const prepared = boundReference(c);
    const x = c.request.x as Float32Array;
    const whole = prepared.forwardSync!({ x, batch: B, timesteps: T, goBackwards: false, returnSequences: true });
    const { outputs, lastState } = streamBoundSteps(prepared, x, { batch: B, timesteps: T, inputDim: D, units: H });
    expect(bitwiseEqual(outputs, whole.output)).toBe(true);
    expect(bitwiseEqual(lastState, whole.lastState)).toBe(true);
  });

  it('names what is wrong with its arguments', () => {
    const c = makeCase({ B: 1, T: 2, D: 3, H: 4, seed: 1 });
    const plain = referenceBackend.prepareSync!(c.spec, c.weights);
    const shape = { batch: 1, timesteps: 2, inputDim: 3, units: 4 };
    expect(() => streamBoundSteps({ ...plain, bindForward: undefined }, new Float32Array(6), shape)).toThrow(/has no bindForward/);
    expect(() => streamBoundSteps(boundReference(c), new Float32Array(5), shape)).toThrow(/x must have batch \* timesteps \* inputDim = 6 values; received 5/);
  });
});

describe('bitwiseEqual', () => {
  it('compares bits: the sign of zero, NaN and the array type count', () => {
    expect(bitwiseEqual(Float32Array.of(1, Number.NaN), Float32Array.of(1, Number.NaN))).toBe(true);
    expect(bitwiseEqual(Float32Array.of(0), Float32Array.of(-0))).toBe(false);
    expect(bitwiseEqual(Float32Array.of(1), Float64Array.of(1))).toBe(false);
    expect(bitwiseEqual(Float32Array.of(1, 2), Float32Array.of(1))).toBe(false);
    const big = new Float32Array(8).fill(3);
    expect(bitwiseEqual(big.subarray(2, 5), Float32Array.of(3, 3, 3))).toBe(true);
  });
});
