import type { Tensor } from '@gru/core';
import type { LayerSpec, Shape } from '../config/spec.js';
import { formatShape } from '../errors.js';
import { preview } from '../io/json.js';
import { normAxis } from '../ops/op-layer.js';
import { callMaskShapes, layerFail, ModelLayer, newArray, sameShape, tensorArgs, type Flow, type ValueCall } from './base.js';
import { type LayerKind, listInput } from './kind.js';
import { anyLast, fullMask, orMasks } from './mask-ops.js';
import { concatAxis } from './tensor-ops.js';
import { broadcastShapes } from '../ops/broadcast.js';

type Combine = (acc: number, x: number) => number;

/** How a merge treats the masks its inputs carry inside its call (Keras's `_merge_function`). */
type MaskRule = 'none' | 'multiply' | 'select';

/**
 * Keras's elementwise merges (Add, Subtract, Multiply, Average, Maximum, Minimum): the inputs are
 * folded left to right, each step rounded to the layer's dtype as Keras's ops are; Average then
 * divides by the count. The output mask is the OR of the input masks, or none if any is missing.
 */
export class MergeLayer extends ModelLayer {
  override readonly supportsMasking = true;
  constructor(
    spec: LayerSpec,
    private readonly combine: Combine,
    private readonly average: boolean,
    private readonly rule: MaskRule,
  ) {
    super(spec);
  }

  call(call: ValueCall): Flow[] {
    const xs = tensorArgs(call).map((f) => f.tensor);
    checkEqualShapes(layerFail(this), xs);
    const masks = tensorArgs(call).map((f) => f.mask);
    const out = newArray(this.dtype, xs[0].data.length);
    if (this.rule === 'none' || masks.every((m) => m === null)) {
      out.set(xs[0].data);
      for (const x of xs.slice(1)) for (let i = 0; i < out.length; i++) out[i] = this.combine(out[i], x.data[i]);
      if (this.average) for (let i = 0; i < out.length; i++) out[i] = out[i] / xs.length;
    } else if (this.rule === 'multiply') this.maskedMultiply(xs, masks, out);
    else this.maskedSelect(xs, masks, out);
    return [{ tensor: { shape: [...xs[0].shape], data: out }, mask: null }];
  }

  /** Keras's Multiply with masks: masked values count as 1; with every input masked, positions masked in all are 0. */
  private maskedMultiply(xs: Tensor[], masks: (Uint8Array | null)[], out: Float32Array | Float64Array): void {
    const full = xs.map((x, k) => (masks[k] ? fullMask(x, masks[k]) : null));
    const all = full.every((m) => m !== null);
    for (let i = 0; i < out.length; i++) {
      let acc = 1;
      let any = 0;
      xs.forEach((x, k) => {
        const m = full[k];
        const v = m && !m[i] ? 1 : x.data[i];
        acc = k === 0 ? v : this.combine(acc, v);
        if (m) any |= m[i];
      });
      out[i] = all && !any ? 0 : acc;
    }
  }

  /**
   * Keras's Maximum/Minimum with masks (`_apply_merge_op_and_or_mask`): a masked value is replaced
   * by the running result, and a masked running result by the value, before each step.
   */
  private maskedSelect(xs: Tensor[], masks: (Uint8Array | null)[], out: Float32Array | Float64Array): void {
    const full = xs.map((x, k) => (masks[k] ? fullMask(x, masks[k]) : null));
    out.set(xs[0].data);
    let outMask: Uint8Array | null = full[0] ? full[0].slice() : null;
    xs.slice(1).forEach((x, j) => {
      const m = full[j + 1];
      for (let i = 0; i < out.length; i++) {
        let v = x.data[i];
        let o = out[i];
        if (m && !m[i]) v = o;
        if (outMask && !outMask[i]) o = v;
        out[i] = this.combine(o, v);
      }
      if (m && outMask) for (let i = 0; i < outMask.length; i++) outMask[i] |= m[i];
      else outMask = null;
    });
  }

