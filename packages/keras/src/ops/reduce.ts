import type { Tensor } from '@gru/core';
import type { Shape } from '../config/spec.js';
import { preview } from '../io/json.js';
import { arrayLength } from '../kernels/common.js';
import { type OpDef, normAxis, opKind } from './op-layer.js';

/** The axes a reduction's config names (null: every axis), as sorted non-negative indices. */
function axesOf(axis: unknown, rank: number, fail: (m: string) => never): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  return [...new Set(list.map((a) => normAxis(a, rank, fail)))].sort((x, y) => x - y);
}

function keepdims(config: Record<string, unknown>, fail: (m: string) => never): boolean {
  const k = config.keepdims ?? false;
  if (typeof k !== 'boolean') fail(`\`keepdims\` must be true or false, found ${preview(k)}.`);
  return k as boolean;
}

/** A reduction's output shape: its one operand without the reduced axes (kept as 1 with keepdims). */
const reducedShape: OpDef['shape'] = (r, args) => {
  if (args.length !== 1 || typeof args[0] === 'number') r.fail('takes one tensor operand.');
  const s = args[0] as Shape;
  const fail = (m: string) => r.fail(m);
  const axes = axesOf(r.config.axis, s.length, fail);
  const keep = keepdims(r.config, fail);
  return s.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
};

/** `any` / `all` over axes, as Keras's ops.any and ops.all (bool results as 0/1). */
function reduction(className: string, any: boolean): OpDef {
  return {
    className,
    shape: reducedShape,
    run(args, config, fail) {
      const x = args[0] as Tensor;
      const axes = axesOf(config.axis, x.shape.length, fail);
      const keep = keepdims(config, fail);
      const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const n = outShape.reduce((p, d) => p * d, 1);
      const out = new Float32Array(n).fill(any ? 0 : 1);
      const rank = x.shape.length;
      const idx = new Array<number>(rank).fill(0);
      for (let k = 0; k < x.data.length; k++) {
        let o = 0;
        for (let d = 0; d < rank; d++) o = o * outShape[d] + (axes.includes(d) ? 0 : idx[d]);
        const v = x.data[k] !== 0;
        if (any ? v : !v) out[o] = any ? 1 : 0;
        for (let d = rank - 1; d >= 0; d--) {
          if (++idx[d] < x.shape[d]) break;
          idx[d] = 0;
        }
      }
      return { shape: keep ? outShape : x.shape.filter((_, i) => !axes.includes(i)), data: out };
    },
  };
}

type Fold = 'sum' | 'mean' | 'max' | 'min';

/**
 * `sum` / `mean` / `max` / `min` over axes, as Keras's ops of those names (axis None: every axis;
 * keepdims; max and min take an `initial` value), in the operand's float type.
 */
function numericReduction(className: string, fold: Fold): OpDef {
  const extreme = fold === 'max' || fold === 'min';
  const initialOf = (config: Record<string, unknown>, fail: (m: string) => never): number | null => {
    const v = config.initial ?? null;
    if (!extreme || v === null) return null;
    if (typeof v !== 'number') fail(`\`initial\` must be a number or None, found ${preview(v)}.`);
    return v as number;
  };
  return {
    className,
    shape(r, args) {
      initialOf(r.config, (m: string) => r.fail(m));
      return reducedShape(r, args);
    },
    run(args, config, fail) {
      const x = args[0] as Tensor;
      const axes = axesOf(config.axis, x.shape.length, fail);
      const keep = keepdims(config, fail);
      const initial = initialOf(config, fail);
      const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const n = outShape.reduce((p, d) => p * d, 1);
      const count = x.shape.reduce((p, d, i) => (axes.includes(i) ? p * d : p), 1);
      if (extreme && count === 0 && initial === null && n > 0) fail(`cannot take the ${fold} over axes of size 0 without \`initial\` (Keras fails too).`);
      const acc = new Float64Array(n).fill(extreme ? (initial ?? (fold === 'max' ? -Infinity : Infinity)) : 0);
      const rank = x.shape.length;
      const idx = new Array<number>(rank).fill(0);
      for (let k = 0; k < x.data.length; k++) {
        let o = 0;
        for (let d = 0; d < rank; d++) o = o * outShape[d] + (axes.includes(d) ? 0 : idx[d]);
        const v = x.data[k];
        // NaN propagates through max and min, as in numpy.
        acc[o] = fold === 'max' ? (v > acc[o] || Number.isNaN(v) ? v : acc[o]) : fold === 'min' ? (v < acc[o] || Number.isNaN(v) ? v : acc[o]) : acc[o] + v;
        for (let d = rank - 1; d >= 0; d--) {
          if (++idx[d] < x.shape[d]) break;
          idx[d] = 0;
        }
      }
      const out = x.data instanceof Float64Array ? new Float64Array(arrayLength(n, 8)) : new Float32Array(arrayLength(n, 4));
      for (let i = 0; i < n; i++) out[i] = fold === 'mean' ? acc[i] / count : acc[i];
      return { shape: keep ? outShape : x.shape.filter((_, i) => !axes.includes(i)), data: out };
    },
  };
}

export const reduceOps = [
  reduction('Any', true),
  reduction('All', false),
  numericReduction('Sum', 'sum'),
  numericReduction('Mean', 'mean'),
  numericReduction('Max', 'max'),
  numericReduction('Min', 'min'),
].map(opKind);
