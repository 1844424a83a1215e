import { GRU, referenceBackward, referenceForward, registerBackend, unregisterBackend, type ForwardRequest, type GruGradients, type GruSpec } from '@gru/core';
import { afterAll, describe, expect, it } from 'vitest';
import { WGSL_ACTIVATIONS } from '../src/activations-wgsl.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import type { WebGpuPrepared } from '../src/prepared.js';
import { rng } from '@gru/conformance/testing';
import { makeRequest, makeSpec, makeWeights } from './helpers.js';

// Backpropagation through time on the GPU against core's referenceBackward (float64 arithmetic).
// float32 sums over every step and row differ from float64 by ~1e-6 of the largest gradient, so
// the absolute tolerance scales with it (the same rule as the cpu backend's backward tests).
const KEYS = ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const;

function compare(got: GruGradients, want: GruGradients, where: string): void {
  for (const k of KEYS) {
    const w = want[k];
    const g = got[k];
    if (!w) {
      expect(g, `${where}: ${k}`).toBeNull();
      continue;
    }
    expect(g, `${where}: ${k}`).not.toBeNull();
    expect(g!.length, `${where}: ${k} length`).toBe(w.length);
    let scale = 0;
    for (const v of w) scale = Math.max(scale, Math.abs(v));
    const atol = 1e-5 * (1 + scale);
    let worst = -1;
    let worstRatio = 1;
    for (let i = 0; i < w.length; i++) {
      const ratio = Math.abs(g![i] - w[i]) / (atol + 1e-4 * Math.abs(w[i]));
      if (!(ratio <= worstRatio)) {
        worst = i;
        worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
      }
    }
    if (worst >= 0) expect.fail(`${where}: ${k}[${worst}] is ${g![worst]}, reference ${w[worst]} (${worstRatio.toFixed(2)}x the tolerance)`);
  }
}

const backends: Record<string, WebGpuBackend> = {
  fused: createWebGpuBackend({ name: 'webgpu-bwd-fused', recurrence: 'fused', allowFallbackAdapter: true }),
  stepwise: createWebGpuBackend({ name: 'webgpu-bwd-stepwise', recurrence: 'stepwise', allowFallbackAdapter: true }),
};
afterAll(() => {
  for (const b of Object.values(backends)) b.dispose();
});

type Options = Parameters<typeof makeRequest>[2];

async function check(backend: WebGpuBackend, spec: GruSpec, o: Options, seed: number, withState = true, xScale = 1): Promise<void> {
  const weights = makeWeights(spec, seed);
  const base = makeRequest(spec, seed + 1, o);
  const req: ForwardRequest = { ...base, x: base.x.map((v) => v * xScale), keepForBackward: true };
  const r = rng(seed + 2);
  const { batch: B, timesteps: T } = o;
  const H = spec.units;
  const dOutput = r.uniform(req.returnSequences ? B * T * H : B * H);
  const request = withState ? { dOutput, dLastState: r.uniform(B * H) } : { dOutput };
  const ref = referenceForward(spec, weights, req);
  const want = referenceBackward(spec, ref.saved!, request);
  const prepared = await backend.prepare(spec, weights);
  try {
    const fwd = await prepared.forward(req);
    expect(fwd.saved).toBeDefined();
    // Keeping for backward must not change the forward results.
    expect(fwd.output.length).toBe(ref.output.length);
    const got = await prepared.backward!(fwd.saved, request);
    // Both backward recurrences are held to the reference: each follows its backend's recurrence option.
    if (B > 0 && T > 0) expect((prepared as WebGpuPrepared).lastBackwardPath).toBe(backend === backends.stepwise ? 'stepwise' : 'fused');
    compare(got, want, `${backend.name} ${JSON.stringify({ ...o, ...spec })}`);
  } finally {
    prepared.dispose();
  }
}