  override computeMask(_call: ValueCall, previous: (Uint8Array | null)[] | null): (Uint8Array | null)[] {
    if (!previous || previous.some((m) => m === null)) return [null];
    return [orMasks(previous as Uint8Array[])];
  }

  /**
   * The masks its inputs carry, by shape: Keras ORs them (`logical_or`, which fails on shapes that
   * differ), and Multiply/Maximum/Minimum read each one value per position of its input but the
   * last axis; gru reads them so by value, where a mask of another shape ran as another mask.
   */
  override checkCallMasks(fail: (message: string) => never, call: ValueCall, implicit: boolean): void {
    const flows = tensorArgs(call);
    // The inputs first: their masks' shapes follow from theirs, and inputs that differ fail anyway.
    checkEqualShapes(
      fail,
      flows.map((f) => f.tensor),
    );
    const shapes = callMaskShapes(call, implicit);
    const given = shapes.flatMap((s, i) => (s ? [{ s, i }] : []));
    for (const { s, i } of given) {
      const own = flows[i]?.tensor.shape.slice(0, -1);
      if (own && this.rule !== 'none' && !sameShape(s, own)) {
        fail(
          `the mask of input ${i} has shape ${formatShape(s)}; its input of shape ${formatShape(flows[i].tensor.shape)} needs a mask of shape ${formatShape(own)}.`,
        );
      }
      // Keras ORs them only when every input has one.
      if (given.length === flows.length && !sameShape(s, given[0].s)) {
        fail(
          `the masks of its inputs have shapes ${given.map((g) => formatShape(g.s)).join(' and ')}; Keras combines them with logical_or, which needs equal shapes.`,
        );
      }
    }
  }
}

/**
 * gru's elementwise merges combine inputs of one shape, value by value. Keras broadcasts inputs
 * (and so masks) of shapes like (2, 4, 3) and (2, 1, 3), which the load-time check lets through
 * as Keras does; such a call is refused here, naming the inputs' shapes.
 */
function checkEqualShapes(fail: (message: string) => never, xs: Tensor[]): void {
  if (xs.some((x) => !sameShape(x.shape, xs[0].shape))) {
    fail(`inputs must have equal shapes in gru (Keras broadcasts them; gru does not), received ${xs.map((x) => formatShape(x.shape)).join(' and ')}.`);
  }
}

function mergeKind(className: string, combine: Combine, opts: { average?: boolean; exactly?: number; rule?: MaskRule } = {}): LayerKind {
  return {
    className,
    analyze(r, call) {
      const shapes = listInput(r, call, opts.exactly ?? 1);
      if (opts.exactly && shapes.length !== opts.exactly) r.fail(`takes exactly ${opts.exactly} inputs, found ${shapes.length}.`);
      let out: Shape = shapes[0];
      for (const s of shapes.slice(1)) {
        const b = broadcastShapes(out, s);
        if (typeof b === 'string' || b.length !== s.length || s.length !== shapes[0].length) r.fail(`inputs must have equal shapes, found ${preview(shapes)}.`);
        out = b as Shape;
      }
      return { outputShapes: [out], weights: [] };
    },
    create: (spec) => new MergeLayer(spec, combine, opts.average === true, opts.rule ?? 'none'),
  };
}

/**
 * Keras's Concatenate on `axis`. Its mask: each input's mask spread over its full shape (ones
 * where an input has none), concatenated on the axis, then any() over the last axis.
 */
export class ConcatenateLayer extends ModelLayer {
  override readonly supportsMasking = true;
  call(call: ValueCall): Flow[] {
    const xs = tensorArgs(call).map((f) => f.tensor);
    const fail = layerFail(this);
    const rank = xs[0].shape.length;
    const axis = normAxis(this.config.axis ?? -1, rank, fail);
    for (const x of xs) {
      if (x.shape.length !== rank || x.shape.some((d, i) => i !== axis && d !== xs[0].shape[i])) {
        fail(`inputs must match on every axis but ${axis}, found ${preview(xs.map((t) => t.shape))}.`);
      }
    }
    return [{ tensor: concatAxis(xs, axis, this.dtype), mask: null }];
  }

