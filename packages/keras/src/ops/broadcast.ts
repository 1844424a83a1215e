import type { Tensor } from '@gru/core';
import type { Shape } from '../config/spec.js';
import { formatShape } from '../errors.js';

/** numpy's broadcast of two shapes (null: unknown size), or a message saying why they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape): Shape | string {
  const rank = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    // A missing leading axis counts as 1; an unknown (null) one stays unknown.
    const ia = a.length - rank + i;
    const ib = b.length - rank + i;
    const x = ia < 0 ? 1 : a[ia];
    const y = ib < 0 ? 1 : b[ib];
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === null) out.push(y);
    else if (y === null || x === y) out.push(x);
    else return `shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast`;
  }
  return out;
}

/** `f` applied elementwise with numpy broadcasting; `out` is allocated by the caller's choice of array. */
export function broadcastApply(
  a: Tensor,
  b: Tensor,
  make: (n: number) => Float32Array | Float64Array,
  f: (x: number, y: number) => number,
  fail: (m: string) => never,
): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  if (typeof shape === 'string') fail(shape);
  const dims = shape as number[];
  const rank = dims.length;
  const strides = (s: number[]) => {
    const st = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = s.length - 1; i >= 0; i--) {
      const at = rank - s.length + i;
      st[at] = s[i] === 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  };
  const sa = strides(a.shape);
  const sb = strides(b.shape);
  const n = dims.reduce((p, d) => p * d, 1);
  const out = make(n);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let k = 0; k < n; k++) {
    out[k] = f(a.data[ia], b.data[ib]);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < dims[d]) break;
      ia -= sa[d] * dims[d];
      ib -= sb[d] * dims[d];
      idx[d] = 0;
    }
  }
  return { shape: dims, data: out };
}
