import { beforeEach, describe, expect, it } from 'vitest';
import { clearSession, GRU, GRUCell, type GruCellOptions, type Tensor, type TensorLike } from '../src/index.js';
import { expectGruError } from './helpers/errors.js';
// The kit's seeded generator (core cannot depend on @gru/conformance, which depends on it).
import { rng } from '../../../conformance/src/testing/rng.js';

const randomArray = (n: number, seed: number, scale = 1) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};

const B = 3;
const D = 4;
const H = 5;
const X = randomArray(B * D, 1, 1.3);
const H_PREV = randomArray(B * H, 2, 0.9);
const XT: TensorLike = { shape: [B, D], data: X };
const HT: TensorLike = { shape: [B, H], data: H_PREV };

function cellWith(options: Partial<GruCellOptions> = {}): { cell: GRUCell; w: number[][] } {
  const useBias = options.useBias ?? true;
  const resetAfter = options.resetAfter ?? true;
  const w = [randomArray(D * 3 * H, 10, 0.7), randomArray(H * 3 * H, 11, 0.7)];
  const shapes = [
    [D, 3 * H],
    [H, 3 * H],
  ];
  if (useBias) {
    w.push(randomArray(resetAfter ? 6 * H : 3 * H, 12, 0.4));
    shapes.push(resetAfter ? [2, 3 * H] : [3 * H]);
  }
  const cell = new GRUCell({ units: H, dtype: 'float64', ...options });
  cell.setWeights(w.map((data, i) => ({ shape: shapes[i], data })));
  return { cell, w };
}

/** keras/src/layers/rnn/gru.py GRUCell.call (implementation 2), written out for one row. */
function kerasStep(
  w: number[][],
  x: number[],
  h: number[],
  o: { resetAfter: boolean; useBias: boolean; f?: (v: number) => number; g?: (v: number) => number },
): number[] {
  const [k, r, bias] = w;
  const f = o.f ?? Math.tanh;
  const g = o.g ?? ((v: number) => 1 / (1 + Math.exp(-v)));
  const G = 3 * H;
  const inB = (j: number) => (o.useBias ? bias[j] : 0);
  const recB = (j: number) => (o.useBias && o.resetAfter ? bias[G + j] : 0);
  const mx = Array.from({ length: G }, (_, j) => x.reduce((a, v, d) => a + v * k[d * G + j], 0) + inB(j));
  const inner = Array.from({ length: G }, (_, j) => h.reduce((a, v, u) => a + v * r[u * G + j], 0) + recB(j));
  const z = Array.from({ length: H }, (_, j) => g(mx[j] + inner[j]));
  const rr = Array.from({ length: H }, (_, j) => g(mx[H + j] + inner[H + j]));
  let recH: number[];
  if (o.resetAfter) recH = Array.from({ length: H }, (_, j) => rr[j] * inner[2 * H + j]);
  else recH = Array.from({ length: H }, (_, j) => h.reduce((a, v, u) => a + rr[u] * v * r[u * G + 2 * H + j], 0));
  const hh = Array.from({ length: H }, (_, j) => f(mx[2 * H + j] + recH[j]));
  return h.map((v, j) => z[j] * v + (1 - z[j]) * hh[j]);
}

function expectedRows(w: number[][], o: { resetAfter: boolean; useBias: boolean; f?: (v: number) => number; g?: (v: number) => number }, h = H_PREV): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) out.push(...kerasStep(w, X.slice(b * D, (b + 1) * D), h.slice(b * H, (b + 1) * H), o));
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: number[], tol = 1e-14): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(tol);
}

beforeEach(() => clearSession());

