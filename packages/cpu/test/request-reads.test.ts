import { GruError, plainCallInfo, referenceForward, type BackwardRequest, type BoundForwardRequest, type ForwardRequest } from '@gru/core';
import { fieldsNotReadOnce, shiftyRequest, shiftySpec } from '@gru/conformance/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import { assertClose, makeCase } from './helpers.js';

/**
 * The JS wrapper reads a request once (core's readRequest) and hands the addon that reading: a
 * getter answering differently on a later read changes nothing, on every call path. (The addon
 * itself never reads past what it checked; without the wrapper's reading, a bound call whose
 * getter answered another array was refused as "changed while the call was being bound".)
 */
beforeAll(() => backend.load(), 120_000);

const CASE = { B: 2, T: 3, D: 5, H: 8, mask: true, initialState: true, inputDropout: true, recurrentDropout: true, returnSequences: true };
const honest = makeCase(CASE, 41);
const big = makeCase({ ...CASE, B: 30, T: 7 }, 42).request as unknown as Record<string, unknown>;
const want = referenceForward(honest.spec, honest.weights, honest.request);

describe('cpu: a request is read once', { timeout: 120_000 }, () => {
  for (const mode of ['forwardSync', 'forward'] as const) {
    it(`${mode}: each field is read once, and later answers change nothing`, async () => {
      const p = await backend.prepare(honest.spec, honest.weights);
      const { req, reads } = shiftyRequest<ForwardRequest>(honest.request, big);
      const got = mode === 'forwardSync' ? p.forwardSync!(req) : await p.forward(req);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      assertClose(got.output, want.output, 'output');
      p.dispose();
    });
  }

  it('bindForward: each field is read once at bind time, and the first reading is the one run', async () => {
    const p = await backend.prepare(honest.spec, honest.weights);
    const output = new Float32Array(want.output.length);
    const lastState = new Float32Array(want.lastState.length);
    const { req, reads } = shiftyRequest<BoundForwardRequest>(
      { ...honest.request, output, lastState },
      { ...big, output: new Float32Array(30 * 7 * 8), lastState: new Float32Array(30 * 8) },
    );
    const bound = p.bindForward!(req);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    bound.run();
    assertClose(output, want.output, 'output');
    assertClose(lastState, want.lastState, 'lastState');
    bound.dispose();
    p.dispose();
  });

  it('backward: dOutput, dLastState and inputGradients are read once', async () => {
    const p = await backend.prepare(honest.spec, honest.weights);
    const fwd = p.forwardSync!({ ...honest.request, keepForBackward: true });
    const dOutput = Float32Array.from({ length: want.output.length }, (_, i) => Math.cos(i));
    const dLastState = Float32Array.from({ length: want.lastState.length }, (_, i) => Math.sin(i));
    const expected = p.backwardSync!(fwd.saved, { dOutput, dLastState });
    const { req, reads } = shiftyRequest<BackwardRequest>(
      { dOutput, dLastState, inputGradients: true },
      { dOutput: new Float32Array(1), dLastState: new Float32Array(1), inputGradients: false },
    );
    const got = p.backwardSync!(fwd.saved, req);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(Array.from(got.dx)).toEqual(Array.from(expected.dx));
    expect(Array.from(got.dInitialState)).toEqual(Array.from(expected.dInitialState));
    p.dispose();
  });

  for (const when of ['prepare', 'setWeights'] as const) {
    it(`${when}: each weight array is read once; later answers change nothing`, async () => {
      const other = makeCase(CASE, 43).weights;
      const { req: weights, reads } = shiftyRequest(honest.weights, other);
      const p = await backend.prepare(honest.spec, when === 'prepare' ? weights : other);
      if (when === 'setWeights') p.setWeights(weights);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      assertClose(p.forwardSync!(honest.request).output, want.output, 'output');
      p.dispose();
    });
  }
});

