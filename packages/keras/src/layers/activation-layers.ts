import type { Tensor } from '@gru/core';
import type { LayerSpec, WeightSpec } from '../config/spec.js';
import { formatShape } from '../errors.js';
import { preview } from '../io/json.js';
import { normAxis } from '../ops/op-layer.js';
import { callMaskShapes, layerFail, ModelLayer, newArray, sizeOf, type Flow, type ValueCall } from './base.js';
import { broadcastIndex, broadcastsTo } from './broadcast-index.js';
import { KernelLayer } from './kernel-layer.js';
import { type LayerKind, onlyInput } from './kind.js';

const inputOf = (call: ValueCall): Tensor => (call.args[0] as { tensor: Flow }).tensor.tensor;

/** `f` on every value, into an array of the layer's dtype (float64 math, rounded where stored, as Keras's float32 within rounding). */
function mapValues(x: Tensor, dtype: 'float32' | 'float64', f: (v: number) => number): Tensor {
  const out = newArray(dtype, x.data.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
  return { shape: [...x.shape], data: out };
}

/**
 * Keras 3.15.1's `activations.relu` (ReLU.static_call), branch for branch: a leaky relu when only
 * `negative_slope` is set; otherwise x above `threshold` (else 0), clipped to [0, max_value], less
 * negative_slope * relu(threshold - x).
 */
export function reluWith(slope: number, maxValue: number | null, threshold: number): (x: number) => number {
  if (slope !== 0 && maxValue === null && threshold === 0) return (x) => (x >= 0 ? x : slope * x);
  return (x) => {
    let y = threshold !== 0 ? (x > threshold ? x : 0) : x > 0 || Number.isNaN(x) ? x : 0;
    if (maxValue !== null) y = Math.min(Math.max(y, 0), maxValue);
    if (slope !== 0) y -= slope * Math.max(threshold - x, 0);
    return y;
  };
}

/** ReLU, LeakyReLU and ELU: one elementwise function read from the config; masks pass on. */
class ElementwiseLayer extends ModelLayer {
  override readonly supportsMasking = true;
  constructor(
    spec: LayerSpec,
    private readonly f: (x: number) => number,
  ) {
    super(spec);
  }
  call(call: ValueCall): Flow[] {
    return [{ tensor: mapValues(inputOf(call), this.dtype, this.f), mask: null }];
  }
}

const num = (c: Record<string, unknown>, key: string, dflt: number): number => (typeof c[key] === 'number' ? (c[key] as number) : dflt);

function reluOf(c: Record<string, unknown>): (x: number) => number {
  const max = c.max_value;
  return reluWith(num(c, 'negative_slope', 0), typeof max === 'number' ? max : null, num(c, 'threshold', 0));
}

/** Keras 2 wrote LeakyReLU's slope as `alpha`; Keras 3 reads it as negative_slope too. */
const leakySlope = (c: Record<string, unknown>) => num(c, 'negative_slope', num(c, 'alpha', 0.3));

function elementwiseKind(
  className: string,
  check: (r: Parameters<LayerKind['analyze']>[0]) => void,
  f: (c: Record<string, unknown>) => (x: number) => number,
): LayerKind {
  return {
    className,
    analyze(r, call) {
      const input = onlyInput(r, call);
      check(r);
      return { outputShapes: [input], weights: [] };
    },
    create: (spec) => new ElementwiseLayer(spec, f(spec.config)),
  };
}

/** Softmax over one axis (Keras's default -1); a mask= sets masked positions to 0 (a fully masked row is all 0). */
export class SoftmaxLayer extends ModelLayer {
  override readonly supportsMasking = true;

  /** Keras 3.15.1's Softmax keeps a mask= that is not bool where it is > 0.5 (NaN, 0.3 and -1 are masked). */
  override readMask(t: Tensor): Uint8Array {
    return Uint8Array.from(t.data as ArrayLike<number>, (v) => (v > 0.5 ? 1 : 0));
  }
  call(call: ValueCall, mask: (Uint8Array | null)[] | null): Flow[] {
    const x = inputOf(call);
    const m = mask?.[0] ?? null;
    const mShape = m ? (callMaskShapes(call, true)[0] ?? x.shape.slice(0, -1)) : null;
    if (m && mShape) this.checkBroadcast(layerFail(this), x.shape, mShape);
    const rank = x.shape.length;
    const axis = normAxis(softmaxAxis(this.config.axis), rank, layerFail(this));
    const n = x.shape[axis];
    const inner = sizeOf(x.shape.slice(axis + 1));
    const outer = sizeOf(x.shape.slice(0, axis));
    const at = m && mShape ? broadcastIndex(mShape, x.shape) : null;
    const keep = m && at ? Uint8Array.from(at, (i) => m[i]) : null;
    const out = newArray(this.dtype, x.data.length);
    // Keras puts -1e9 (float32's "large negative number") where the mask is 0, then zeroes those outputs.
    const row = new Float64Array(n);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let max = -Infinity;
        for (let k = 0; k < n; k++) {
          const at = base + k * inner;
          row[k] = keep && !keep[at] ? -1e9 : x.data[at];
          max = Math.max(max, row[k]);
        }
        let sum = 0;
        for (let k = 0; k < n; k++) sum += row[k] = Math.exp(row[k] - max);
        for (let k = 0; k < n; k++) {
          const at = base + k * inner;
          out[at] = keep && !keep[at] ? 0 : row[k] / sum;
        }
      }
    }
    return [{ tensor: { shape: [...x.shape], data: out }, mask: null }];
  }

  /** Keras's check: the mask has no more axes than the input, and each (right-aligned) is 1 or the input's. */
  private checkBroadcast(fail: (m: string) => never, shape: readonly number[], mShape: readonly number[]): void {
    if (!broadcastsTo(mShape, shape)) {
      fail(
        `The \`mask\` must be broadcastable to \`inputs\`: each mask dimension must be 1 or match the input's, aligned on the right. ` +
          `Received: inputs.shape=${formatShape(shape)}, mask.shape=${formatShape(mShape)}.`,
      );
    }
  }

  /** Keras's mask check runs in `call`: any shape, checked there against the input. */
  override checkMaskShape(fail: (message: string) => never, input: Tensor, maskShape: readonly number[]): void {
    this.checkBroadcast(fail, input.shape, maskShape);
  }
}

