import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  clearSession,
  GRU,
  GRU_BACKEND_SPEC_VERSION,
  GruError,
  referenceBackend,
  registerBackend,
  unregisterBackend,
  type ForwardRequest,
  type GruBackend,
  type GruCallInfo,
  type GruOptions,
  type PreparedGru,
  type TensorLike,
} from '../src/index.js';
// The kit's seeded generator (core cannot depend on @gru/conformance, which depends on it).
import { rng } from '../../../conformance/src/testing/rng.js';

const randomArray = (n: number, seed: number, scale = 1) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};

const B = 3;
const T = 4;
const D = 5;
const H = 3;
const X_DATA = randomArray(B * T * D, 2, 1.2);
const X = { shape: [B, T, D], data: X_DATA };

function weights(o: Partial<GruOptions>): TensorLike[] {
  const w: TensorLike[] = [
    { shape: [D, 3 * H], data: randomArray(D * 3 * H, 30, 0.7) },
    { shape: [H, 3 * H], data: randomArray(H * 3 * H, 31, 0.7) },
  ];
  if (o.useBias ?? true) {
    const shape = (o.resetAfter ?? true) ? [2, 3 * H] : [3 * H];
    w.push({ shape, data: randomArray(shape[0] * (shape[1] ?? 1), 32, 0.3) });
  }
  return w;
}

function layer(options: Partial<GruOptions> = {}): GRU {
  const l = new GRU({ units: H, dtype: 'float64', returnSequences: true, ...options });
  l.setWeights(weights(options));
  return l;
}

const arr = (r: { output: { data: ArrayLike<number> } }) => Array.from(r.output.data);

/**
 * A backend that runs the reference math but records what core hands it, so tests can see the
 * dropout masks core drew (Keras folds the shared input mask into x before the loop).
 */
const recorded: { requests: ForwardRequest[]; infos: GruCallInfo[] } = { requests: [], infos: [] };
const recorder: GruBackend = {
  specVersion: GRU_BACKEND_SPEC_VERSION,
  name: 'dropout-recorder',
  priority: 1000,
  async load() {},
  isLoaded: () => true,
  supports: (_spec, call) => {
    recorded.infos.push(call);
    return true;
  },
  async prepare(spec, w) {
    return this.prepareSync?.(spec, w) as PreparedGru;
  },
  prepareSync(spec, w) {
    const inner = referenceBackend.prepareSync?.(spec, w) as PreparedGru;
    return {
      spec,
      forward: async (req) => {
        recorded.requests.push(req);
        return inner.forward(req);
      },
      forwardSync: (req) => {
        recorded.requests.push(req);
        return (inner.forwardSync as NonNullable<PreparedGru['forwardSync']>)(req);
      },
      setWeights: (nw) => inner.setWeights(nw),
      dispose: () => inner.dispose(),
    };
  },
};

beforeEach(() => {
  clearSession();
  recorded.requests = [];
  recorded.infos = [];
  registerBackend(recorder);
});
afterEach(() => {
  unregisterBackend(recorder.name);
});

/** Training calls keep what backward() needs by default, which the recorder cannot do: opt out. */
const TRAIN = { training: true, keepForBackward: false } as const;

/** The input mask core applied, recovered from x as the backend saw it: [batch, time, features]. */
function appliedInputMask(req: ForwardRequest): number[] {
  return Array.from(req.x, (v, i) => v / X_DATA[i]);
}

describe('dropout in inference', () => {
  it('training false (or absent) ignores dropout and recurrentDropout', () => {
    const plain = arr(layer().forwardSync(X));
    const l = layer({ dropout: 0.4, recurrentDropout: 0.4, seed: 1 });
    expect(arr(l.forwardSync(X))).toEqual(plain);
    expect(arr(l.forwardSync(X, { training: false }))).toEqual(plain);
    const req = recorded.requests[1];
    expect(req.inputDropoutMasks).toBeUndefined();
    expect(req.recurrentDropoutMasks).toBeUndefined();
    expect(Array.from(req.x)).toEqual(X_DATA);
  });

  it('supplied masks are ignored outside training', () => {
    const plain = arr(layer().forwardSync(X));
    const zeros = { shape: [B, D], data: new Array(B * D).fill(0) };
    expect(arr(layer({ dropout: 0.5 }).forwardSync(X, { dropoutMask: zeros }))).toEqual(plain);
  });

  it('a rate clamped to 1 applies no dropout (Keras requires 0 < rate < 1)', () => {
    const plain = arr(layer().forwardSync(X));
    expect(arr(layer({ dropout: 1, seed: 3 }).forwardSync(X, { training: true }))).toEqual(plain);
    expect(arr(layer({ dropout: 7, recurrentDropout: 1, seed: 3 }).forwardSync(X, { training: true }))).toEqual(plain);
  });
});

