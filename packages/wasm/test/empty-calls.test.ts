import { referenceBackend, type ForwardRequest, type GruSpec, type GruWeights, type PreparedGru } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, createWasmBackend } from '../src/index.js';

/**
 * Calls with no steps (and no rows) are answered as every backend answers them (core's
 * emptyForwardResult / emptyCallGradients): the initial state passes through. wasm refused
 * timesteps 0 ("must be a positive integer") where the others answered.
 */
const H = 3;
const D = 2;
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: false, dtype: 'float32' };
const weights: GruWeights = {
  kernel: Float32Array.from({ length: D * 3 * H }, (_, i) => Math.sin(i) * 0.4),
  recurrentKernel: Float32Array.from({ length: H * 3 * H }, (_, i) => Math.cos(i) * 0.3),
  bias: Float32Array.from({ length: 3 * H }, (_, i) => 0.1 * i),
};
const h0 = new Float32Array([0.5, -0.25, 1, 2, -3, 0.125]);

/** No steps for 2 rows, with every option that has nothing to act on. */
const variants: { name: string; request: ForwardRequest }[] = [
  { name: 'plain, sequences', request: { x: new Float32Array(0), batch: 2, timesteps: 0, goBackwards: false, returnSequences: true } },
  {
    name: 'initial state, last output',
    request: { x: new Float32Array(0), batch: 2, timesteps: 0, goBackwards: false, returnSequences: false, initialState: h0 },
  },
  {
    name: 'goBackwards, mask, initial state (float64 copy)',
    request: {
      x: new Float64Array(0),
      batch: 2,
      timesteps: 0,
      goBackwards: true,
      returnSequences: false,
      initialState: Float64Array.from(h0),
      mask: new Uint8Array(0),
    },
  },
  { name: 'no rows', request: { x: new Float32Array(0), batch: 0, timesteps: 4, goBackwards: true, returnSequences: true, mask: new Uint8Array(0) } },
];

/** The request as the reference backend takes it (float32 arrays for a float32 layer). */
const asFloat32 = (r: ForwardRequest): ForwardRequest => ({
  ...r,
  x: Float32Array.from(r.x),
  ...(r.initialState ? { initialState: Float32Array.from(r.initialState) } : {}),
});
const want = (request: ForwardRequest) => referenceBackend.prepareSync!(spec, weights).forwardSync!(asFloat32(request));
const threaded = createWasmBackend({ name: 'wasm-empty-threads', threads: 2 });

beforeAll(async () => {
  await backend.load();
  await threaded.load();
});
afterAll(() => threaded.dispose?.());

describe.each([
  ['one thread', () => backend.prepareSync(spec, weights)],
  ['two threads', () => threaded.prepareSync(spec, weights)],
] as const)('wasm answers calls with no steps (%s)', (_, prepare) => {
  let p: PreparedGru;
  beforeAll(() => {
    p = prepare();
  });
  afterAll(() => p.dispose());

  it.each(variants)('forward and forwardSync: $name', async ({ request }) => {
    const expected = want(request);
    for (const got of [p.forwardSync!(request), await p.forward(request)]) {
      expect(got.output).toEqual(expected.output);
      expect(got.lastState).toEqual(expected.lastState);
    }
  });

  it.each(variants)('bindForward, run twice, the initial state read at each run: $name', ({ request }) => {
    const expected = want(request);
    const output = new Float32Array(expected.output.length).fill(Number.NaN);
    const lastState = new Float32Array(expected.lastState.length).fill(Number.NaN);
    const bound = p.bindForward!({ ...request, output, lastState, initialState: request.initialState?.slice() });
    const bindsState = request.initialState !== undefined;
    try {
      bound.run();
      expect(output).toEqual(expected.output);
      expect(lastState).toEqual(expected.lastState);
      bound.run();
      expect(lastState).toEqual(expected.lastState);
    } finally {
      bound.dispose();
    }
    if (bindsState) {
      const state = Float32Array.from(h0);
      const again = p.bindForward!({ ...request, x: new Float32Array(0), output, lastState, initialState: state });
      state[0] = 42;
      again.run();
      expect(lastState[0]).toBe(42);
      again.dispose();
    }
  });

  it.each(variants)('keepForBackward then backward: $name', async ({ request }) => {
    const ref = referenceBackend.prepareSync!(spec, weights);
    const kept = ref.forwardSync!({ ...asFloat32(request), keepForBackward: true });
    const got = p.forwardSync!({ ...request, keepForBackward: true });
    expect(got.lastState).toEqual(kept.lastState);
    const n = request.batch * H;
    const back = {
      dOutput: Float32Array.from({ length: got.output.length }, (_, i) => i + 1),
      dLastState: Float32Array.from({ length: n }, (_, i) => -0.5 * i),
    };
    const expected = ref.backwardSync!(kept.saved, back);
    expect(p.backwardSync!(got.saved, back)).toEqual(expected);
    const noDx = p.backwardSync!(got.saved, { dOutput: back.dOutput, inputGradients: false });
    expect(noDx.dx.length).toBe(0);
    expect(noDx.dInitialState).toEqual(ref.backwardSync!(kept.saved, { dOutput: back.dOutput }).dInitialState);
    // The async path, on a new kept call (a layer keeps its last one).
    expect(await p.backward!((await p.forward({ ...request, keepForBackward: true })).saved, back)).toEqual(expected);
  });
});

describe('wasm: calls with no steps never reach the worker threads', () => {
  // Eager: every call with a step to share would go to the pool (40 units: two unit groups).
  const eager = createWasmBackend({ name: 'wasm-empty-eager', threads: 2, syncBelowMacs: 0, minStepMacsPerThread: 0 });
  const wide: GruSpec = { ...spec, units: 40, resetAfter: true };
  const wideWeights: GruWeights = {
    kernel: Float32Array.from({ length: D * 120 }, (_, i) => Math.sin(i) * 0.1),
    recurrentKernel: Float32Array.from({ length: 40 * 120 }, (_, i) => Math.cos(i) * 0.1),
    bias: Float32Array.from({ length: 240 }, (_, i) => 0.01 * i),
  };
  beforeAll(() => eager.load());
  afterAll(() => eager.dispose?.());

  it('forward with timesteps 0 answers the initial state, also kept for backward', async () => {
    const p = eager.prepareSync(wide, wideWeights);
    const initialState = Float32Array.from({ length: 80 }, (_, i) => i / 7);
    const request: ForwardRequest = { x: new Float32Array(0), batch: 2, timesteps: 0, goBackwards: false, returnSequences: false, initialState };
    const expected = referenceBackend.prepareSync!(wide, wideWeights).forwardSync!(request);
    for (const keepForBackward of [false, true]) {
      const got = await p.forward({ ...request, keepForBackward });
      expect(got.lastState).toEqual(expected.lastState);
      expect(got.output).toEqual(expected.output);
      if (keepForBackward) {
        const g = await p.backward!(got.saved, { dOutput: new Float32Array(80).fill(1) });
        expect(g.dInitialState).toEqual(new Float32Array(80).fill(1));
      }
    }
    p.dispose();
  });
});