const sweep: Array<[Partial<GruSpec> & Pick<GruSpec, 'units' | 'inputDim'>, Options]> = [
  [
    { units: 1, inputDim: 1 },
    { batch: 1, timesteps: 1 },
  ],
  [
    { units: 17, inputDim: 7 },
    { batch: 3, timesteps: 6, initialState: true },
  ],
  [
    { units: 33, inputDim: 3, resetAfter: false },
    { batch: 9, timesteps: 5, mask: true, goBackwards: true },
  ],
  [
    { units: 40, inputDim: 20 },
    { batch: 2, timesteps: 12, returnSequences: false, mask: true },
  ],
  [
    { units: 20, inputDim: 6, useBias: false, activation: 'relu', recurrentActivation: 'hard_sigmoid' },
    { batch: 17, timesteps: 3 },
  ],
  [
    { units: 24, inputDim: 9 },
    { batch: 5, timesteps: 7, inputDropout: true, recurrentDropout: true, initialState: true, goBackwards: true },
  ],
  [
    { units: 24, inputDim: 9, resetAfter: false },
    { batch: 5, timesteps: 7, inputDropout: true, recurrentDropout: true, mask: true },
  ],
  [
    { units: 10, inputDim: 6, resetAfter: false, useBias: false },
    { batch: 4, timesteps: 5, returnSequences: false, initialState: true, recurrentDropout: true },
  ],
  [
    { units: 70, inputDim: 5 },
    { batch: 3, timesteps: 4, mask: true, initialState: true },
  ],
];

describe.each(Object.keys(backends))('backward after the %s forward kernel, against the reference', (path) => {
  it.each(sweep)('%o %o', async (over, o) => {
    await check(backends[path], makeSpec(over), o, 11);
  });
  it('without a state gradient', async () => {
    await check(backends[path], makeSpec({ units: 12, inputDim: 4 }), { batch: 3, timesteps: 5, mask: true }, 5, false);
  });
});

describe('backward of every activation the kernels run', () => {
  // Pairs (a[i], a[i+7]): every activation runs once as the candidate's and once as the gates'
  // activation, the resetAfter variants alternating. Inputs are scaled up so the pre-activations
  // reach the kinks (hard_sigmoid's +-3, relu6's 6...), except where exponential gates would make
  // the state overflow to infinity within the sequence (in Keras too).
  const n = WGSL_ACTIVATIONS.length;
  it.each(WGSL_ACTIVATIONS.map((a, i) => [a, WGSL_ACTIVATIONS[(i + 7) % n], i % 2 === 0] as const))(
    '%s / %s, resetAfter %s',
    async (activation, recurrentActivation, resetAfter) => {
      const spec = makeSpec({ units: 6, inputDim: 3, activation, recurrentActivation, resetAfter });
      await check(backends.fused, spec, { batch: 2, timesteps: 4, initialState: true, mask: true }, 3, true, recurrentActivation === 'exponential' ? 0.5 : 4);
    },
  );
});

describe('long sequences', () => {
  // Over 1,024 steps the step indices go in several submissions; over 65,535 rows*steps the input
  // gradient's dispatch loops over rows.
  it('differentiates 1,100 steps of 70 rows', async () => {
    await check(backends.fused, makeSpec({ units: 3, inputDim: 2 }), { batch: 70, timesteps: 1100, mask: true, goBackwards: true }, 21);
  });
});

describe('f16 weights', () => {
  it('differentiates with the f16-rounded weights (arithmetic in f32)', async () => {
    const b = createWebGpuBackend({ name: 'webgpu-bwd-f16', precision: 'f16', allowFallbackAdapter: true });
    try {
      await b.load();
      if (!b.info?.shaderF16) throw new Error('this adapter has no shader-f16; the test needs it (lavapipe has it)');
      const spec = makeSpec({ units: 9, inputDim: 4, resetAfter: false });
      const w = makeWeights(spec, 5);
      // The reference gets the weights the GPU holds: rounded to f16 (bias stays f32).
      const f16 = (a: Float32Array) => a.map((v) => Math.fround(roundToF16(v)));
      const rounded = { kernel: f16(w.kernel as Float32Array), recurrentKernel: f16(w.recurrentKernel as Float32Array), bias: w.bias };
      const req: ForwardRequest = { ...makeRequest(spec, 6, { batch: 3, timesteps: 5, recurrentDropout: true }), keepForBackward: true };
      const dOutput = rng(7).uniform(3 * 5 * 9);
      const ref = referenceForward(spec, rounded, req);
      const want = referenceBackward(spec, ref.saved!, { dOutput });
      const prepared = await b.prepare(spec, w);
      const fwd = await prepared.forward(req);
      compare(await prepared.backward!(fwd.saved, { dOutput }), want, 'f16 weights');
      prepared.dispose();
    } finally {
      b.dispose();
    }
  });
});