describe('dropout in training', () => {
  it('the same seed gives the same result in different layers; another seed does not', () => {
    const a = arr(layer({ dropout: 0.3, recurrentDropout: 0.3, seed: 42 }).forwardSync(X, { training: true }));
    const b = arr(layer({ dropout: 0.3, recurrentDropout: 0.3, seed: 42 }).forwardSync(X, { training: true }));
    const c = arr(layer({ dropout: 0.3, recurrentDropout: 0.3, seed: 43 }).forwardSync(X, { training: true }));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(a).not.toEqual(arr(layer().forwardSync(X)));
  });

  it('one input mask per call, the same at every timestep, with values 0 or 1/(1-rate)', () => {
    layer({ dropout: 0.3, seed: 9 }).forwardSync(X, TRAIN);
    const req = recorded.requests[0];
    expect(req.inputDropoutMasks).toBeUndefined();
    const m = appliedInputMask(req);
    const scale = 1 / (1 - 0.3);
    let zeros = 0;
    for (let b = 0; b < B; b++) {
      for (let d = 0; d < D; d++) {
        const first = m[b * T * D + d];
        expect(Math.abs(first) < 1e-12 || Math.abs(first - scale) < 1e-12).toBe(true);
        if (Math.abs(first) < 1e-12) zeros++;
        for (let s = 1; s < T; s++) expect(m[(b * T + s) * D + d]).toBeCloseTo(first, 12);
      }
    }
    expect(zeros).toBeGreaterThan(0);
    expect(zeros).toBeLessThan(B * D);
  });

  it('masks are drawn again for every call (Keras resets them after a call)', () => {
    const l = layer({ dropout: 0.5, seed: 11 });
    l.forwardSync(X, TRAIN);
    l.forwardSync(X, TRAIN);
    const [m1, m2] = recorded.requests.map(appliedInputMask);
    expect(m2).not.toEqual(m1);
  });

  it('recurrent dropout passes three [batch, units] masks (z, r, h) of 0 or 1/(1-rate), and per-gate input masks', () => {
    layer({ dropout: 0.25, recurrentDropout: 0.5, seed: 5 }).forwardSync(X, TRAIN);
    const req = recorded.requests[0];
    // recurrentDropout > 0 forces implementation 1: x is not pre-multiplied, three input masks instead.
    expect(Array.from(req.x)).toEqual(X_DATA);
    expect(req.inputDropoutMasks).toHaveLength(3);
    expect(req.recurrentDropoutMasks).toHaveLength(3);
    for (const m of req.inputDropoutMasks ?? []) {
      expect(m.length).toBe(B * D);
      for (const v of m) expect([0, 1 / 0.75]).toContain(v);
    }
    for (const m of req.recurrentDropoutMasks ?? []) {
      expect(m.length).toBe(B * H);
      for (const v of m) expect([0, 2]).toContain(v);
    }
    const [z, r, h] = req.recurrentDropoutMasks as NonNullable<ForwardRequest['recurrentDropoutMasks']>;
    expect(Array.from(z)).not.toEqual(Array.from(r));
    expect(Array.from(r)).not.toEqual(Array.from(h));
    const info = recorded.infos[recorded.infos.length - 1];
    expect(info).toMatchObject({ training: true, inputDropoutPerGate: true, recurrentDropout: true, recurrentDropoutRate: 0.5 });
  });

  it('implementation: 1 with input dropout only draws three per-gate input masks', () => {
    layer({ dropout: 0.5, implementation: 1, seed: 8 }).forwardSync(X, TRAIN);
    const req = recorded.requests[0];
    expect(req.inputDropoutMasks).toHaveLength(3);
    expect(req.recurrentDropoutMasks).toBeUndefined();
    expect(Array.from(req.x)).toEqual(X_DATA);
  });

  it('a training call that keeps state for backward skips a backend without gradients, saying why', () => {
    const r = layer({ dropout: 0.3, seed: 7 }).forwardSync(X, { training: true });
    expect(r.backend).toBe('reference');
    expect(r.skipped).toContainEqual({ name: 'dropout-recorder', reason: 'no gradients: it does not implement backward' });
  });

  it('call info reports inference calls without dropout flags', () => {
    layer({ dropout: 0.25, recurrentDropout: 0.5 }).forwardSync(X);
    expect(recorded.infos[recorded.infos.length - 1]).toMatchObject({
      training: false,
      inputDropoutPerGate: false,
      recurrentDropout: false,
      recurrentDropoutRate: 0.5,
    });
  });

  it('a supplied shared mask equals running without dropout on x * mask (mask repeated over time)', () => {
    const mask = randomArray(B * D, 70).map((v) => (v > 0 ? 2 : 0));
    const xm = X_DATA.map((v, i) => v * mask[Math.floor(i / (T * D)) * D + (i % D)]);
    const expected = arr(layer().forwardSync({ shape: [B, T, D], data: xm }));
    const got = arr(layer({ dropout: 0.5 }).forwardSync(X, { training: true, dropoutMask: { shape: [B, D], data: mask } }));
    expect(got).toEqual(expected);
  });

  it('supplied masks do not consume the seed stream: the next call draws what a fresh layer draws', () => {
    const o = { dropout: 0.5, seed: 19 };
    const a = layer(o);
    a.forwardSync(X, { training: true, dropoutMask: { shape: [B, D], data: new Array(B * D).fill(2) } });
    expect(arr(a.forwardSync(X, { training: true }))).toEqual(arr(layer(o).forwardSync(X, { training: true })));
  });

  it('supplied per-gate and recurrent masks give the same result as a hand-written Keras implementation-1 loop', () => {
    const o = { dropout: 0.5, recurrentDropout: 0.5, resetAfter: false };
    const dm = [71, 72, 73].map((s) => randomArray(B * D, s).map((v) => (v > 0 ? 2 : 0)));
    const rm = [74, 75, 76].map((s) => randomArray(B * H, s).map((v) => (v > 0 ? 2 : 0)));
    const got = arr(
      layer(o).forwardSync(X, {
        training: true,
        dropoutMask: dm.map((data) => ({ shape: [B, D], data })),
        recurrentDropoutMask: rm.map((data) => ({ shape: [B, H], data })),
      }),
    );
    // keras/src/layers/rnn/gru.py GRUCell.call, implementation 1, reset_after=False.
    const [kw, rw, bw] = weights(o).map((w) => (w as unknown as { data: number[] }).data);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const expected: number[] = [];
    for (let b = 0; b < B; b++) {
      let h = new Array(H).fill(0);
      for (let s = 0; s < T; s++) {
        const x = X_DATA.slice((b * T + s) * D, (b * T + s + 1) * D);
        const proj = (gate: number, j: number) => x.reduce((acc, xv, d) => acc + xv * dm[gate][b * D + d] * kw[d * 3 * H + gate * H + j], 0) + bw[gate * H + j];
        const rec = (gate: number, j: number, hv: number[]) => hv.reduce((acc, v, u) => acc + v * rw[u * 3 * H + gate * H + j], 0);
        const hz = h.map((v, u) => v * rm[0][b * H + u]);
        const hr = h.map((v, u) => v * rm[1][b * H + u]);
        const hh = h.map((v, u) => v * rm[2][b * H + u]);
        const z = h.map((_, j) => sig(proj(0, j) + rec(0, j, hz)));
        const r = h.map((_, j) => sig(proj(1, j) + rec(1, j, hr)));
        const rh = hh.map((v, u) => v * r[u]);
        const cand = h.map((_, j) => Math.tanh(proj(2, j) + rec(2, j, rh)));
        h = h.map((v, j) => z[j] * v + (1 - z[j]) * cand[j]);
        expected.push(...h);
      }
    }
    expect(got.length).toBe(expected.length);
    got.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(1e-14));
  });

  it('async forward draws the same masks as forwardSync for the same seed', async () => {
    const o = { dropout: 0.3, recurrentDropout: 0.1, seed: 123 };
    expect(arr(await layer(o).forward(X, { training: true }))).toEqual(arr(layer(o).forwardSync(X, { training: true })));
  });

  it('does not change the seeded stream of weights: initializers with seeds give identical layers', () => {
    const o = {
      units: H,
      dropout: 0.5,
      kernelInitializer: { class_name: 'GlorotUniform', config: { seed: 1 } },
      recurrentInitializer: { class_name: 'Orthogonal', config: { seed: 2 } },
    };
    const a = new GRU(o);
    const b = new GRU(o);
    a.build([null, null, D]);
    b.build([null, null, D]);
    expect(Array.from(a.kernel.data)).toEqual(Array.from(b.kernel.data));
    expect(Array.from(a.recurrentKernel.data)).toEqual(Array.from(b.recurrentKernel.data));
  });
});