  override computeMask(call: ValueCall, previous: (Uint8Array | null)[] | null): (Uint8Array | null)[] {
    if (!previous || previous.every((m) => m === null)) return [null];
    const xs = tensorArgs(call).map((f) => f.tensor);
    const axis = normAxis(this.config.axis ?? -1, xs[0].shape.length, layerFail(this));
    const parts = this.maskParts(layerFail(this), call, true);
    const asTensors: Tensor[] = xs.map((x, i) => {
      const m = previous[i] ?? null;
      return { shape: [...parts[i].shape], data: Float32Array.from(m !== null && parts[i].asIs ? m : fullMask(x, m)) };
    });
    const joined = concatAxis(asTensors, axis, 'float32');
    return [anyLast(Uint8Array.from(joined.data), joined.shape)];
  }

  /** Its mask is reduced over the concatenated last axis: the output's shape without its last axis. */
  override computeMaskShape(): null {
    return null;
  }

  override checkCallMasks(fail: (message: string) => never, call: ValueCall, implicit: boolean): void {
    this.maskParts(fail, call, implicit);
  }

  /**
   * The shape each input's mask is concatenated with, as Keras's compute_mask builds it: a mask
   * of its input's rank as it is ((batch, steps, k) from a TimeDistributed), any other spread over
   * its input (ones where it has none); they must agree on every axis but the concatenated one.
   */
  private maskParts(fail: (message: string) => never, call: ValueCall, implicit: boolean): { shape: readonly number[]; asIs: boolean }[] {
    const xs = tensorArgs(call).map((f) => f.tensor);
    const axis = normAxis(this.config.axis ?? -1, xs[0].shape.length, fail);
    const given = callMaskShapes(call, implicit);
    const parts = xs.map((x, i) => {
      const s = given[i];
      if (!s || sameShape(s, x.shape.slice(0, -1))) return { shape: x.shape, asIs: false };
      if (s.length !== x.shape.length) {
        fail(
          `the mask of input ${i} has shape ${formatShape(s)}; its input of shape ${formatShape(x.shape)} needs a mask of shape ${formatShape(x.shape.slice(0, -1))}, or of its rank.`,
        );
      }
      return { shape: s, asIs: true };
    });
    if (parts.some((p) => p.shape.some((d, j) => j !== axis && d !== parts[0].shape[j]))) {
      fail(
        `its inputs' masks, as Keras concatenates them on axis ${axis}, have shapes ${parts.map((p) => formatShape(p.shape)).join(' and ')}, which differ on another axis.`,
      );
    }
    return parts;
  }
}

const concatenateKind: LayerKind = {
  className: 'Concatenate',
  analyze(r, call) {
    const shapes = listInput(r, call, 1);
    const rank = shapes[0].length;
    const axis = normAxis(r.config.axis ?? -1, rank, (m) => r.fail(m));
    let size: number | null = 0;
    for (const s of shapes) {
      if (s.length !== rank || s.some((d, i) => i !== axis && d !== null && shapes[0][i] !== null && d !== shapes[0][i])) {
        r.fail(`inputs must match on every axis but ${axis}, found ${preview(shapes)}.`);
      }
      size = size === null || s[axis] === null ? null : size + (s[axis] as number);
    }
    return { outputShapes: [shapes[0].map((d, i) => (i === axis ? size : d))], weights: [] };
  },
  create: (spec) => new ConcatenateLayer(spec),
};

export const mergeKinds: LayerKind[] = [
  concatenateKind,
  mergeKind('Add', (a, x) => a + x),
  mergeKind('Subtract', (a, x) => a - x, { exactly: 2 }),
  mergeKind('Multiply', (a, x) => a * x, { rule: 'multiply' }),
  mergeKind('Average', (a, x) => a + x, { average: true }),
  mergeKind('Maximum', (a, x) => Math.max(a, x), { rule: 'select' }),
  mergeKind('Minimum', (a, x) => Math.min(a, x), { rule: 'select' }),
];