/** The nearest IEEE half-precision value (round to nearest even; no overflow in these weights). */
function roundToF16(v: number): number {
  if (v === 0) return v;
  const e = Math.max(Math.floor(Math.log2(Math.abs(v))), -14);
  const ulp = 2 ** (e - 10);
  const q = v / ulp;
  const r = Math.round(q);
  // Math.round rounds halves up; ties go to even.
  const even = Math.abs(q - Math.trunc(q)) === 0.5 ? 2 * Math.round(q / 2) : r;
  return even * ulp;
}

describe('calls with no GPU work', () => {
  it('differentiates zero timesteps and zero rows', async () => {
    await check(backends.fused, makeSpec({ units: 5, inputDim: 3 }), { batch: 2, timesteps: 0, initialState: true, returnSequences: false }, 1);
    await check(backends.fused, makeSpec({ units: 5, inputDim: 3 }), { batch: 2, timesteps: 0, returnSequences: true }, 1);
    await check(backends.fused, makeSpec({ units: 5, inputDim: 3 }), { batch: 0, timesteps: 3 }, 1);
  });
});

describe('the layer API on webgpu', () => {
  const b = createWebGpuBackend({ name: 'webgpu-bwd-layer', priority: -1, allowFallbackAdapter: true });
  registerBackend(b);
  afterAll(() => {
    unregisterBackend('webgpu-bwd-layer');
    b.dispose();
  });
  it('matches the reference backend with masks, goBackwards, an initial state, returnState and dropout', async () => {
    for (const resetAfter of [true, false]) {
      const config = { units: 8, returnSequences: true, returnState: true, goBackwards: true, resetAfter, dropout: 0.2, recurrentDropout: 0.3 };
      const layers = [new GRU(config), new GRU(config)];
      for (const l of layers) l.build([3, 5, 4]);
      layers[1].setWeights(layers[0].getWeights());
      // The same dropout masks for both (Keras's per-gate masks, passed explicitly).
      const masks = {
        dropoutMask: [0, 1, 2].map((g) => ({ shape: [3, 4], data: Array.from({ length: 12 }, (_, i) => ((i + g) % 3 ? 1 / 0.8 : 0)) })),
        recurrentDropoutMask: [0, 1, 2].map((g) => ({ shape: [3, 8], data: Array.from({ length: 24 }, (_, i) => ((i + g) % 4 ? 1 / 0.7 : 0)) })),
      };
      const r = rng(4);
      const x = { shape: [3, 5, 4], data: r.uniform(60) };
      const init = { shape: [3, 8], data: r.uniform(24) };
      const mask = { shape: [3, 5], data: Uint8Array.from([1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1]) };
      const dOut = r.uniform(3 * 5 * 8);
      const dState = r.uniform(24);
      const grads = [];
      for (const [i, layer] of layers.entries()) {
        const res = await layer.forward(x, { initialState: [init], mask, training: true, ...masks, backend: i === 0 ? 'webgpu-bwd-layer' : 'reference' });
        expect(res.backend).toBe(i === 0 ? 'webgpu-bwd-layer' : 'reference');
        grads.push(await layer.backward({ shape: [3, 5, 8], data: dOut }, { shape: [3, 8], data: dState }));
      }
      const [g, w] = grads;
      compare(
        { dx: g.inputs.data, dInitialState: g.initialState!.data, dKernel: g.kernel.data, dRecurrentKernel: g.recurrentKernel.data, dBias: g.bias!.data },
        { dx: w.inputs.data, dInitialState: w.initialState!.data, dKernel: w.kernel.data, dRecurrentKernel: w.recurrentKernel.data, dBias: w.bias!.data },
        `layer resetAfter ${resetAfter}`,
      );
      for (const l of layers) l.dispose();
    }
  });
});