describe('supplied mask validation', () => {
  const expectError = (fn: () => unknown, ...fragments: string[]) => {
    let caught: unknown;
    try {
      fn();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GruError);
    for (const f of fragments) expect((caught as Error).message).toContain(f);
  };

  it('shape and count are checked with the expected shape in the message', () => {
    expectError(
      () => layer({ dropout: 0.5 }).forwardSync(X, { training: true, dropoutMask: { shape: [B, D + 1], data: new Array(B * (D + 1)).fill(1) } }),
      'Argument `dropoutMask` must have shape (3, 5) or (1, 5), received (3, 6).',
    );
    expectError(
      () => layer({ dropout: 0.5, recurrentDropout: 0.5 }).forwardSync(X, { training: true, dropoutMask: { shape: [B, D], data: new Array(B * D).fill(1) } }),
      'Argument `dropoutMask` must be a list of 3 tensors (z, r, h) of shape (3, 5) or (1, 5), received 1 tensors.',
    );
    expectError(
      () => layer({ recurrentDropout: 0.5 }).forwardSync(X, { training: true, recurrentDropoutMask: [{ shape: [B, H], data: new Array(B * H).fill(1) }] }),
      'Argument `recurrentDropoutMask` must be a list of 3 tensors (z, r, h) of shape (3, 3) or (1, 3), received 1 tensors.',
    );
    const three = [0, 1, 2].map(() => ({ shape: [B, H + 1], data: new Array(B * (H + 1)).fill(1) }));
    expectError(
      () => layer({ recurrentDropout: 0.5 }).forwardSync(X, { training: true, recurrentDropoutMask: three }),
      'Argument `recurrentDropoutMask` must have shape (3, 3) or (1, 3), received (3, 4).',
    );
    const twoRows = [0, 1, 2].map(() => ({ shape: [2, H], data: new Array(2 * H).fill(1) }));
    expectError(
      () => layer({ recurrentDropout: 0.5 }).forwardSync(X, { training: true, recurrentDropoutMask: twoRows }),
      'Argument `recurrentDropoutMask` must have shape (3, 3) or (1, 3), received (2, 3).',
    );
  });
});