/** Softmax's axis: an int, or a list of one (Keras 3.15.1 fails itself on a list of several in `call`). */
function softmaxAxis(axis: unknown): unknown {
  if (axis === undefined || axis === null) return -1;
  return Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
}

/** PReLU: relu(x) - alpha * relu(-x), with one alpha per value of a sample (axes in `shared_axes` share one). */
export class PReluLayer extends KernelLayer {
  override readonly supportsMasking = true;
  call(call: ValueCall): Flow[] {
    const [x] = this.inputs(call);
    const alpha = this.weight('alpha') as Tensor;
    // Alpha has the sample's shape with shared axes 1: broadcast it over the batch and those axes.
    const sample = x.shape.slice(1);
    const per = sizeOf(sample);
    const at = broadcastIndex(alpha.shape, sample);
    const out = newArray(this.dtype, x.data.length);
    for (let k = 0; k < per; k++) {
      const a = alpha.data[at[k]];
      for (let j = k; j < x.data.length; j += per) {
        const v = x.data[j];
        out[j] = Math.max(v, 0) - a * Math.max(-v, 0);
      }
    }
    return [{ tensor: { shape: [...x.shape], data: out }, mask: null }];
  }
}

export const activationLayerKinds: LayerKind[] = [
  elementwiseKind(
    'ReLU',
    (r) => {
      const max = r.config.max_value;
      if (max !== null && max !== undefined && (typeof max !== 'number' || max < 0))
        r.fail(`max_value of a ReLU layer cannot be a negative value. Received: max_value=${preview(max)}`);
      if (r.number('negative_slope', 0) < 0)
        r.fail(`negative_slope of a ReLU layer cannot be None or a negative value. Received: negative_slope=${preview(r.config.negative_slope)}`);
      if (r.number('threshold', 0) < 0)
        r.fail(`threshold of a ReLU layer cannot be None or a negative value. Received: threshold=${preview(r.config.threshold)}`);
    },
    reluOf,
  ),
  elementwiseKind(
    'LeakyReLU',
    (r) => {
      const slope = leakySlope(r.config);
      if (typeof (r.config.negative_slope ?? r.config.alpha ?? 0.3) !== 'number' || slope < 0)
        r.fail(`The negative_slope value of a Leaky ReLU layer cannot be None or negative value. Received: negative_slope=${preview(r.config.negative_slope)}`);
    },
    (c) => reluWith(leakySlope(c), null, 0),
  ),
  // Keras 3's ELU.get_config leaves `alpha` out (a saved ELU reloads with 1.0); Keras 2 wrote it.
  elementwiseKind(
    'ELU',
    (r) => r.number('alpha', 1),
    (c) => {
      const alpha = num(c, 'alpha', 1);
      return (x) => (x > 0 ? x : alpha * Math.expm1(x));
    },
  ),
  {
    className: 'Softmax',
    takesMask: true,
    analyze(r, call) {
      const input = onlyInput(r, call);
      const axis = softmaxAxis(r.config.axis);
      if (Array.isArray(axis))
        r.unsupported(`softmax over several axes (axis=${preview(r.config.axis)}) is not supported; Keras 3.15.1 itself fails on it in call().`);
      normAxis(axis, input.length, (m) => r.fail(m));
      return { outputShapes: [input], weights: [] };
    },
    create: (spec) => new SoftmaxLayer(spec),
  },
  {
    className: 'PReLU',
    analyze(r, call) {
      const input = onlyInput(r, call);
      const shared = r.config.shared_axes;
      const list = shared === null || shared === undefined ? [] : Array.isArray(shared) ? shared : [shared];
      const shape = input.slice(1);
      for (const a of list) {
        if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > shape.length)
          r.fail(`\`shared_axes\` must list axes between 1 and ${shape.length}, found ${preview(shared)}.`);
        shape[a - 1] = 1;
      }
      if (shape.some((d) => d === null))
        r.fail(`needs every non-shared axis of its input known (alpha has one value per position); its input shape is ${preview(input)}.`);
      const weights: WeightSpec[] = [{ name: 'alpha', shape: shape as number[], keras3Path: 'vars/0' }];
      return { outputShapes: [input], weights };
    },
    create: (spec, weights) => new PReluLayer(spec, weights),
  },
];
