import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  GRU,
  registerBackend,
  unregisterBackend,
  type BackwardOptions,
  type BackwardRequest,
  type GruBackend,
  type GruGradients,
  type Tensor,
} from '../src/index.js';
import { wrappedReference } from './helpers/wrapped-reference.js';

// backward(..., {inputGradients: false}): the result's inputs is null, every other gradient is
// bitwise what a full backward gives, and the backend is told so it can skip the dx GEMM.

function bitwise(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));
}

/** The reference backend, recording each backward request and answering with `answer`. */
function recording(name: string, answer: (g: GruGradients, r: BackwardRequest) => GruGradients, seen: BackwardRequest[]): GruBackend {
  return wrappedReference(name, { backward: (g, r) => (seen.push(r), answer(g, r)) });
}

const B = 3,
  T = 5,
  D = 4,
  H = 3;
const xData = Array.from({ length: B * T * D }, (_, i) => Math.sin(i * 1.3));
const maskData = [
  [1, 1, 0, 1, 1],
  [1, 0, 0, 1, 0],
  [1, 1, 1, 1, 1],
];

describe('backward with inputGradients: false', () => {
  const configs = [
    { name: 'defaults', layer: {}, call: {} },
    { name: 'mask, goBackwards, returnSequences, timeMajor', layer: { goBackwards: true, returnSequences: true, timeMajor: true }, call: { mask: true } },
    { name: 'shared input dropout, recurrent dropout, resetAfter false', layer: { dropout: 0.3, recurrentDropout: 0.25, resetAfter: false }, call: {} },
    { name: 'per-gate input dropout (implementation 1)', layer: { dropout: 0.4, implementation: 1 as const, returnState: true }, call: {} },
    {
      name: 'regularization (activity on output and state, weights)',
      layer: { kernelRegularizer: 'l2', recurrentRegularizer: 'l1', biasRegularizer: 'l2', activityRegularizer: 'l1', returnState: true },
      call: { includeRegularization: true },
    },
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    for (const { name, layer, call } of configs) {
      it(`${dtype}, ${name}: inputs null, the other gradients bitwise those of a full backward`, async () => {
        const gru = new GRU({ units: H, seed: 7, dtype, ...layer });
        const timeMajor = (layer as { timeMajor?: boolean }).timeMajor === true;
        const x = { shape: timeMajor ? [T, B, D] : [B, T, D], data: xData };
        const wantMask = (call as { mask?: boolean }).mask === true;
        const mask = !wantMask ? undefined : timeMajor ? maskData[0].map((_, t) => maskData.map((row) => row[t])) : maskData;
        const r = await gru.forward(x, { training: true, mask });
        const dOutput = { shape: r.output.shape, data: Array.from(r.output.data, (_, i) => Math.cos(i)) };
        const dState = r.state ? { shape: r.state.shape, data: Array.from(r.state.data, (_, i) => 0.5 - i / 10) } : null;
        const reg = { includeRegularization: (call as { includeRegularization?: boolean }).includeRegularization === true };
        const full = await gru.backward(dOutput, dState, reg);
        const skipped = await gru.backward(dOutput, dState, { ...reg, inputGradients: false });
        expect(full.inputs).not.toBeNull();
        expect(skipped.inputs).toBeNull();
        for (const k of ['kernel', 'recurrentKernel', 'bias'] as const) expect(bitwise(skipped[k]!.data, full[k]!.data), k).toBe(true);
        expect(skipped.initialState).toEqual(full.initialState);
        const sync = gru.backwardSync(dOutput, dState, { ...reg, inputGradients: false });
        expect(sync.inputs).toBeNull();
        expect(bitwise(sync.kernel.data, full.kernel.data)).toBe(true);
      });
    }
  }

  it('the reference backend skips dx (empty) and gives the same weight gradients', async () => {
    const seen: BackwardRequest[] = [];
    const dxLengths: number[] = [];
    const b = recording('ig-record', (g) => (dxLengths.push(g.dx.length), g), seen);
    registerBackend(b);
    try {
      const gru = new GRU({ units: H, backend: 'ig-record', seed: 3, returnSequences: true });
      const r = await gru.forward({ shape: [B, T, D], data: xData }, { training: true });
      const d = { shape: r.output.shape, data: new Float32Array(r.output.data.length).fill(0.5) };
      await gru.backward(d);
      await gru.backward(d, null, { inputGradients: false });
      await gru.backward(d, null, { inputGradients: true });
      expect(seen.map((s) => s.inputGradients)).toEqual([undefined, false, undefined]);
      expect(dxLengths).toEqual([B * T * D, 0, B * T * D]);
    } finally {
      unregisterBackend('ig-record');
    }
  });

  it('a backend that ignores the flag (returns the full dx) still works: core drops dx', async () => {
    const seen: BackwardRequest[] = [];
    const full = (g: GruGradients) => ({ ...g, dx: g.dx.length ? g.dx : new Float32Array(B * T * D).fill(Number.NaN) });
    const b = recording('ig-ignores', full, seen);
    registerBackend(b);
    try {
      const gru = new GRU({ units: H, backend: 'ig-ignores', seed: 3 });
      const r = await gru.forward({ shape: [B, T, D], data: xData }, { training: true });
      const g = await gru.backward({ shape: r.output.shape, data: new Float32Array(B * H).fill(1) }, null, { inputGradients: false });
      expect(g.inputs).toBeNull();
      expect(g.kernel.data.every(Number.isFinite)).toBe(true);
    } finally {
      unregisterBackend('ig-ignores');
    }
  });

  it('a backend that returns an empty dx although asked for it is named in the error', async () => {
    const b = recording('ig-empty', (g) => ({ ...g, dx: new Float32Array(0) }), []);
    registerBackend(b);
    try {
      const gru = new GRU({ units: H, backend: 'ig-empty', seed: 3 });
      const r = await gru.forward({ shape: [B, T, D], data: xData }, { training: true });
      await expect(gru.backward({ shape: r.output.shape, data: new Float32Array(B * H) })).rejects.toThrow(
        "Backend 'ig-empty' returned an invalid backward result: `dx` must be a Float32Array of 60 values ([batch 3, timesteps 5, inputDim 4]) for a float32 layer; received a Float32Array of 0.",
      );
    } finally {
      unregisterBackend('ig-empty');
    }
  });

  it('refuses a dState where the layer returns no state (returnState: false) instead of changing every gradient', async () => {
    const gru = new GRU({ units: H, seed: 3 });
    const r = await gru.forward({ shape: [B, T, D], data: xData }, { training: true });
    const dOutput = { shape: r.output.shape, data: new Float32Array(B * H).fill(1) };
    await expect(gru.backward(dOutput, { shape: [B, H], data: new Float32Array(B * H).fill(1) })).rejects.toThrow(
      /^Argument `dState` must be left out \(or null\): layer '[^']+' has returnState: false, so its call returned no state to take a gradient for; received one of shape \(3, 3\)\.$/,
    );
    // Left out or null, it runs as before.
    const plain = await gru.backward(dOutput);
    expect(Array.from((await gru.backward(dOutput, null)).kernel.data)).toEqual(Array.from(plain.kernel.data));
  });

  it('refuses a non-boolean inputGradients, naming it', async () => {
    const gru = new GRU({ units: H, seed: 3 });
    const r = await gru.forward({ shape: [B, T, D], data: xData }, { training: true });
    const d = { shape: r.output.shape, data: new Float32Array(B * H) };
    await expect(gru.backward(d, null, { inputGradients: 'no' as unknown as boolean })).rejects.toThrow(
      'Argument `options.inputGradients` of backward() must be a boolean, received "no".',
    );
    // null is not true (the option's type is boolean), and a cyclic object is described, not stringified.
    expect(() => gru.backwardSync(d, null, { inputGradients: null as unknown as boolean })).toThrow(
      'Argument `options.inputGradients` of backward() must be a boolean, received null.',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => gru.backwardSync(d, null, { inputGradients: cyclic as unknown as boolean })).toThrow(
      'Argument `options.inputGradients` of backward() must be a boolean, received an object (Object).',
    );
    // A misspelt option would silently leave the regularization out: refused by name (and by the types).
    expect(() =>
      // @ts-expect-error: not an option of backward()
      gru.backwardSync(d, null, { inputGradients: false, includeRegularisation: true }),
    ).toThrow("Unrecognized option passed to backward(): 'includeRegularisation'; it knows 'includeRegularization', 'inputGradients'.");
    expect(() => gru.backwardSync(d, null, 'no' as never)).toThrow(
      'Argument `options` of backward() must be an object such as {inputGradients: false}, received "no".',
    );
  });

  it('types inputs as null, a Tensor, or either, from the options', async () => {
    const gru = new GRU({ units: H, seed: 3 });
    const r = await gru.forward({ shape: [B, T, D], data: xData }, { training: true });
    const d = { shape: r.output.shape, data: new Float32Array(B * H) };
    expectTypeOf((await gru.backward(d)).inputs).toEqualTypeOf<Tensor<Float32Array>>();
    expectTypeOf((await gru.backward(d, null, { includeRegularization: true })).inputs).toEqualTypeOf<Tensor<Float32Array>>();
    expectTypeOf((await gru.backward(d, null, { inputGradients: true })).inputs).toEqualTypeOf<Tensor<Float32Array>>();
    expectTypeOf((await gru.backward(d, null, { inputGradients: false })).inputs).toEqualTypeOf<null>();
    expectTypeOf(gru.backwardSync(d, null, { inputGradients: false }).inputs).toEqualTypeOf<null>();
    const opts: BackwardOptions = { inputGradients: Math.random() < 2 };
    const either = await gru.backward(d, null, opts);
    expectTypeOf(either.inputs).toEqualTypeOf<Tensor<Float32Array> | null>();
    expect(either.inputs).not.toBeNull();
    // A union of option types is typed member by member: either may skip dx.
    type Skips = { inputGradients: false };
    type Regularizes = { includeRegularization: true };
    const union = (Math.random() < 2 ? { inputGradients: false } : { includeRegularization: true }) as Skips | Regularizes;
    const fromUnion = await gru.backward(d, null, union);
    expectTypeOf(fromUnion.inputs).toEqualTypeOf<Tensor<Float32Array> | null>();
    expect(fromUnion.inputs).toBeNull();
  });
});
