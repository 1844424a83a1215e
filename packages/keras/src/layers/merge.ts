import type { Tensor } from '@gru/core';
import type { LayerSpec, Shape } from '../config/spec.js';
import { formatShape } from '../errors.js';
import { preview } from '../io/json.js';
import { normAxis } from '../ops/op-layer.js';
import { callMaskShapes, flowMaskShape, layerFail, ModelLayer, newArray, sameShape, sizeOf, tensorArgs, type Flow, type ValueCall } from './base.js';
import { type LayerKind, listInput } from './kind.js';
import { anyLast, broadcastArray, broadcastMask, fullMask, orMasks } from './mask-ops.js';
import { expandedShape, mergeOutputShape } from './merge-shapes.js';
import { concatAxis } from './tensor-ops.js';
import { broadcastShapes } from '../ops/broadcast.js';

type Combine = (acc: number, x: number) => number;

/** How a merge treats the masks its inputs carry inside its call (Keras's `_merge_function`). */
type MaskRule = 'none' | 'multiply' | 'select';

/**
 * Keras's elementwise merges (Add, Subtract, Multiply, Average, Maximum, Minimum): the inputs are
 * broadcast as Keras's merge broadcasts them (`mergeOutputShape`; inputs of a lower rank get size-1
 * axes after the batch axis first) and folded left to right, each step rounded to the layer's
 * dtype as Keras's ops are; Average then divides by the count. The output mask is the OR of the
 * input masks (numpy-broadcast, as `logical_or` does), or none if any is missing.
 */
export class MergeLayer extends ModelLayer {
  override readonly supportsMasking = true;
  private readonly shapes = new WeakMap<ValueCall, number[]>();
  constructor(
    spec: LayerSpec,
    private readonly combine: Combine,
    private readonly average: boolean,
    private readonly rule: MaskRule,
  ) {
    super(spec);
  }

  call(call: ValueCall): Flow[] {
    const flows = tensorArgs(call);
    const shape = this.callShape(call, layerFail(this));
    const rank = Math.max(...flows.map((f) => f.tensor.shape.length));
    // Each input spread over the output's shape (itself when it has it): elementwise steps give
    // the same values on broadcast operands as on the small ones.
    const xs = flows.map((f) => this.spread(f.tensor, expandedShape(f.tensor.shape, rank), shape));
    const out = newArray(this.dtype, sizeOf(shape));
    // The masks Keras's merge function reads, over the output's shape: a reshaped input carries none.
    // Add, Subtract and Average read none, so theirs are not even spread (checkCallMasks checks
    // only the masks that are read against their inputs).
    const masks =
      this.rule === 'none'
        ? []
        : flows.map((f) => (f.mask !== null && f.tensor.shape.length === rank ? broadcastMask(fullMask(f.tensor, f.mask), f.tensor.shape, shape) : null));
    if (masks.every((m) => m === null)) {
      out.set(xs[0]);
      for (const x of xs.slice(1)) for (let i = 0; i < out.length; i++) out[i] = this.combine(out[i], x[i]);
      if (this.average) for (let i = 0; i < out.length; i++) out[i] = out[i] / xs.length;
    } else if (this.rule === 'multiply') this.maskedMultiply(xs, masks, out);
    else this.maskedSelect(xs, masks, out);
    return [{ tensor: { shape, data: out }, mask: null }];
  }

  /**
   * The output's shape for this call (Keras's rule, `mergeOutputShape`), worked out once: the
   * graph runner checks a call's masks (which needs it first) and then runs the same call.
   */
  private callShape(call: ValueCall, fail: (message: string) => never): number[] {
    let shape = this.shapes.get(call);
    if (shape === undefined) {
      shape = mergeOutputShape(
        tensorArgs(call).map((f) => f.tensor.shape),
        fail,
      ) as number[];
      this.shapes.set(call, shape);
    }
    return shape;
  }

  /** `t`'s values read as `expanded` (its shape with size-1 axes added) and broadcast to `shape`. */
  private spread(t: Tensor, expanded: number[], shape: number[]): Float32Array | Float64Array {
    const dtype = this.dtype;
    return broadcastArray<Float32Array | Float64Array>(t.data, expanded, shape, (n) => newArray(dtype, n)) as Float32Array | Float64Array;
  }

