import type { Tensor } from '@gru/core';
import type { Shape, WeightSpec } from '../config/spec.js';
import type { ConfigReader } from '../config/values.js';
import { preview } from '../io/json.js';
import { normAxis } from '../ops/op-layer.js';
import { layerFail, newArray, sizeOf, type Flow, type ValueCall } from './base.js';
import { broadcastIndex, broadcastsTo } from './broadcast-index.js';
import { KernelLayer } from './kernel-layer.js';
import { type LayerKind, onlyInput } from './kind.js';

/** Keras's backend.epsilon(): Normalization divides by max(sqrt(variance), epsilon). */
const EPSILON = 1e-7;

/** A constant of a config (a number, nested lists, or a serialized numpy array) as a tensor, or a reason. */
export function constantOf(value: unknown): Tensor | string {
  let v = value;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const c = o.config as Record<string, unknown> | undefined;
    if (o.class_name !== '__numpy__' || !c || typeof c !== 'object') return `${preview(value)} is not a number or a list of numbers`;
    v = c.value;
  }
  const shape: number[] = [];
  for (let d = v; Array.isArray(d); d = d[0]) shape.push(d.length);
  const flat = shape.length ? (v as unknown[]).flat(shape.length) : [v];
  if (flat.length !== sizeOf(shape) || !flat.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    return `${preview(value)} is not a number or a (rectangular) list of numbers`;
  }
  return { shape, data: Float64Array.from(flat as number[]) };
}

/** Float32 rounding for a float32 layer (Keras computes each step in float32), none for float64. */
const rounding = (dtype: 'float32' | 'float64'): ((x: number) => number) => (dtype === 'float32' ? Math.fround : (x) => x);

/** `x * scale + offset`, scale and offset broadcast (numpy rules) against one sample. */
export class RescalingLayer extends KernelLayer {
  override readonly supportsMasking = true;
  call(call: ValueCall): Flow[] {
    const [x] = this.inputs(call);
    const r = rounding(this.dtype);
    const scale = constantOf(this.config.scale) as Tensor;
    const offset = constantOf(this.config.offset ?? 0) as Tensor;
    const sample = x.shape.slice(1);
    const fail = layerFail(this);
    for (const [name, t] of [
      ['scale', scale],
      ['offset', offset],
    ] as const) {
      if (!broadcastsTo(t.shape, sample))
        fail(`\`${name}\` of shape [${t.shape.join(', ')}] does not broadcast to its input's sample shape [${sample.join(', ')}].`);
    }
    const si = broadcastIndex(scale.shape, sample);
    const oi = broadcastIndex(offset.shape, sample);
    const per = sizeOf(sample);
    const out = newArray(this.dtype, x.data.length);
    for (let k = 0; k < per; k++) {
      const s = r(scale.data[si[k]]);
      const o = r(offset.data[oi[k]]);
      for (let j = k; j < x.data.length; j += per) out[j] = r(r(x.data[j] * s) + o);
    }
    return [{ tensor: { shape: [...x.shape], data: out }, mask: null }];
  }
}

/** The axes Normalization keeps (its statistics' axes), sorted; Keras's default keeps the last, axis=None none. */
function keptAxes(axis: unknown, rank: number, fail: (m: string) => never): number[] {
  const list = axis === undefined ? [-1] : axis === null ? [] : Array.isArray(axis) ? axis : [axis];
  return [...new Set(list.map((a) => normAxis(a, rank, fail)))].sort((a, b) => a - b);
}

/** The statistics' shape for `input`: its kept axes' sizes (each known; the batch axis where the input fixes it). */
function statsShape(r: ConfigReader, input: Shape): { kept: number[]; shape: number[] } {
  const kept = keptAxes(r.config.axis, input.length, (m) => r.fail(m));
  // The batch axis too, where the input fixes its size (Keras's build needs a known size only).
  const shape = kept.map((a) => {
    const d = input[a];
    if (typeof d !== 'number')
      r.fail(
        `All \`axis\` values to be kept must have a known shape. Received: axis=${preview(r.config.axis)}, inputs.shape=${preview(input)}, with unknown axis at index ${a}.`,
      );
    return d as number;
  });
  return { kept, shape };
}

/**
 * Keras's Normalization at inference: `(x - mean) / max(sqrt(variance), 1e-7)`, or with
 * invert=True `mean + x * max(sqrt(variance), 1e-7)`. The statistics come from the weights an
 * adapted layer saves (mean, variance, count), or from `mean` / `variance` in the config.
 */
export class PreprocessingNormalizationLayer extends KernelLayer {
  override readonly supportsMasking = true;

