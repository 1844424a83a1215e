import { describe, expect, it } from 'vitest';
import { emptyCallGradients, emptyForwardResult, isEmptyCall, referenceBackend, type ForwardRequest, type GruSpec } from '../src/index.js';

const spec = (over: Partial<GruSpec> = {}): GruSpec => ({
  units: 2,
  inputDim: 3,
  activation: 'tanh',
  recurrentActivation: 'sigmoid',
  useBias: true,
  resetAfter: true,
  dtype: 'float32',
  ...over,
});

const weightsOf = (s: GruSpec) => ({
  kernel: new (s.dtype === 'float64' ? Float64Array : Float32Array)(s.inputDim * 3 * s.units).fill(0.1),
  recurrentKernel: new (s.dtype === 'float64' ? Float64Array : Float32Array)(s.units * 3 * s.units).fill(0.2),
  bias: s.useBias ? new (s.dtype === 'float64' ? Float64Array : Float32Array)((s.resetAfter ? 6 : 3) * s.units).fill(0.3) : null,
});

describe('the answer of an empty call (no rows or no steps), shared by every backend', () => {
  it('isEmptyCall: batch 0 or timesteps 0', () => {
    expect(isEmptyCall({ batch: 0, timesteps: 3 })).toBe(true);
    expect(isEmptyCall({ batch: 2, timesteps: 0 })).toBe(true);
    expect(isEmptyCall({ batch: 1, timesteps: 1 })).toBe(false);
  });

  it('no steps: lastState (and output without returnSequences) is the initial state, in the spec dtype, fresh arrays', () => {
    const initialState = new Float64Array([1, 2, 3, 4]);
    const r = emptyForwardResult(spec(), { batch: 2, timesteps: 0, returnSequences: false, initialState });
    expect(r.lastState).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(r.output).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(r.output).not.toBe(r.lastState);
    const seq = emptyForwardResult(spec({ dtype: 'float64' }), { batch: 2, timesteps: 0, returnSequences: true });
    expect(seq.output).toEqual(new Float64Array(0));
    expect(seq.lastState).toEqual(new Float64Array(4));
    expect(emptyForwardResult(spec(), { batch: 0, timesteps: 5, returnSequences: true }).output).toEqual(new Float32Array(0));
  });

  it('gradients: dInitialState = dLastState + dOutput (without returnSequences), zeros elsewhere, Keras bias layout', () => {
    const dOutput = new Float32Array([1, 1, 1, 1]);
    const dLastState = new Float32Array([0.5, -1, 2, 0]);
    const g = emptyCallGradients(spec(), { batch: 2, timesteps: 0, returnSequences: false }, { dOutput, dLastState });
    expect(g.dInitialState).toEqual(new Float32Array([1.5, 0, 3, 1]));
    expect(g.dx).toEqual(new Float32Array(0));
    expect(g.dKernel).toEqual(new Float32Array(18));
    expect(g.dRecurrentKernel).toEqual(new Float32Array(12));
    expect(g.dBias).toEqual(new Float32Array(12));
    expect(emptyCallGradients(spec({ resetAfter: false }), { batch: 0, timesteps: 2, returnSequences: true }, { dOutput: new Float32Array(0) }).dBias).toEqual(
      new Float32Array(6),
    );
    expect(emptyCallGradients(spec({ useBias: false }), { batch: 0, timesteps: 2, returnSequences: true }, { dOutput: new Float32Array(0) }).dBias).toBeNull();
    const seq = emptyCallGradients(spec(), { batch: 2, timesteps: 0, returnSequences: true }, { dOutput: new Float32Array(0), dLastState });
    expect(seq.dInitialState).toEqual(dLastState);
    // Passed through as the reference passes it: a -0 stays -0.
    const negZero = emptyCallGradients(
      spec(),
      { batch: 1, timesteps: 0, returnSequences: true },
      { dOutput: new Float32Array(0), dLastState: new Float32Array([-0, 1]) },
    );
    expect(Object.is(negZero.dInitialState[0], -0)).toBe(true);
    expect(emptyCallGradients(spec(), { batch: 0, timesteps: 4, returnSequences: true }, { dOutput: new Float32Array(0), inputGradients: true }).dx).toEqual(
      new Float32Array(0),
    );
    expect(
      emptyCallGradients(spec(), { batch: 1, timesteps: 0, returnSequences: false }, { dOutput: new Float32Array(2), inputGradients: false }).dx.length,
    ).toBe(0);
  });

  it('agrees with the reference backend (the executable spec) on every empty call kind', () => {
    for (const s of [spec(), spec({ resetAfter: false, dtype: 'float64' }), spec({ useBias: false })]) {
      const prepared = referenceBackend.prepareSync!(s, weightsOf(s));
      for (const [batch, timesteps] of [
        [0, 3],
        [2, 0],
      ]) {
        for (const returnSequences of [true, false]) {
          const F = s.dtype === 'float64' ? Float64Array : Float32Array;
          const initialState = batch ? new F([0.1, -0.2, 0.3, 0.4]) : undefined;
          const req: ForwardRequest = {
            x: new F(0),
            batch,
            timesteps,
            goBackwards: true,
            returnSequences,
            initialState,
            mask: new Uint8Array(0),
            keepForBackward: true,
          };
          const want = prepared.forwardSync!(req);
          const got = emptyForwardResult(s, req);
          expect(got.output).toEqual(want.output);
          expect(got.lastState).toEqual(want.lastState);
          const n = batch * 2;
          const back = { dOutput: new F(returnSequences ? 0 : n).fill(0.7), dLastState: new F(n).fill(-0.25) };
          expect(emptyCallGradients(s, req, back)).toEqual(prepared.backwardSync!(want.saved, back));
        }
      }
    }
  });
});
