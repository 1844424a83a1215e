import { GruError, plainCallInfo, referenceForward, type BackwardRequest, type ForwardRequest, type GruSpec } from '@gru/core';
import { fieldsNotReadOnce, shiftyRequest, shiftySpec } from '@gru/conformance/testing';
import { describe, expect, it } from 'vitest';
import { emulatedBackend, maxAbsDiff, rng } from './helpers.js';

/**
 * A request is read once, then checked and laid out for cuDNN from that reading: a getter that
 * answers differently on a later read (a bigger x, another direction or output mode, a shorter
 * gradient) must not reach what was checked.
 */
const [B, T, D, H] = [2, 4, 3, 5];
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float64' };
const r = rng(31);
const weights = {
  kernel: r.uniform(D * 3 * H, 0.6, 'float64'),
  recurrentKernel: r.uniform(H * 3 * H, 0.6, 'float64'),
  bias: r.uniform(6 * H, 0.3, 'float64'),
} as never;
const honest: ForwardRequest = {
  x: r.uniform(B * T * D, 1, 'float64'),
  batch: B,
  timesteps: T,
  initialState: r.uniform(B * H, 0.5, 'float64'),
  mask: new Uint8Array(B * T).fill(1, 0, 4).fill(1, 4, 6),
  goBackwards: false,
  returnSequences: true,
  keepForBackward: true,
};
const LATER: Record<string, Record<string, unknown>> = {
  'a bigger x and initialState': { x: r.uniform(30 * T * D, 1, 'float64'), initialState: r.uniform(30 * H, 0.5, 'float64') },
  'another direction and output mode': { goBackwards: true, returnSequences: false },
};

describe('cuDNN backend: a request is read once', () => {
  it.each(Object.entries(LATER))('forward: each field is read once; %s on a later read change nothing', async (_what, later) => {
    const { backend } = emulatedBackend('cudnn-request-reads');
    const p = await backend.prepare(spec, weights);
    const want = referenceForward(spec, weights, honest);
    const { req, reads } = shiftyRequest(honest, later);
    const got = await p.forward(req);
    expect(got.output.length).toBe(want.output.length);
    expect(maxAbsDiff(got.output, want.output)).toBeLessThan(1e-9);
    expect(maxAbsDiff(got.lastState, want.lastState)).toBeLessThan(1e-9);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    p.dispose();
  });

  it('backward: dOutput and dLastState are read once', async () => {
    const { backend } = emulatedBackend('cudnn-request-reads-backward');
    const p = await backend.prepare(spec, weights);
    const fwd = await p.forward(honest);
    const dOutput = r.uniform(B * T * H, 1, 'float64');
    const dLastState = r.uniform(B * H, 1, 'float64');
    const want = await p.backward(fwd.saved, { dOutput, dLastState });
    const { req, reads } = shiftyRequest<BackwardRequest>({ dOutput, dLastState }, { dOutput: new Float64Array(1), dLastState: new Float64Array(1) });
    const got = await p.backward(fwd.saved, req);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(maxAbsDiff(got.dx, want.dx)).toBe(0);
    expect(maxAbsDiff(got.dInitialState, want.dInitialState)).toBe(0);
    p.dispose();
  });

  for (const when of ['prepare', 'setWeights'] as const) {
    it(`${when}: each weight array is read once; later answers change nothing`, async () => {
      const { backend } = emulatedBackend(`cudnn-weight-reads-${when}`);
      const r2 = rng(32);
      const other = {
        kernel: r2.uniform(D * 3 * H, 0.6, 'float64'),
        recurrentKernel: r2.uniform(H * 3 * H, 0.6, 'float64'),
        bias: r2.uniform(6 * H, 0.3, 'float64'),
      };
      const { req: given, reads } = shiftyRequest(weights as unknown as typeof other, other);
      const p = await backend.prepare(spec, when === 'prepare' ? given : other);
      if (when === 'setWeights') await p.setWeights(given);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      const want = referenceForward(spec, weights, honest);
      const got = await p.forward(honest);
      expect(maxAbsDiff(got.output, want.output)).toBeLessThan(1e-9);
      p.dispose();
    });
  }
});

describe('cuDNN backend: the spec is read once, at prepare', () => {
  it('a spec answering another layer later changes no call', async () => {
    const { backend } = emulatedBackend('cudnn-spec-reads');
    const { spec: shifty, reads } = shiftySpec(spec);
    const p = await backend.prepare(shifty, weights);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(p.spec).toEqual(spec);
    const want = referenceForward(spec, weights, honest);
    const fwd = await p.forward(honest);
    expect(maxAbsDiff(fwd.output, want.output)).toBeLessThan(1e-9);
    const grads = await p.backward!(fwd.saved, { dOutput: new Float64Array(want.output.length).fill(1) });
    expect(grads.dKernel.length).toBe(D * 3 * H);
    await p.setWeights(weights);
    expect(maxAbsDiff((await p.forward(honest)).output, want.output)).toBeLessThan(1e-9);
    p.dispose();
  });

  it('a non-object spec is refused with a clear error', async () => {
    const { backend } = emulatedBackend('cudnn-spec-null');
    await expect(backend.prepare(null as never, weights)).rejects.toThrow(
      /prepare: `spec` must be an object \{units, inputDim, activation, \.\.\.\}; received null/,
    );
  });
});