  /** Keras's Multiply with masks: masked values count as 1; with every input masked, positions masked in all are 0. */
  private maskedMultiply(xs: ArrayLike<number>[], masks: (Uint8Array | null)[], out: Float32Array | Float64Array): void {
    const all = masks.every((m) => m !== null);
    for (let i = 0; i < out.length; i++) {
      let acc = 1;
      let any = 0;
      xs.forEach((x, k) => {
        const m = masks[k];
        const v = m && !m[i] ? 1 : x[i];
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
  private maskedSelect(xs: ArrayLike<number>[], masks: (Uint8Array | null)[], out: Float32Array | Float64Array): void {
    out.set(xs[0]);
    let outMask: Uint8Array | null = masks[0] ? masks[0].slice() : null;
    xs.slice(1).forEach((x, j) => {
      const m = masks[j + 1];
      for (let i = 0; i < out.length; i++) {
        let v = x[i];
        let o = out[i];
        if (m && !m[i]) v = o;
        if (outMask && !outMask[i]) o = v;
        out[i] = this.combine(o, v);
      }
      if (m && outMask) for (let i = 0; i < outMask.length; i++) outMask[i] |= m[i];
      else outMask = null;
    });
  }

  /** Keras's `compute_mask`: `logical_or` of every input's mask, which broadcasts them as numpy does. */
  override computeMask(call: ValueCall, previous: (Uint8Array | null)[] | null): (Uint8Array | null)[] {
    if (!previous || previous.some((m) => m === null)) return [null];
    const shapes = callMaskShapes(call, true) as (readonly number[])[];
    const shape = orShape(shapes);
    if (shape === null) return [null];
    return [orMasks(previous.map((m, i) => broadcastMask(m as Uint8Array, shapes[i], shape) as Uint8Array))];
  }

  /** The shape of that OR: the masks' shapes broadcast together. */
  override computeMaskShape(previousShape: readonly number[] | null, _output: number, call?: ValueCall): readonly number[] | null {
    return (call && orShape(callMaskShapes(call, true))) ?? previousShape;
  }

  /**
   * The inputs' shapes (Keras's rule, with the sizes known now), and the masks by shape: Keras ORs
   * them (`logical_or`, which fails on shapes that do not broadcast), and Multiply/Maximum/Minimum
   * read each one value per position of its input but the last axis; gru reads them so by value,
   * where a mask of another shape ran as another mask.
   */
  override checkCallMasks(fail: (message: string) => never, call: ValueCall, implicit: boolean): void {
    const flows = tensorArgs(call);
    // The inputs first: their masks' shapes follow from theirs, and inputs that clash fail anyway.
    this.callShape(call, fail);
    const rank = Math.max(...flows.map((f) => f.tensor.shape.length));
    flows.forEach((f, i) => {
      const own = f.tensor.shape.slice(0, -1);
      // Only a mask the merge function reads (its input not reshaped) must fit its input.
      if (f.mask !== null && this.rule !== 'none' && f.tensor.shape.length === rank && !sameShape(flowMaskShape(f), own)) {
        fail(
          `the mask of input ${i} has shape ${formatShape(flowMaskShape(f))}; its input of shape ${formatShape(f.tensor.shape)} needs a mask of shape ${formatShape(own)}.`,
        );
      }
    });
    const given = callMaskShapes(call, implicit).flatMap((s) => (s ? [s] : []));
    // Keras ORs them only when every input has one.
    if (given.length === flows.length && given.length > 0 && orShape(given) === null) {
      fail(
        `the masks of its inputs have shapes ${given.map((s) => formatShape(s)).join(' and ')}; Keras combines them with logical_or, which needs shapes that broadcast together.`,
      );
    }
  }
}

/** numpy's broadcast of masks' shapes (`logical_or`), or null when there are none or they do not broadcast. */
function orShape(shapes: readonly (readonly number[] | null)[]): number[] | null {
  if (shapes.length === 0 || shapes.some((s) => s === null)) return null;
  let out: Shape = [...(shapes[0] as number[])];
  for (const s of shapes.slice(1)) {
    const b = broadcastShapes(out, [...(s as number[])]);
    if (typeof b === 'string') return null;
    out = b;
  }
  return out as number[];
}

function mergeKind(className: string, combine: Combine, opts: { average?: boolean; exactly?: number; rule?: MaskRule } = {}): LayerKind {
  return {
    className,
    analyze(r, call) {
      const shapes = listInput(r, call, opts.exactly ?? 1);
      if (opts.exactly && shapes.length !== opts.exactly) r.fail(`takes exactly ${opts.exactly} inputs, found ${shapes.length}.`);
      return { outputShapes: [mergeOutputShape(shapes, (m) => r.fail(m))], weights: [] };
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