describe('cpu: the spec is read once, at prepare', { timeout: 120_000 }, () => {
  for (const mode of ['prepare', 'prepareSync'] as const) {
    it(`${mode}: a spec answering another layer later changes no call`, async () => {
      const { spec, reads } = shiftySpec(honest.spec);
      const p = mode === 'prepare' ? await backend.prepare(spec, honest.weights) : backend.prepareSync(spec, honest.weights);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      expect(p.spec).toEqual(honest.spec);
      assertClose(p.forwardSync!(honest.request).output, want.output, 'output');
      assertClose((await p.forward(honest.request)).output, want.output, 'output');
      const output = new Float32Array(want.output.length);
      const bound = p.bindForward!({ ...honest.request, output, lastState: new Float32Array(want.lastState.length) });
      bound.run();
      assertClose(output, want.output, 'bound output');
      bound.dispose();
      const fwd = p.forwardSync!({ ...honest.request, keepForBackward: true });
      const grads = p.backwardSync!(fwd.saved, { dOutput: new Float32Array(want.output.length).fill(1) });
      expect(grads.dKernel.length).toBe(honest.weights.kernel.length);
      p.setWeights(honest.weights);
      assertClose(p.forwardSync!(honest.request).output, want.output, 'output after setWeights');
      p.dispose();
    });
  }
});

describe('cpu: a non-object spec or weights is refused with a clear error (was "Cannot read properties of null")', () => {
  it.each([
    [
      'spec null',
      () => backend.prepareSync(null as never, honest.weights),
      /cpu prepare: `spec` must be an object \{units, inputDim, activation, \.\.\.\}; received null/,
    ],
    [
      'weights null',
      () => backend.prepareSync(honest.spec, null as never),
      /cpu prepare: `weights` must be an object \{kernel, recurrentKernel, bias\}; received null/,
    ],
    ['weights a number', () => backend.prepareSync(honest.spec, 3 as never), /cpu prepare: `weights` must be an object .*; received number 3/],
    [
      'setWeights(null)',
      () => {
        const p = backend.prepareSync(honest.spec, honest.weights);
        try {
          p.setWeights(null as never);
        } finally {
          p.dispose();
        }
      },
      /cpu setWeights: `weights` must be an object \{kernel, recurrentKernel, bias\}; received null/,
    ],
  ])('%s', (_what, call, message) => {
    expect(call).toThrow(GruError);
    expect(call).toThrow(message);
    expect(() => call()).toThrow(expect.objectContaining({ kerasType: 'TypeError' }));
  });
});

describe('cpu: core checks requests before the addon (the same words as every backend)', () => {
  it('a Proxy x, a string batch and weights of strings are refused naming them', () => {
    const p = backend.prepareSync(honest.spec, honest.weights);
    try {
      expect(() => p.forwardSync!({ ...honest.request, x: new Proxy(honest.request.x, {}) })).toThrow(
        /cpu forward: `x` must be a Float32Array of \d+ values .*received object that claims to be a Float32Array but is not one/,
      );
      expect(() => p.forwardSync!({ ...honest.request, batch: '2' as never })).toThrow(
        /cpu forward: `batch` must be a non-negative integer; received string "2"/,
      );
      // A plain array became Float32Array.from(...): strings became NaN weights silently.
      const strings = Array.from(honest.weights.kernel, () => 'w');
      expect(() => p.setWeights({ ...honest.weights, kernel: strings as never })).toThrow(
        /cpu setWeights: `weights.kernel` must be a Float32Array or Float64Array of \d+ values .*received Array/,
      );
    } finally {
      p.dispose();
    }
  });

  it('supports() answers a non-object spec or call, and reads the spec once', () => {
    expect(backend.supports(null as never, plainCallInfo(1, 1))).toMatch(/`spec` must be an object .*received null/);
    expect(backend.supports(honest.spec, null as never)).toMatch(/`call` must be an object .*received null/);
    expect(backend.supportsBackward?.(undefined as never)).toMatch(/`spec` must be an object .*received undefined/);
    const { spec: shifty, reads } = shiftySpec(honest.spec);
    expect(backend.supports(shifty, plainCallInfo(1, 1))).toBe(true);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
  });
});