describe('GRUCell.call: one step, as written in Keras', () => {
  for (const resetAfter of [true, false]) {
    for (const useBias of [true, false]) {
      it(`resetAfter=${resetAfter} useBias=${useBias}`, () => {
        const { cell, w } = cellWith({ resetAfter, useBias });
        const r = cell.call(XT, [HT]);
        expect(r.output.shape).toEqual([B, H]);
        expect(r.states).toHaveLength(1);
        expect(r.states[0].shape).toEqual([B, H]);
        expectClose(r.output.data, expectedRows(w, { resetAfter, useBias }));
        expect(Array.from(r.states[0].data)).toEqual(Array.from(r.output.data));
      });
    }
  }

  it('other activations (relu, hard_sigmoid Keras 3: relu6(x+3)/6)', () => {
    const { cell, w } = cellWith({ activation: 'relu', recurrentActivation: 'hard_sigmoid' });
    const hs = (v: number) => Math.min(Math.max(v + 3, 0), 6) / 6;
    expectClose(cell.call(XT, [HT]).output.data, expectedRows(w, { resetAfter: true, useBias: true, f: (v) => Math.max(v, 0), g: hs }));
  });

  it("compat 'keras2-v1': Keras 2 hard_sigmoid clip(0.2x + 0.5, 0, 1), reset before", () => {
    const { cell, w } = cellWith({ compat: 'keras2-v1', resetAfter: false });
    const hs2 = (v: number) => Math.min(Math.max(0.2 * v + 0.5, 0), 1);
    expectClose(cell.call(XT, [HT]).output.data, expectedRows(w, { resetAfter: false, useBias: true, g: hs2 }));
  });

  it('the state may be a bare tensor, [h], or nested arrays; [1, units] broadcasts', () => {
    const { cell, w } = cellWith();
    const ref = Array.from(cell.call(XT, [HT]).output.data);
    expect(Array.from(cell.call(XT, HT).output.data)).toEqual(ref);
    const nestedH = [0, 1, 2].map((b) => H_PREV.slice(b * H, (b + 1) * H));
    expect(Array.from(cell.call(XT, nestedH).output.data)).toEqual(ref);
    expect(Array.from(cell.call(XT, [nestedH]).output.data)).toEqual(ref);
    const one = H_PREV.slice(0, H);
    const repeated = [...one, ...one, ...one];
    expectClose(cell.call(XT, [[one]]).output.data, expectedRows(w, { resetAfter: true, useBias: true }, repeated));
  });

  it('float32 cells return Float32Array close to the float64 step', () => {
    const { cell } = cellWith();
    const c32 = new GRUCell({ units: H });
    c32.setWeights(cell.getWeights());
    const r = c32.call(XT, [HT]);
    expect(r.output.data).toBeInstanceOf(Float32Array);
    const r64 = cell.call(XT, [HT]);
    for (let i = 0; i < B * H; i++) expect(Math.abs(r.output.data[i] - r64.output.data[i])).toBeLessThan(1e-6);
  });

  it('an unbuilt cell builds on its first call from the feature count', () => {
    const cell = new GRUCell({ units: H });
    cell.call(XT, [HT]);
    expect(cell.built).toBe(true);
    expect(cell.inputSize).toBe(D);
    expect(cell.kernel.shape).toEqual([D, 3 * H]);
  });

  it('NaN in a row stays in that row', () => {
    const { cell } = cellWith();
    const x = [...X];
    x[D + 1] = NaN;
    const out = cell.call({ shape: [B, D], data: x }, [HT]).output.data;
    for (let b = 0; b < B; b++) {
      const row = Array.from(out.slice(b * H, (b + 1) * H));
      expect(row.every(Number.isNaN)).toBe(b === 1);
      expect(row.some(Number.isNaN)).toBe(b === 1);
    }
  });
});

describe('GRUCell validation', () => {
  it('inputs must be rank 2 with the built feature count', () => {
    const { cell } = cellWith();
    expectGruError(() => cell.call([[[1]]], [HT]), 'expects inputs of shape (batch, features); received shape (1, 1, 1)');
    expectGruError(
      () => cell.call({ shape: [B, D + 1], data: new Array(B * (D + 1)).fill(0) }, [HT]),
      'was built for 4 input features; it cannot be rebuilt for 5',
    );
  });

  it('exactly one state of shape [batch, units] (or [1, units])', () => {
    const { cell } = cellWith();
    expectGruError(() => cell.call(XT, [HT, HT]), 'has one state; received 2 state tensors');
    expectGruError(
      () => cell.call(XT, { shape: [B, H + 1], data: new Array(B * (H + 1)).fill(0) }),
      'the initial state must have shape (3, 5) (batch, units); received (3, 6)',
    );
    expectGruError(() => cell.call(XT, { shape: [2, H], data: new Array(2 * H).fill(0) }), 'received (2, 5)');
  });

  it('build accepts a feature count or a shape; a different count later is refused', () => {
    const a = new GRUCell({ units: 2 });
    a.build(3);
    expect(a.kernel.shape).toEqual([3, 6]);
    a.build([null, 3]);
    expectGruError(() => a.build([null, 4]), "Layer 'gru_cell' was built for 3 input features; it cannot be rebuilt for 4.");
    const b = new GRUCell({ units: 2 });
    b.build([7, 3]);
    expect(b.inputSize).toBe(3);
    expectGruError(() => new GRUCell({ units: 2 }).build([null, null]), 'must be a known non-negative integer', '[null,null]');
  });

  it('stateSize, outputSize, getInitialState', () => {
    const c = new GRUCell({ units: 7, dtype: 'float64' });
    expect(c.stateSize).toBe(7);
    expect(c.outputSize).toBe(7);
    const [s] = c.getInitialState(2);
    expect(s.shape).toEqual([2, 7]);
    expect(s.data).toBeInstanceOf(Float64Array);
    expect(Array.from(s.data)).toEqual(new Array(14).fill(0));
  });

  it("setWeights errors name the cell (Keras's messages)", () => {
    const { cell, w } = cellWith();
    const err = expectGruError(() => cell.setWeights([{ shape: [D, 3 * H], data: w[0] }]));
    expect(err.message).toBe("You called `set_weights(weights)` on layer 'gru_cell' with a weight list of length 1, but the layer was expecting 3 weights.");
  });

  it('getWeights are copies in Keras order and shapes', () => {
    const { cell, w } = cellWith();
    const got = cell.getWeights();
    expect(got.map((t) => t.shape)).toEqual([
      [D, 3 * H],
      [H, 3 * H],
      [2, 3 * H],
    ]);
    got.forEach((t, i) => expect(Array.from(t.data)).toEqual(w[i]));
    got[0].data.fill(0);
    expect(Array.from(cell.kernel.data)).toEqual(w[0]);
  });
});

