import { referenceForward } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend, createWasmBackend, WASM_ACTIVATIONS } from '../src/index.js';
import { describeAgainstReference } from '@gru/conformance/testing';
import { makeCase, worstRatio, type Config } from './helpers.js';

/** Runs a config on a backend and on the reference, and returns the worst tolerance ratio. */
function compare(cfg: Config, seed: number, on = backend): number {
  const { spec, weights, request } = makeCase(cfg, seed);
  const prepared = on.prepareSync(spec, weights);
  try {
    const got = prepared.forwardSync(request);
    const want = referenceForward(spec, weights, request);
    expect(got.output.length).toBe(want.output.length);
    return Math.max(worstRatio(got.output, want.output), worstRatio(got.lastState, want.lastState));
  } finally {
    prepared.dispose();
  }
}

beforeAll(() => backend.load());

// The kit's seeded sweep (units >= 64, batch >= 16, timesteps >= 200, odd sizes), forward and forwardSync.
describeAgainstReference(backend);

describe('every call option against the reference backend', () => {
  const flags = ['resetAfter', 'useBias', 'goBackwards', 'returnSequences', 'mask', 'initialState', 'inputDropout', 'recurrentDropout'] as const;
  // All 256 combinations, on a shape with a partial panel (H=13), a 4-row tile plus tail rows (B=6).
  it('all 256 flag combinations (B=6, T=7, D=5, H=13)', () => {
    let worst = 0;
    for (let bits = 0; bits < 1 << flags.length; bits++) {
      const cfg: Config = { B: 6, T: 7, D: 5, H: 13 };
      flags.forEach((f, i) => ((cfg as unknown as Record<string, boolean>)[f] = (bits & (1 << i)) !== 0));
      const r = compare(cfg, bits);
      expect(r, JSON.stringify(cfg)).toBeLessThanOrEqual(1);
      worst = Math.max(worst, r);
    }
    expect(worst).toBeGreaterThan(0); // the comparison did compare something
  });

  it('batch sizes 1..9 and units around panel boundaries', () => {
    for (const B of [1, 2, 3, 4, 5, 7, 8, 9]) {
      for (const H of [1, 7, 8, 9, 31, 32, 33, 40]) {
        expect(compare({ B, T: 5, D: 3, H, mask: true, initialState: true }, B * 100 + H), `B=${B} H=${H}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('long sequences stay within tolerance (T=300, B=1 and B=4)', () => {
    expect(compare({ B: 1, T: 300, D: 16, H: 32 }, 1)).toBeLessThanOrEqual(1);
    expect(compare({ B: 4, T: 300, D: 16, H: 32, resetAfter: false, goBackwards: true }, 2)).toBeLessThanOrEqual(1);
  });

  it('the benchmark shapes S1 and S4 (B=1, D=64, H=128; T=100 and T=1)', () => {
    expect(compare({ B: 1, T: 100, D: 64, H: 128 }, 3)).toBeLessThanOrEqual(1);
    expect(compare({ B: 1, T: 1, D: 64, H: 128, returnSequences: false }, 4)).toBeLessThanOrEqual(1);
  });
});

describe('chunked input projection (long sequences in bounded memory)', () => {
  // A budget of 1 byte forces the smallest chunk (4 timesteps): chunks, their order when going
  // backwards, and a final partial chunk are all exercised.
  const chunked = createWasmBackend({ name: 'wasm-chunked', projectionBudgetBytes: 1 });
  beforeAll(() => chunked.load());

  for (const goBackwards of [false, true]) {
    for (const T of [1, 3, 4, 9, 16]) {
      it(`T=${T}, goBackwards=${goBackwards}`, () => {
        for (const inputDropout of [false, true]) {
          const cfg: Config = { B: 5, T, D: 6, H: 10, goBackwards, mask: true, initialState: true, inputDropout };
          expect(compare(cfg, T, chunked)).toBeLessThanOrEqual(1);
        }
      });
    }
  }
});

describe('every implemented activation, as activation and as recurrent activation', () => {
  for (const id of WASM_ACTIVATIONS) {
    // glu runs only at units = 2 (as in Keras); the row-wise ones see a partial panel at H = 9.
    const H = id === 'glu' ? 2 : 9;
    // log_softmax gates are below -1 (about -log H), so h = z h + (1 - z) hh grows |z| times a
    // step, and float32 rounding with it: two steps keep that inside the float32 tolerance.
    const Trec = id === 'log_softmax' ? 2 : 6;
    it(id, () => {
      expect(compare({ B: 3, T: 6, D: 4, H, activation: id }, 11)).toBeLessThanOrEqual(1);
      expect(compare({ B: 3, T: Trec, D: 4, H, recurrentActivation: id, resetAfter: false }, 12)).toBeLessThanOrEqual(1);
    });
  }
  it('row-wise recurrent activations act on z and r separately (issue 13: units=1 softmax gives 0, as Keras)', () => {
    // One unit: softmax of one value is 1 for each gate, so h = z h0 + (1 - z) hh = h0 = 0.
    const spec = { units: 1, inputDim: 1, activation: 'tanh', recurrentActivation: 'softmax', useBias: false, resetAfter: true, dtype: 'float32' } as const;
    const prepared = backend.prepareSync(spec, { kernel: Float32Array.of(0.3, -0.2, 0.5), recurrentKernel: Float32Array.of(0.1, 0.2, 0.3), bias: null });
    const r = prepared.forwardSync({ x: Float32Array.of(1), batch: 1, timesteps: 1, goBackwards: false, returnSequences: false });
    expect(Array.from(r.output)).toEqual([0]);
    prepared.dispose();
  });
});

describe('saturation (issue 13)', () => {
  it('units=1, activation linear, kernel [100, 0, 1000], x = 1 gives 0, as Keras: sigmoid(100) is exactly 1', () => {
    const spec = { units: 1, inputDim: 1, activation: 'linear', recurrentActivation: 'sigmoid', useBias: false, resetAfter: true, dtype: 'float32' } as const;
    const prepared = backend.prepareSync(spec, { kernel: Float32Array.of(100, 0, 1000), recurrentKernel: new Float32Array(3), bias: null });
    const r = prepared.forwardSync({ x: Float32Array.of(1), batch: 1, timesteps: 1, goBackwards: false, returnSequences: false });
    expect(Array.from(r.output)).toEqual([0]);
    prepared.dispose();
  });
});

describe('prepared layers', () => {
  it('setWeights replaces the weights in place', () => {
    const a = makeCase({ B: 2, T: 4, D: 3, H: 5 }, 1);
    const b = makeCase({ B: 2, T: 4, D: 3, H: 5 }, 2);
    const prepared = backend.prepareSync(a.spec, a.weights);
    const before = backend.memoryInUse();
    prepared.setWeights(b.weights);
    expect(backend.memoryInUse()).toBe(before);
    const got = prepared.forwardSync(a.request);
    const want = referenceForward(b.spec, b.weights, a.request);
    expect(worstRatio(got.output, want.output)).toBeLessThanOrEqual(1);
    prepared.dispose();
  });

  it('the async forward gives the same result as forwardSync', async () => {
    const { spec, weights, request } = makeCase({ B: 3, T: 5, D: 4, H: 6, mask: true }, 5);
    const prepared = await backend.prepare(spec, weights);
    const sync = prepared.forwardSync(request);
    const viaAsync = await prepared.forward(request);
    expect(Array.from(viaAsync.output)).toEqual(Array.from(sync.output));
    expect(Array.from(viaAsync.lastState)).toEqual(Array.from(sync.lastState));
    prepared.dispose();
  });

  it('an empty batch gives empty outputs, as Keras does', () => {
    const { spec, weights, request } = makeCase({ B: 2, T: 4, D: 3, H: 5 }, 3);
    const prepared = backend.prepareSync(spec, weights);
    const r = prepared.forwardSync({ ...request, batch: 0, x: new Float32Array(0) });
    expect(r.output.length).toBe(0);
    expect(r.lastState.length).toBe(0);
    prepared.dispose();
  });

  it('many layers prepared at once do not disturb each other, and all memory comes back', () => {
    const base = backend.memoryInUse();
    const cases = [1, 2, 3, 4, 5].map((s) => makeCase({ B: 2, T: 5, D: 4, H: 3 + s * 5, mask: true }, s));
    const prepared = cases.map((c) => backend.prepareSync(c.spec, c.weights));
    prepared[1].dispose();
    prepared[3].dispose();
    const again = backend.prepareSync(cases[3].spec, cases[3].weights);
    for (const i of [0, 2, 4]) {
      const got = prepared[i].forwardSync(cases[i].request);
      const want = referenceForward(cases[i].spec, cases[i].weights, cases[i].request);
      expect(worstRatio(got.output, want.output)).toBeLessThanOrEqual(1);
    }
    const got = again.forwardSync(cases[3].request);
    expect(worstRatio(got.output, referenceForward(cases[3].spec, cases[3].weights, cases[3].request).output)).toBeLessThanOrEqual(1);
    for (const p of [prepared[0], prepared[2], prepared[4], again]) p.dispose();
    expect(backend.memoryInUse()).toBe(base);
  });
});
