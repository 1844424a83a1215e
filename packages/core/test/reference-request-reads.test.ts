import { describe, expect, it } from 'vitest';
import { referenceBackend, referenceForward, type BackwardRequest, type ForwardRequest } from '../src/index.js';
// The kit's helpers, from source (core cannot depend on @gru/conformance, which depends on it).
import { makeCase } from '../../../conformance/src/testing/make-case.js';
import { fieldsNotReadOnce, shiftyRequest, shiftySpec } from '../../../conformance/src/testing/shifty-request.js';

/**
 * The reference backend reads a request once, then checks and uses only that copy: a getter that
 * answers a bigger batch (and arrays to match) on a later read must not size the outputs or be
 * read past what was checked.
 */
const CASE = { B: 2, T: 3, D: 4, H: 5, mask: true, initialState: true, inputDropout: true, recurrentDropout: true, returnSequences: true };
const honest = makeCase(CASE, 21);
const big = makeCase({ ...CASE, B: 30, T: 7 }, 22).request as unknown as Record<string, unknown>;

describe('reference backend: a request is read once', () => {
  for (const mode of ['forwardSync', 'forward'] as const) {
    it(`${mode}: each field is read once, and later answers change nothing`, async () => {
      const want = referenceForward(honest.spec, honest.weights, honest.request);
      const p = referenceBackend.prepareSync!(honest.spec, honest.weights);
      const { req, reads } = shiftyRequest(honest.request, big);
      const got = mode === 'forwardSync' ? p.forwardSync!(req) : await p.forward(req);
      expect(got.output.length).toBe(want.output.length);
      expect(Array.from(got.output)).toEqual(Array.from(want.output));
      expect(Array.from(got.lastState)).toEqual(Array.from(want.lastState));
      expect(fieldsNotReadOnce(reads)).toEqual([]);
    });
  }

  it('backwardSync: dOutput and dLastState are read once; a shorter dOutput on a later read changes nothing', () => {
    const p = referenceBackend.prepareSync!(honest.spec, honest.weights);
    const fwd = p.forwardSync!({ ...honest.request, keepForBackward: true });
    const B = CASE.B;
    const dOutput = Float32Array.from({ length: B * CASE.T * CASE.H }, (_, i) => Math.cos(i));
    const dLastState = Float32Array.from({ length: B * CASE.H }, (_, i) => Math.sin(i));
    const want = p.backwardSync!(fwd.saved, { dOutput, dLastState });
    const { req, reads } = shiftyRequest<BackwardRequest>(
      { dOutput, dLastState, inputGradients: true },
      { dOutput: new Float32Array(1), dLastState: undefined, inputGradients: false },
    );
    const got = p.backwardSync!(fwd.saved, req);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(Array.from(got.dx)).toEqual(Array.from(want.dx));
    expect(Array.from(got.dKernel)).toEqual(Array.from(want.dKernel));
    expect(Array.from(got.dInitialState)).toEqual(Array.from(want.dInitialState));
  });

  it('referenceForward itself reads each field once (it is the oracle other tests compare with)', () => {
    const want = referenceForward(honest.spec, honest.weights, honest.request);
    const { req, reads } = shiftyRequest<ForwardRequest>(honest.request, big);
    const got = referenceForward(honest.spec, honest.weights, req);
    expect(Array.from(got.output)).toEqual(Array.from(want.output));
    expect(fieldsNotReadOnce(reads)).toEqual([]);
  });
});

describe('reference backend: a backward request is checked against the kept call', () => {
  const p = referenceBackend.prepareSync!(honest.spec, honest.weights);
  const fwd = p.forwardSync!({ ...honest.request, keepForBackward: true });
  const n = CASE.B * CASE.T * CASE.H;
  it.each([
    [
      'a short dOutput',
      { dOutput: new Float32Array(1) },
      /`dOutput` must be a Float32Array or Float64Array of 30 values \(\[batch, timesteps, units\] = \[2, 3, 5\]\); received Float32Array\(1\)/,
    ],
    ['a plain-array dOutput', { dOutput: [1, 2] }, /`dOutput` must be a Float32Array or Float64Array of 30 values .*received Array\(2\)/],
    ['no dOutput', {}, /`dOutput` must be a Float32Array or Float64Array .*received undefined/],
    [
      'a short dLastState',
      { dOutput: new Float32Array(n), dLastState: new Float32Array(3) },
      /`dLastState` must be a Float32Array or Float64Array of 10 values .*received Float32Array\(3\)/,
    ],
    ['a non-boolean inputGradients', { dOutput: new Float32Array(n), inputGradients: 'no' }, /`inputGradients` must be a boolean; received string "no"/],
    ['a non-object', 7, /reference backward: `request` must be an object \{dOutput, dLastState\?, inputGradients\?\}; received number 7/],
  ])('%s is refused with a clear error (was NaN gradients or a TypeError)', (_what, request, message) => {
    expect(() => p.backwardSync!(fwd.saved, request as never)).toThrow(message);
  });
});