describe('GRUCell dropout masks (Keras DropoutRNNCell and tf.keras names)', () => {
  const ones = (rows: number, cols: number) => ({ shape: [rows, cols], data: new Array(rows * cols).fill(1) });

  it('getDropoutMaskForCell: null when rate is 0', () => {
    const c = new GRUCell({ units: H });
    c.build(D);
    expect(c.getDropoutMaskForCell(XT, true)).toBeNull();
    expect(c.getRecurrentDropoutMaskForCell(HT, true)).toBeNull();
    expect(c.getDropoutMask(B)).toBeNull();
    expect(c.getRecurrentDropoutMask(B)).toBeNull();
  });

  it('ones outside training', () => {
    const c = new GRUCell({ units: H, dropout: 0.5, recurrentDropout: 0.5, seed: 1 });
    c.build(D);
    const m = c.getDropoutMaskForCell(XT, false) as Tensor;
    expect(m.shape).toEqual([B, D]);
    expect(Array.from(m.data)).toEqual(new Array(B * D).fill(1));
    const rm = c.getRecurrentDropoutMaskForCell(HT, false, 3) as Tensor[];
    expect(rm).toHaveLength(3);
    for (const t of rm) expect(Array.from(t.data)).toEqual(new Array(B * H).fill(1));
  });

  it('values are 0 or 1/(1-rate), the zero fraction is the rate, and the mask is cached until reset', () => {
    const c = new GRUCell({ units: H, dropout: 0.3, seed: 5 });
    c.build(50);
    const x = ones(400, 50);
    const m1 = c.getDropoutMaskForCell(x, true) as Tensor;
    const scale = Math.fround(1 / 0.7);
    let zeros = 0;
    let other = 0;
    for (const v of m1.data) {
      if (v === 0) zeros++;
      else if (v !== scale) other++;
    }
    expect(other).toBe(0);
    // 20000 draws: the standard deviation of the fraction is 0.0032.
    expect(Math.abs(zeros / 20000 - 0.3)).toBeLessThan(0.015);
    const again = c.getDropoutMaskForCell(x, true) as Tensor;
    expect(Array.from(again.data)).toEqual(Array.from(m1.data));
    c.resetDropoutMask();
    const m2 = c.getDropoutMaskForCell(x, true) as Tensor;
    expect(Array.from(m2.data)).not.toEqual(Array.from(m1.data));
  });

  it('count 3 gives three different masks; a new batch size draws new masks', () => {
    const c = new GRUCell({ units: H, dropout: 0.5, seed: 6 });
    c.build(D);
    const three = c.getDropoutMaskForCell(XT, true, 3) as Tensor[];
    expect(three).toHaveLength(3);
    expect(Array.from(three[0].data)).not.toEqual(Array.from(three[1].data));
    expect(Array.from(three[1].data)).not.toEqual(Array.from(three[2].data));
    const bigger = c.getDropoutMaskForCell(ones(B + 2, D), true, 3) as Tensor[];
    expect(bigger[0].shape).toEqual([B + 2, D]);
  });

  it('getRecurrentDropoutMaskForCell uses recurrentDropout and its own cache', () => {
    const c = new GRUCell({ units: H, dropout: 0.5, recurrentDropout: 0.25, seed: 7 });
    c.build(D);
    const rm = c.getRecurrentDropoutMaskForCell(ones(100, H), true, 3) as Tensor[];
    for (const t of rm) {
      expect(t.shape).toEqual([100, H]);
      for (const v of t.data) expect(v === 0 || v === Math.fround(1 / 0.75)).toBe(true);
    }
    const input = c.getDropoutMaskForCell(XT, true) as Tensor;
    for (const v of input.data) expect(v === 0 || v === 2).toBe(true);
    c.resetRecurrentDropoutMask();
    const again = c.getRecurrentDropoutMaskForCell(ones(100, H), true, 3) as Tensor[];
    expect(Array.from(again[0].data)).not.toEqual(Array.from(rm[0].data));
    // Resetting the recurrent mask does not touch the input mask.
    expect(Array.from((c.getDropoutMaskForCell(XT, true) as Tensor).data)).toEqual(Array.from(input.data));
  });

  it('a (1, units) state draws (1, units) recurrent masks, as Keras draws them from h_tm1, broadcast over the batch', () => {
    const c = new GRUCell({ units: H, dtype: 'float64', recurrentDropout: 0.5, seed: 3 });
    const { cell: ref } = cellWith({ recurrentDropout: 0.5 });
    c.setWeights(ref.getWeights());
    const row = { shape: [1, H], data: H_PREV.slice(0, H) };
    const out = c.call(XT, [row], { training: true });
    const drawn = c.getRecurrentDropoutMask(B) as Float64Array[];
    expect(drawn.map((m) => m.length)).toEqual([H, H, H]);
    // The same masks tiled over the batch with the state tiled give the same step.
    const tile = (a: ArrayLike<number>) => ({ shape: [B, H], data: [0, 1, 2].flatMap(() => Array.from(a)) });
    ref.setRecurrentDropoutMask(drawn.map(tile), B);
    const want = ref.call(XT, [tile(row.data)], { training: true });
    expect(Array.from(out.output.data)).toEqual(Array.from(want.output.data));
  });

  it('implementation 1 (forced by recurrentDropout) draws three input masks; implementation 2 one', () => {
    const c1 = new GRUCell({ units: H, dropout: 0.5, recurrentDropout: 0.1, seed: 2 });
    c1.build(D);
    expect(c1.dropoutMaskCount).toBe(3);
    expect(c1.getDropoutMask(B)).toHaveLength(3);
    expect(c1.getRecurrentDropoutMask(B)).toHaveLength(3);
    const explicit = new GRUCell({ units: H, dropout: 0.5, implementation: 1 });
    expect(explicit.dropoutMaskCount).toBe(3);
    const c2 = new GRUCell({ units: H, dropout: 0.5, seed: 2 });
    c2.build(D);
    expect(c2.dropoutMaskCount).toBe(1);
    const [m] = c2.getDropoutMask(B) as Float32Array[];
    expect(m.length).toBe(B * D);
    expect(c2.getDropoutMask(B)?.[0]).toBe(m);
  });

  it('call() in training reuses the cached masks at every step until reset (Keras caches per sequence)', () => {
    const { cell } = cellWith({ dropout: 0.5, recurrentDropout: 0.5, seed: 3 });
    const a = Array.from(cell.call(XT, [HT], { training: true }).output.data);
    const b = Array.from(cell.call(XT, [HT], { training: true }).output.data);
    expect(b).toEqual(a);
    cell.resetDropoutMask();
    cell.resetRecurrentDropoutMask();
    expect(Array.from(cell.call(XT, [HT], { training: true }).output.data)).not.toEqual(a);
  });

  it('call() outside training equals a cell without dropout', () => {
    const { cell } = cellWith({ dropout: 0.5, recurrentDropout: 0.5, seed: 3 });
    const { cell: plain } = cellWith();
    expect(Array.from(cell.call(XT, [HT]).output.data)).toEqual(Array.from(plain.call(XT, [HT]).output.data));
  });

  it('call() in training applies the masks getDropoutMask/getRecurrentDropoutMask return', () => {
    const { cell, w } = cellWith({ dropout: 0.5, recurrentDropout: 0.5, seed: 4, resetAfter: false });
    const dm = cell.getDropoutMask(B) as Float64Array[];
    const rm = cell.getRecurrentDropoutMask(B) as Float64Array[];
    const out = cell.call(XT, [HT], { training: true }).output.data;
    // Keras implementation 1, reset_after=False, per row.
    const [k, r, bias] = w;
    const G = 3 * H;
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    for (let b = 0; b < B; b++) {
      const x = X.slice(b * D, (b + 1) * D);
      const h = H_PREV.slice(b * H, (b + 1) * H);
      const px = (gate: number, j: number) => x.reduce((a, v, d) => a + v * dm[gate][b * D + d] * k[d * G + gate * H + j], 0) + bias[gate * H + j];
      const hm = (gate: number) => h.map((v, u) => v * rm[gate][b * H + u]);
      const z = h.map((_, j) => sig(px(0, j) + hm(0).reduce((a, v, u) => a + v * r[u * G + j], 0)));
      const rr = h.map((_, j) => sig(px(1, j) + hm(1).reduce((a, v, u) => a + v * r[u * G + H + j], 0)));
      const rh = hm(2).map((v, u) => v * rr[u]);
      const hh = h.map((_, j) => Math.tanh(px(2, j) + rh.reduce((a, v, u) => a + v * r[u * G + 2 * H + j], 0)));
      const expected = h.map((v, j) => z[j] * v + (1 - z[j]) * hh[j]);
      expectClose(out.slice(b * H, (b + 1) * H), expected);
    }
  });

  it('a cached mask for another batch size is redrawn for the new batch, never misapplied', () => {
    const { cell } = cellWith({ dropout: 0.5, seed: 3 });
    cell.call(XT, [HT], { training: true });
    const r = cell.call({ shape: [1, D], data: X.slice(0, D) }, [[H_PREV.slice(0, H)]], { training: true });
    expect(r.output.shape).toEqual([1, H]);
    expect(cell.getDropoutMask(1)?.[0]).toHaveLength(D);
  });

  it('a recurrent mask cached by the tf.keras API with count 1 is replaced by three for the call', () => {
    const c = new GRUCell({ units: 3, recurrentDropout: 0.5, seed: 1 });
    c.build(2);
    c.getRecurrentDropoutMaskForCell([[0.1, 0.2, 0.3]], true);
    const r = c.call([[1, 2]], [[[0.1, 0.2, 0.3]]], { training: true });
    expect(r.output.data.every(Number.isFinite)).toBe(true);
    expect(c.getRecurrentDropoutMask(1)).toHaveLength(3);
  });

  it('the mask API needs a built cell', () => {
    const c = new GRUCell({ units: H, dropout: 0.5 });
    expectGruError(() => c.getDropoutMask(B), "Layer 'gru_cell' has no weights yet");
  });
});