describe('GPU memory of saved calls', () => {
  it('stays bounded over many training steps and is freed on dispose', async () => {
    const b = createWebGpuBackend({ name: 'webgpu-bwd-memory', allowFallbackAdapter: true, savedCalls: 2 });
    try {
      const spec = makeSpec({ units: 16, inputDim: 4 });
      const prepared = await b.prepare(spec, makeWeights(spec, 1));
      const weightsOnly = b.memoryInUse();
      const req = { ...makeRequest(spec, 2, { batch: 3, timesteps: 6 }), keepForBackward: true };
      const dOutput = rng(3).uniform(3 * 6 * 16);
      const usage: number[] = [];
      for (let step = 0; step < 40; step++) {
        const fwd = await prepared.forward(req);
        await prepared.backward!(fwd.saved, { dOutput });
        usage.push(b.memoryInUse());
      }
      // Two saved calls at most (savedCalls), the pooled buffers reused: flat after the first steps.
      expect(Math.max(...usage.slice(3))).toBe(usage[2]);
      prepared.dispose();
      expect(b.memoryInUse()).toBe(0);
      expect(weightsOnly).toBeGreaterThan(0);
    } finally {
      b.dispose();
    }
  });

  it('frees a saved call whose handle is garbage-collected', async () => {
    const b = createWebGpuBackend({ name: 'webgpu-bwd-gc', allowFallbackAdapter: true });
    try {
      const spec = makeSpec({ units: 8, inputDim: 3 });
      const prepared = await b.prepare(spec, makeWeights(spec, 1));
      await prepared.forward(makeRequest(spec, 2, { batch: 2, timesteps: 4 }));
      const withoutSaved = b.memoryInUse();
      // In a function, so that no reference to the handle is left in this frame.
      await (async () => {
        // Not handed to expect(), which may keep what it was given.
        const { saved } = await prepared.forward({ ...makeRequest(spec, 2, { batch: 2, timesteps: 4 }), keepForBackward: true });
        if (saved === undefined) throw new Error('no saved handle');
      })();
      expect(b.memoryInUse()).toBeGreaterThan(withoutSaved);
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) throw new Error('run with --expose-gc (the vitest config passes it)');
      for (let i = 0; i < 50 && b.memoryInUse() > withoutSaved; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(b.memoryInUse()).toBe(withoutSaved);
      prepared.dispose();
    } finally {
      b.dispose();
    }
  });

  it('releases the oldest saved call beyond savedCalls, and says so', async () => {
    const b = createWebGpuBackend({ name: 'webgpu-bwd-release', allowFallbackAdapter: true, savedCalls: 1 });
    try {
      const spec = makeSpec({ units: 4, inputDim: 2 });
      const prepared = await b.prepare(spec, makeWeights(spec, 1));
      const req = { ...makeRequest(spec, 2, { batch: 2, timesteps: 3 }), keepForBackward: true };
      const first = await prepared.forward(req);
      const second = await prepared.forward(req);
      const dOutput = new Float32Array(2 * 3 * 4).fill(1);
      await expect(prepared.backward!(first.saved, { dOutput })).rejects.toThrow(/released \(more than 1 newer forward calls.*savedCalls/);
      await expect(prepared.backward!(second.saved, { dOutput })).resolves.toBeDefined();
      prepared.dispose();
    } finally {
      b.dispose();
    }
  });
});

describe('backward rejects bad input with a clear error', () => {
  const b = createWebGpuBackend({ name: 'webgpu-bwd-bad', allowFallbackAdapter: true });
  afterAll(() => b.dispose());
  const spec = makeSpec({ units: 4, inputDim: 2 });
  const req = { ...makeRequest(spec, 2, { batch: 2, timesteps: 3 }), keepForBackward: true };

  it('checks dOutput and dLastState', async () => {
    const prepared = await b.prepare(spec, makeWeights(spec, 1));
    const { saved } = await prepared.forward(req);
    await expect(prepared.backward!(saved, { dOutput: new Float32Array(5) })).rejects.toThrow(
      'webgpu backward: `dOutput` must be a Float32Array or Float64Array of 24 values ([batch, timesteps, units] = [2, 3, 4]); received Float32Array(5).',
    );
    await expect(prepared.backward!(saved, { dOutput: [1, 2] as unknown as Float32Array })).rejects.toThrow(
      /`dOutput` must be a Float32Array .* received Array\(2\)/,
    );
    await expect(prepared.backward!(saved, { dOutput: new Float32Array(24), dLastState: new Float32Array(3) })).rejects.toThrow(
      'webgpu backward: `dLastState` must be a Float32Array or Float64Array of 8 values ([batch, units] = [2, 4]); received Float32Array(3).',
    );
    await expect(prepared.backward!(saved, null as never)).rejects.toThrow(/webgpu backward: `request` must be an object .*received null/);
    prepared.dispose();
  });

  it('checks the saved handle', async () => {
    const prepared = await b.prepare(spec, makeWeights(spec, 1));
    const other = await b.prepare(spec, makeWeights(spec, 1));
    const dOutput = new Float32Array(24);
    await expect(prepared.backward!({}, { dOutput })).rejects.toThrow(/saved must be the `saved` of a forward call with keepForBackward.*received Object/);
    await expect(prepared.backward!(undefined, { dOutput })).rejects.toThrow(/received undefined/);
    const { saved: notKept } = await prepared.forward({ ...req, keepForBackward: false });
    expect(notKept).toBeUndefined();
    const { saved } = await other.forward(req);
    await expect(prepared.backward!(saved, { dOutput })).rejects.toThrow(/another prepared layer/);
    await prepared.setWeights(makeWeights(spec, 7));
    const { saved: mine } = await prepared.forward(req);
    await prepared.setWeights(makeWeights(spec, 8));
    await expect(prepared.backward!(mine, { dOutput })).rejects.toThrow(/weights were replaced \(setWeights\) since the forward call/);
    prepared.dispose();
    await expect(prepared.backward!(mine, { dOutput })).rejects.toThrow(/disposed/);
    other.dispose();
  });

  it('declines float64 and row-wise activations in supportsBackward', () => {
    expect(b.supportsBackward(makeSpec({ units: 4, inputDim: 2, dtype: 'float64' }))).toMatch(/float64/);
    expect(b.supportsBackward(makeSpec({ units: 4, inputDim: 2, recurrentActivation: 'softmax' }))).toMatch(/^recurrentActivation 'softmax' is row-wise/);
    expect(b.supportsBackward(spec)).toBe(true);
  });

  it('keeps nothing for a row-wise layer called directly with keepForBackward, and refuses its backward with the reason', async () => {
    // Backward always declines these layers: buffers kept for it would only hold GPU memory until
    // the call's handle is collected.
    const rowSpec = makeSpec({ units: 4, inputDim: 2, activation: 'sparsemax' });
    const prepared = (await b.prepare(rowSpec, makeWeights(rowSpec, 1))) as WebGpuPrepared;
    const request = makeRequest(rowSpec, 2, { batch: 2, timesteps: 3 });
    const plain = await prepared.forward(request);
    const kept = await prepared.forward({ ...request, keepForBackward: true });
    expect(prepared.savedBytes).toBe(0);
    expect(Array.from(kept.output)).toEqual(Array.from(plain.output));
    expect(Array.from(kept.lastState)).toEqual(Array.from(plain.lastState));
    await expect(prepared.backward!(kept.saved, { dOutput: new Float32Array(24) })).rejects.toThrow(
      /^webgpu backward: activation 'sparsemax' is row-wise .* no backward pass; train this layer on the reference backend \(its forward calls keep nothing for backward\)$/,
    );
    prepared.dispose();
  });
});