/*
 * Keras draws the recurrent masks from the state they multiply (`get_recurrent_dropout_mask(h_tm1)`),
 * so a (1, units) initial state gives (1, units) masks that broadcast over the batch; any cached
 * mask of one row broadcasts the same way.
 */
describe('dropout masks that broadcast over the batch, as in Keras', () => {
  const h0Row = { shape: [1, H], data: randomArray(H, 40, 0.8) };
  const h0Tiled = { shape: [B, H], data: [0, 1, 2].flatMap(() => h0Row.data) };
  const oneRowMasks = () => [0, 1, 2].map((g) => ({ shape: [1, H], data: randomArray(H, 50 + g).map((v) => (v < -0.2 ? 0 : 2)) }));
  const tiled = (masks: { shape: number[]; data: number[] }[]) => masks.map((m) => ({ shape: [B, H], data: [0, 1, 2].flatMap(() => m.data) }));

  it('a (1, units) initial state with recurrentDropout draws (1, units) masks and hands backends one row per batch entry', () => {
    const l = layer({ recurrentDropout: 0.5, seed: 9, returnState: true });
    l.forwardSync(X, { ...TRAIN, initialState: h0Row });
    const rm = recorded.requests[0].recurrentDropoutMasks!;
    expect(rm.map((m) => m.length)).toEqual([B * H, B * H, B * H]);
    for (const m of rm) for (let b = 1; b < B; b++) expect(Array.from(m.subarray(b * H, (b + 1) * H))).toEqual(Array.from(m.subarray(0, H)));
    // Not a degenerate draw: the three gates' masks are not all alike, every entry is 0 or 1/(1-rate).
    for (const m of rm) for (const v of m) expect([0, 2]).toContain(v);
  });

  it('a supplied (1, units) recurrent mask (what Keras draws for a (1, units) state) equals the same mask tiled over the batch', () => {
    const masks = oneRowMasks();
    const a = layer({ recurrentDropout: 0.5, returnState: true }).forwardSync(X, { ...TRAIN, initialState: h0Row, recurrentDropoutMask: masks });
    const b = layer({ recurrentDropout: 0.5, returnState: true }).forwardSync(X, { ...TRAIN, initialState: h0Tiled, recurrentDropoutMask: tiled(masks) });
    expect(arr(a)).toEqual(arr(b));
    expect(Array.from(a.state!.data)).toEqual(Array.from(b.state!.data));
    // ... and a full-batch state with one-row masks broadcasts the masks the same way (Keras's multiply).
    const c = layer({ recurrentDropout: 0.5 }).forwardSync(X, { ...TRAIN, initialState: h0Tiled, recurrentDropoutMask: masks });
    expect(arr(c)).toEqual(arr(a));
  });

  it('a supplied (1, features) input mask broadcasts over the batch, shared and per gate', () => {
    const row = { shape: [1, D], data: randomArray(D, 60).map((v) => (v < 0 ? 0 : 2)) };
    const full = { shape: [B, D], data: [0, 1, 2].flatMap(() => row.data) };
    expect(arr(layer({ dropout: 0.5 }).forwardSync(X, { ...TRAIN, dropoutMask: row }))).toEqual(
      arr(layer({ dropout: 0.5 }).forwardSync(X, { ...TRAIN, dropoutMask: full })),
    );
    const o = { dropout: 0.5, implementation: 1 as const };
    expect(arr(layer(o).forwardSync(X, { ...TRAIN, dropoutMask: [row, full, row] }))).toEqual(
      arr(layer(o).forwardSync(X, { ...TRAIN, dropoutMask: [full, full, full] })),
    );
  });

  it('gradients through a (1, units) state with one-row recurrent masks: the state gradient sums over the batch', () => {
    const masks = oneRowMasks();
    const l1 = layer({ recurrentDropout: 0.5 });
    unregisterBackend(recorder.name); // backward needs a kept forward, which the recorder cannot keep
    l1.forwardSync(X, { training: true, initialState: h0Row, recurrentDropoutMask: masks });
    const cot = { shape: [B, T, H], data: randomArray(B * T * H, 70) };
    const g1 = l1.backwardSync(cot);
    const l2 = layer({ recurrentDropout: 0.5 });
    l2.forwardSync(X, { training: true, initialState: h0Tiled, recurrentDropoutMask: tiled(masks) });
    const g2 = l2.backwardSync(cot);
    expect(g1.initialState!.shape).toEqual([1, H]);
    for (let u = 0; u < H; u++)
      expect(g1.initialState!.data[u]).toBeCloseTo(g2.initialState!.data[u] + g2.initialState!.data[H + u] + g2.initialState!.data[2 * H + u], 12);
    expect(Array.from(g1.kernel.data)).toEqual(Array.from(g2.kernel.data));
  });
});