describe('cuDNN backend: a forward request is checked for types, not only lengths', () => {
  it.each([
    ['a NaN batch', { batch: Number.NaN }, /cudnn forward: `batch` must be a non-negative integer; received number NaN/, 'ValueError'],
    ['a fractional batch', { batch: 1.5 }, /`batch` must be a non-negative integer; received number 1.5/, 'ValueError'],
    ['a string batch', { batch: '2' }, /`batch` must be a non-negative integer; received string "2"/, 'TypeError'],
    ['a negative timesteps', { timesteps: -1 }, /`timesteps` must be a non-negative integer; received number -1/, 'ValueError'],
    [
      'timesteps past 32 bits (no x can match it)',
      { batch: 0 + 1, timesteps: 2 ** 31 },
      /`x` must be a Float32Array or Float64Array of 6442450944 values \(\[batch, timesteps, inputDim\] = \[1, 2147483648, 3\]\); received Float64Array\(24\)/,
      'ValueError',
    ],
    [
      'a plain-array x',
      { x: Array.from({ length: B * T * D }, () => 0) },
      /`x` must be a Float32Array or Float64Array of 24 values .*; received Array\(24\)/,
      'TypeError',
    ],
    [
      'a short x',
      { x: new Float64Array(5) },
      /`x` must be a Float32Array or Float64Array of 24 values \(\[batch, timesteps, inputDim\] = \[2, 4, 3\]\); received Float64Array\(5\)/,
      'ValueError',
    ],
    [
      'a Proxy x',
      { x: new Proxy(new Float64Array(24), {}) },
      /`x` must be a Float32Array or Float64Array of 24 values .*received object that claims to be a Float64Array/,
      'TypeError',
    ],
    [
      'a short initialState',
      { initialState: new Float64Array(3) },
      /`initialState` must be a Float32Array or Float64Array of 10 values \(\[batch, units\] = \[2, 5\]\); received Float64Array\(3\)/,
      'ValueError',
    ],
    ['a plain-array mask', { mask: [1, 1, 1, 1, 1, 1, 1, 1] }, /`mask` must be a Uint8Array of 8 values .*received Array\(8\)/, 'TypeError'],
    ['a non-object request', 7, /`request` must be an object \{x, batch, timesteps, \.\.\.\}; received number 7/, 'TypeError'],
  ])('%s is refused naming the field', async (_what, change, message, type) => {
    const { backend } = emulatedBackend('cudnn-request-types');
    const p = await backend.prepare(spec, weights);
    const req = typeof change === 'object' ? { ...honest, ...change } : change;
    const err = await p.forward(req as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GruError);
    expect((err as GruError).kerasType).toBe(type);
    expect(String(err)).toMatch(message);
    p.dispose();
  });
});

describe('cuDNN backend: weights and backward requests are checked for types, and read before the load', () => {
  it.each([
    ['null weights', null, /`weights` must be an object \{kernel, recurrentKernel, bias\}; received null/, 'TypeError'],
    [
      'a plain-array kernel',
      { ...(weights as object), kernel: Array.from({ length: D * 3 * H }, () => 0) },
      /`weights.kernel` must be a Float32Array or Float64Array of 45 values/,
      'TypeError',
    ],
  ])('prepare and setWeights refuse %s', async (_what, given, message, type) => {
    const { backend } = emulatedBackend('cudnn-weight-types');
    const err = await backend.prepare(spec, given as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GruError);
    expect((err as GruError).kerasType).toBe(type);
    expect(String(err)).toMatch(message);
    const p = await backend.prepare(spec, weights);
    await expect(p.setWeights(given as never)).rejects.toThrow(message);
    p.dispose();
  });

  it('a spec with a NaN units is refused naming it', async () => {
    const { backend } = emulatedBackend('cudnn-spec-nan');
    await expect(backend.prepare({ ...spec, units: Number.NaN }, weights)).rejects.toThrow(
      /cudnn prepare: `spec.units` must be an integer >= 1; received number NaN/,
    );
  });

  it('weights changed while the backend loads are not the ones packed', async () => {
    const { backend } = emulatedBackend('cudnn-weights-load');
    const mine = {
      kernel: (weights as { kernel: Float64Array }).kernel.slice(),
      recurrentKernel: (weights as { recurrentKernel: Float64Array }).recurrentKernel,
      bias: (weights as { bias: Float64Array }).bias,
    };
    const prepared = backend.prepare(spec, mine as never);
    mine.kernel.fill(0);
    const p = await prepared;
    const want = referenceForward(spec, weights, honest);
    expect(maxAbsDiff((await p.forward(honest)).output, want.output)).toBeLessThan(1e-9);
    p.dispose();
  });

  it('a plain-array dOutput is refused naming it', async () => {
    const { backend } = emulatedBackend('cudnn-backward-types');
    const p = await backend.prepare(spec, weights);
    const fwd = await p.forward(honest);
    const n = B * T * H;
    await expect(p.backward!(fwd.saved, { dOutput: Array.from({ length: n }, () => 1) as never })).rejects.toThrow(
      /cudnn backward: `dOutput` must be a Float32Array or Float64Array of 40 values \(\[batch, timesteps, units\] = \[2, 4, 5\]\); received Array\(40\)/,
    );
    const grads = await p.backward!(fwd.saved, { dOutput: new Float64Array(n).fill(1), dLastState: null as never });
    expect(grads.dKernel.length).toBe(D * 3 * H);
    p.dispose();
  });
});

describe('cuDNN backend: supports() on a non-object spec or call', () => {
  it('answers with the reason (was "Cannot read properties of null"), reading the spec once', () => {
    const { backend } = emulatedBackend('cudnn-supports-null');
    expect(backend.supports(null as never, plainCallInfo(1, 1))).toMatch(/`spec` must be an object .*received null/);
    expect(backend.supports(spec, 3 as never)).toMatch(/`call` must be an object .*received number 3/);
    expect(backend.supportsBackward?.(undefined as never)).toMatch(/`spec` must be an object .*received undefined/);
    const { spec: shifty, reads } = shiftySpec(spec);
    expect(backend.supports(shifty, plainCallInfo(1, 1))).toBe(true);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
  });
});
