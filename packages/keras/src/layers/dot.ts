import type { Tensor } from '@gru/core';
import type { Shape } from '../config/spec.js';
import type { ConfigReader } from '../config/values.js';
import { preview } from '../io/json.js';
import { layerFail, ModelLayer, newArray, tensorArgs, type Flow, type ValueCall } from './base.js';
import { type LayerKind, listInput } from './kind.js';

/** Dot's two axes for inputs of ranks r1, r2 (an int means the same axis of both; negatives wrap). */
function dotAxes(axes: unknown, r1: number, r2: number, fail: (m: string) => never): [number, number] {
  const pair = typeof axes === 'number' ? (axes < 0 ? [((axes % r1) + r1) % r1, ((axes % r2) + r2) % r2] : [axes, axes]) : axes;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((a) => Number.isInteger(a)))
    fail(`\`axes\` must be an int or two ints, found ${preview(axes)}.`);
  const [a1, a2] = (pair as number[]).map((a, i) => (a < 0 ? ((a % [r1, r2][i]) + [r1, r2][i]) % [r1, r2][i] : a));
  if (a1 < 1 || a1 >= r1 || a2 < 1 || a2 >= r2) fail(`\`axes\` ${preview(axes)} must name non-batch axes of inputs of rank ${r1} and ${r2}.`);
  return [a1, a2];
}

/** Keras's L2 normalize along `axis`: x * min(rsqrt(sum(x^2)), 1/epsilon), epsilon 1e-7. */
function l2normalize(t: Tensor, axis: number, dtype: 'float32' | 'float64'): Tensor {
  const n = t.shape[axis];
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = t.data.length / Math.max(1, n * inner);
  const out = newArray(dtype, t.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += t.data[(o * n + k) * inner + i] ** 2;
      const inv = Math.min(1 / Math.sqrt(s), 1e7);
      for (let k = 0; k < n; k++) out[(o * n + k) * inner + i] = t.data[(o * n + k) * inner + i] * inv;
    }
  }
  return { shape: [...t.shape], data: out };
}

/** Moves axis `a` of [batch, ...] to the end and flattens the rest: [batch, rows, n]. */
function toRows(t: Tensor, a: number): { data: Float64Array; rows: number; n: number; dims: number[] } {
  const [B] = t.shape;
  const n = t.shape[a];
  const dims = t.shape.filter((_, i) => i !== 0 && i !== a);
  const rows = dims.reduce((x, y) => x * y, 1);
  const inner = t.shape.slice(a + 1).reduce((x, y) => x * y, 1);
  const outerPer = rows / Math.max(1, inner);
  const data = new Float64Array(B * rows * n);
  for (let b = 0; b < B; b++)
    for (let o = 0; o < outerPer; o++)
      for (let k = 0; k < n; k++) for (let i = 0; i < inner; i++) data[(b * rows + o * inner + i) * n + k] = t.data[((b * outerPer + o) * n + k) * inner + i];
  return { data, rows, n, dims };
}

/** Keras's Dot: batch_dot over one axis of each input (optionally L2-normalized first); a (batch,) result becomes (batch, 1). */
export class DotLayer extends ModelLayer {
  override readonly supportsMasking = true;
  call(call: ValueCall): Flow[] {
    const [x, y] = tensorArgs(call).map((f) => f.tensor);
    const fail = layerFail(this);
    const [a1, a2] = dotAxes(this.config.axes, x.shape.length, y.shape.length, fail);
    if (x.shape[0] !== y.shape[0] || x.shape[a1] !== y.shape[a2])
      fail(`cannot take the dot product of shapes ${preview([x.shape, y.shape])} on axes ${a1}, ${a2}.`);
    const norm = this.config.normalize === true;
    const X = toRows(norm ? l2normalize(x, a1, this.dtype) : x, a1);
    const Y = toRows(norm ? l2normalize(y, a2, this.dtype) : y, a2);
    const B = x.shape[0];
    const out = newArray(this.dtype, B * X.rows * Y.rows);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < X.rows; i++)
        for (let j = 0; j < Y.rows; j++) {
          let s = 0;
          for (let k = 0; k < X.n; k++) s += X.data[(b * X.rows + i) * X.n + k] * Y.data[(b * Y.rows + j) * Y.n + k];
          out[(b * X.rows + i) * Y.rows + j] = s;
        }
    const dims = [...X.dims, ...Y.dims];
    return [{ tensor: { shape: [B, ...(dims.length ? dims : [1])], data: out }, mask: null }];
  }
  override computeMask(): (Uint8Array | null)[] {
    return [null];
  }
}

export const dotKind: LayerKind = {
  className: 'Dot',
  analyze(r: ConfigReader, call) {
    const shapes = listInput(r, call, 2);
    if (shapes.length !== 2) r.fail(`takes exactly 2 inputs, found ${shapes.length}.`);
    const [s1, s2] = shapes;
    const [a1, a2] = dotAxes(r.config.axes, s1.length, s2.length, (m) => r.fail(m));
    if (s1[a1] !== null && s2[a2] !== null && s1[a1] !== s2[a2]) r.fail(`axis sizes differ: ${s1[a1]} (axis ${a1}) and ${s2[a2]} (axis ${a2}).`);
    r.bool('normalize', false);
    const dims: Shape = [...s1.filter((_, i) => i !== 0 && i !== a1), ...s2.filter((_, i) => i !== 0 && i !== a2)];
    return { outputShapes: [[s1[0], ...(dims.length ? dims : [1])]], weights: [] };
  },
  create: (spec) => new DotLayer(spec),
};