describe('reference backend: weights are read once', () => {
  const other = makeCase(CASE, 23).weights;
  const want = referenceForward(honest.spec, honest.weights, honest.request);

  it('prepare: each of kernel, recurrentKernel and bias is read once; later answers change nothing', () => {
    const { req: weights, reads } = shiftyRequest(honest.weights, other);
    const p = referenceBackend.prepareSync!(honest.spec, weights);
    const got = p.forwardSync!(honest.request);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(Array.from(got.output)).toEqual(Array.from(want.output));
  });

  it('setWeights: the same', () => {
    const p = referenceBackend.prepareSync!(honest.spec, other);
    const { req: weights, reads } = shiftyRequest(honest.weights, other);
    p.setWeights(weights);
    const got = p.forwardSync!(honest.request);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(Array.from(got.output)).toEqual(Array.from(want.output));
  });
});

describe('reference backend: what a request reads before its check', () => {
  const p = referenceBackend.prepareSync!(honest.spec, honest.weights);

  it('a dropout mask list of the wrong length is refused with its count, without walking it', () => {
    // A list of 5e7 holes was copied element by element (~9 s) before the check refused it.
    let elementReads = 0;
    const masks = new Proxy(new Array(5e7), {
      get: (t, k) => {
        if (typeof k === 'string' && /^\d+$/.test(k)) elementReads++;
        return Reflect.get(t, k);
      },
    });
    expect(() => p.forwardSync!({ ...honest.request, inputDropoutMasks: masks as never })).toThrow(
      /`inputDropoutMasks` must be an array of 3 masks \(gates z, r, h\); received Array\(50000000\)/,
    );
    expect(elementReads).toBe(0);
    const lying = new Proxy([] as unknown[], { get: (t, k) => (k === 'length' ? 2 ** 33 : Reflect.get(t, k)) });
    expect(() => p.forwardSync!({ ...honest.request, recurrentDropoutMasks: lying as never })).toThrow(/`recurrentDropoutMasks` must be an array of 3 masks/);
  });

  it('dLastState: null is no gradient, as undefined is (every backend reads it so)', () => {
    const fwd = p.forwardSync!({ ...honest.request, keepForBackward: true });
    const dOutput = Float32Array.from({ length: CASE.B * CASE.T * CASE.H }, (_, i) => Math.cos(i));
    const without = p.backwardSync!(fwd.saved, { dOutput });
    const withNull = p.backwardSync!(fwd.saved, { dOutput, dLastState: null as never });
    expect(Array.from(withNull.dKernel)).toEqual(Array.from(without.dKernel));
    expect(Array.from(withNull.dInitialState)).toEqual(Array.from(without.dInitialState));
  });
});

describe('reference backend: the spec is read once, at prepare', () => {
  const want = referenceForward(honest.spec, honest.weights, honest.request);

  it('a spec answering another layer after prepare changes nothing in later calls', () => {
    const { spec, reads } = shiftySpec(honest.spec);
    const p = referenceBackend.prepareSync!(spec, honest.weights);
    const got = p.forwardSync!(honest.request);
    const fwd = p.forwardSync!({ ...honest.request, keepForBackward: true });
    const dOutput = new Float32Array(want.output.length).fill(1);
    const grads = p.backwardSync!(fwd.saved, { dOutput });
    p.setWeights(honest.weights);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(Array.from(got.output)).toEqual(Array.from(want.output));
    expect(grads.dKernel.length).toBe(honest.weights.kernel.length);
    expect(p.spec).toEqual(honest.spec);
  });

  it('a non-object spec is refused with a clear error', () => {
    expect(() => referenceBackend.prepareSync!(null as never, honest.weights)).toThrow(
      /reference prepare: `spec` must be an object \{units, inputDim, activation, \.\.\.\}; received null/,
    );
  });
});