describe('GRUCell config', () => {
  it('fromConfig(getConfig()) round-trips, and builds when the config records an input size', () => {
    const c = new GRUCell({ units: 3, activation: 'selu', recurrentDropout: 0.2, seed: 9, name: 'cellx', dtype: 'float64' });
    const back = GRUCell.fromConfig(c.getConfig());
    expect(back.getConfig()).toEqual(c.getConfig());
    expect(back.name).toBe('cellx');
    expect(back.dtype).toBe('float64');
    const built = GRUCell.fromConfig({ ...c.getConfig(), input_dim: 6 });
    expect(built.built).toBe(true);
    expect(built.kernel.shape).toEqual([6, 9]);
  });

  it('spec() describes the cell to backends', () => {
    const c = new GRUCell({ units: 3, activation: 'swish', useBias: false });
    expectGruError(() => c.spec(), 'has no weights yet');
    c.build(2);
    expect(c.spec()).toEqual({ units: 3, inputDim: 2, activation: 'silu', recurrentActivation: 'sigmoid', useBias: false, resetAfter: true, dtype: 'float32' });
    expect(c.gruWeights().bias).toBeNull();
  });

  it('spec() and gruWeights() return fresh objects the caller may change, without changing the layer', async () => {
    const l = new GRU({ units: 2, seed: 3 });
    const x = { shape: [1, 3, 2], data: new Float32Array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]) };
    const before = l.forwardSync(x).output.data;
    // These assignments threw (frozen, shared objects) in the call-overhead change; they worked before it.
    const s = l.cell.spec();
    s.units = 4;
    s.activation = 'relu';
    const w = l.cell.gruWeights();
    w.bias = null;
    w.kernel = new Float32Array(w.kernel.length);
    expect(l.cell.spec()).not.toBe(l.cell.spec());
    expect(l.cell.spec().units).toBe(2);
    expect(l.cell.gruWeights().bias).not.toBeNull();
    expect(Array.from(l.forwardSync(x).output.data)).toEqual(Array.from(before));
    expect(Array.from((await l.forward(x)).output.data)).toEqual(Array.from(before));
  });
});