  override fixedBatchReason(): string | undefined {
    const kept = keptAxes(this.config.axis, this.inputShape.length, layerFail(this));
    return kept[0] === 0 ? `Normalization '${this.name}' keeps the batch axis (statistics per sample)` : undefined;
  }
  call(call: ValueCall): Flow[] {
    const [x] = this.inputs(call);
    const c = this.config;
    const rank = x.shape.length;
    const kept = keptAxes(c.axis, rank, layerFail(this));
    // Keras's _broadcast_shape: the kept axes' sizes, 1 elsewhere.
    const bshape = x.shape.map((d, i) => (kept.includes(i) ? d : 1));
    const stats = (name: 'mean' | 'variance'): Tensor => {
      const w = this.weight(name);
      if (w) return { shape: bshape, data: w.data };
      // Given values: a scalar broadcasts; otherwise their axes line up with the last kept axes.
      const t = constantOf(c[name]) as Tensor;
      if (!t.shape.length) return t;
      const shape = new Array<number>(rank).fill(1);
      t.shape.forEach((d, i) => {
        shape[kept[kept.length - t.shape.length + i]] = d;
      });
      if (!broadcastsTo(shape, bshape))
        layerFail(this)(`\`${name}\` of shape [${t.shape.join(', ')}] does not broadcast to [${bshape.join(', ')}] (axis ${preview(c.axis)}).`);
      return { shape, data: t.data };
    };
    const mean = stats('mean');
    const variance = stats('variance');
    // The statistics' span: one sample, or the whole batch when they keep the batch axis.
    const span = kept[0] === 0 ? x.shape : x.shape.slice(1);
    const lead = rank - span.length;
    const mi = broadcastIndex(mean.shape.length ? mean.shape.slice(lead) : [], span);
    const vi = broadcastIndex(variance.shape.length ? variance.shape.slice(lead) : [], span);
    const r = rounding(this.dtype);
    const eps = r(EPSILON);
    const invert = c.invert === true;
    const per = sizeOf(span);
    const out = newArray(this.dtype, x.data.length);
    for (let k = 0; k < per; k++) {
      const m = r(mean.data[mi[k]]);
      const s = Math.max(r(Math.sqrt(r(variance.data[vi[k]]))), eps);
      for (let j = k; j < x.data.length; j += per) out[j] = invert ? r(m + r(x.data[j] * s)) : r(r(x.data[j] - m) / s);
    }
    return [{ tensor: { shape: [...x.shape], data: out }, mask: null }];
  }
}

export const preprocessingKinds: LayerKind[] = [
  {
    className: 'Rescaling',
    analyze(r, call) {
      const input = onlyInput(r, call);
      for (const key of ['scale', 'offset']) {
        const t = constantOf(r.config[key] ?? (key === 'offset' ? 0 : undefined));
        if (typeof t === 'string') return r.unsupported(`\`${key}\`: ${t}.`);
        // Axes of unknown size are checked when the model runs.
        const sample = input.slice(1);
        if (!broadcastsTo(t.shape, sample, true))
          r.fail(`\`${key}\` of shape [${t.shape.join(', ')}] does not broadcast to its input's sample shape ${preview(sample)}.`);
      }
      return { outputShapes: [input], weights: [] };
    },
    create: (spec, weights) => new RescalingLayer(spec, weights),
  },
  {
    className: 'Normalization',
    analyze(r, call) {
      const input = onlyInput(r, call);
      const { shape } = statsShape(r, input);
      const given = r.config.mean !== null && r.config.mean !== undefined;
      if (given !== (r.config.variance !== null && r.config.variance !== undefined))
        r.fail(
          `When setting values directly, both \`mean\` and \`variance\` must be set. Received: mean=${preview(r.config.mean)} and variance=${preview(r.config.variance)}`,
        );
      if (r.config.invert !== undefined && typeof r.config.invert !== 'boolean') r.fail(`\`invert\` must be true or false, found ${preview(r.config.invert)}.`);
      if (given) {
        const m = constantOf(r.config.mean);
        const v = constantOf(r.config.variance);
        if (typeof m === 'string') return r.fail(`\`mean\`: ${m}.`);
        if (typeof v === 'string') return r.fail(`\`variance\`: ${v}.`);
        if (m.shape.join() !== v.shape.join())
          r.fail(
            `When setting values directly, \`mean\` and \`variance\` must have the same shape. Received: mean shape ${preview(m.shape)} and variance shape ${preview(v.shape)}`,
          );
        if (m.shape.length > shape.length)
          r.fail(`The rank of \`mean\` must be less than or equal to the number of axes (${shape.length}). Received: mean shape ${preview(m.shape)}`);
        if (!broadcastsTo(m.shape, shape)) r.fail(`\`mean\` of shape ${preview(m.shape)} does not broadcast to the kept axes' shape ${preview(shape)}.`);
        return { outputShapes: [input], weights: [] };
      }
      // An adapted layer saves its statistics and the sample count (an integer, unused at inference).
      const weights: WeightSpec[] = [
        { name: 'mean', shape, keras3Path: 'vars/0' },
        { name: 'variance', shape, keras3Path: 'vars/1' },
        { name: 'count', shape: [], keras3Path: 'vars/2', integer: true },
      ];
      return { outputShapes: [input], weights };
    },
    create: (spec, weights) => new PreprocessingNormalizationLayer(spec, weights),
  },
];
