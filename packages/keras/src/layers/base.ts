import { GruError, type Tensor } from '@gru/core';
import type { Arg, CallOf, LayerClass, LayerSpec, Shape } from '../config/spec.js';
import { formatShape } from '../errors.js';
import { preview } from '../io/json.js';
import { arrayLength } from '../kernels/common.js';

/** A value flowing through the graph: a tensor and Keras's mask, if any. */
export interface Flow {
  tensor: Tensor;
  /**
   * 1 keeps a position, 0 masks it, flat. Its shape is `maskShape`, else the one the layer reading
   * it expects (`ModelLayer.expectedMaskShape`: the tensor's shape without its last axis, or
   * (batch, timesteps) for layers that mask steps).
   */
  mask: Uint8Array | null;
  /**
   * The mask's shape, for a mask of another shape than the expected one that the layer accepts
   * (a GRU's (batch, timesteps, k), which it reduces to one value per step as Keras's scan does).
   * Checked where a mask enters: `applySync` and `apply`.
   */
  maskShape?: readonly number[];
  /** The second output of a Bidirectional with merge_mode=None (set by `applySync` only). */
  second?: Tensor;
}

export interface CallContext {
  /** Run every GRU on this registered backend only. */
  backend?: string;
}

/** A call at run time: the node's arguments as values, and the mask the layer is called with. */
export type ValueCall = CallOf<Flow>;

/** The tensors of a call's positional arguments, in order (a list argument flattened). */
export function tensorArgs<T>(call: { args: Arg<T>[] }): T[] {
  const out: T[] = [];
  for (const a of call.args) {
    if ('tensor' in a) out.push(a.tensor);
    else if ('list' in a) out.push(...a.list);
  }
  return out;
}

/**
 * The shape of the mask a flow carries: its `maskShape`, else its tensor's shape without its last
 * axis (the shape of every mask the graph hands on without one).
 */
export function flowMaskShape(f: Flow): readonly number[] {
  return f.maskShape ?? f.tensor.shape.slice(0, -1);
}

/**
 * The shape of each mask `call` hands its layer (null where there is none): an explicit `mask=`
 * tensor's shape, else, for the masks the tensor arguments carry (`implicit`), theirs.
 */
export function callMaskShapes(call: ValueCall, implicit: boolean): (readonly number[] | null)[] {
  const first = call.args.find((a) => !('value' in a));
  const carried = first === undefined ? [] : 'tensor' in first ? [first.tensor] : 'list' in first ? first.list : [];
  const explicit = call.mask?.some((m) => m !== null && !carried.includes(m)) ? call.mask : null;
  if (explicit) return explicit.map((m) => (m ? m.tensor.shape : null));
  return implicit ? carried.map((f) => (f.mask ? flowMaskShape(f) : null)) : [];
}

/**
 * `tensor` carrying `mask` of `shape`: a shape other than the tensor's without its last axis stays
 * with the mask (`maskShape`), so the next reader checks and reads the mask by its shape, never by
 * its length ((batch, time, 1) and (batch, time) have the same length). The one place deciding it.
 */
export function withMask(tensor: Tensor, mask: Uint8Array | null, shape: readonly number[] | null | undefined): Flow {
  return mask !== null && shape && !sameShape(shape, tensor.shape.slice(0, -1)) ? { tensor, mask, maskShape: [...shape] } : { tensor, mask };
}

/** A call of one tensor, as a single-input layer sees it. */
export function singleCall(input: Flow): ValueCall {
  return { args: [{ tensor: input }], named: {}, mask: input.mask ? [input] : null, kwargs: {} };
}

/** A layer of a loaded model: its Keras name, class, config and weights, and how it runs. */
/** A tensor read as a bool mask (nonzero, NaN included, is true), as Keras's cast to bool does. */
export function nonzeroMask(t: Tensor): Uint8Array {
  const out = new Uint8Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = t.data[i] !== 0 ? 1 : 0;
  return out;
}

export abstract class ModelLayer {
  readonly name: string;
  readonly className: LayerClass;
  /** The layer's Keras config as the file had it. */
  readonly config: Record<string, unknown>;
  /** Input shape of the layer's first call. */
  readonly inputShape: Shape;
  /** Output shape(s) of the layer's first call. */
  readonly outputShapes: Shape[];
  readonly dtype: 'float32' | 'float64';
  /** Whether Keras passes masks through this layer (its `supports_masking`). */
  readonly supportsMasking: boolean = false;
  /**
   * Whether Keras reads this layer's mask per step (GRU, Bidirectional, GlobalAveragePooling1D,
   * TimeDistributed): a `mask=` it is called with is checked against its input (`checkMaskShape`)
   * each time the model runs, as steps of null size are known only then.
   */
  readonly checksMaskShape: boolean = false;
  /**
   * The axis of its input holding steps it needs at least one of (a recurrent layer's, a global
   * pooling's), or null. A wrapper that folds axes (TimeDistributed) checks it against the shape
   * its caller passed, which the wrapped layer never sees.
   */
  readonly stepsAxis: number | null = null;
  /**
   * What Keras does with 0 steps on `stepsAxis`, for the message with which gru refuses them
   * (gru never returns NaN for degenerate input, even where Keras does).
   */
  readonly kerasOnZeroSteps: string = 'Keras fails there too';
  /** Whether calls must take the async path (layers that run a GRU on a backend). */
  readonly async: boolean = false;

  /**
   * Why this layer runs only on the batch size its input was built with, or undefined. Keras's
   * models take any batch size whatever the Input recorded (a Sequential fitted without an Input
   * records its batch_size), so the model checks the batch axis only where a layer says why.
   */
  fixedBatchReason(): string | undefined {
    return undefined;
  }

  constructor(spec: LayerSpec) {
    this.name = spec.name;
    this.className = spec.className;
    this.config = structuredClone(spec.config);
    this.inputShape = [...spec.inputShape];
    this.outputShapes = spec.outputShapes.map((s) => [...s]);
    this.dtype = spec.dtype;
  }

  get outputShape(): Shape {
    return this.outputShapes[0];
  }

  /** Keras's `get_weights()`: copies, in Keras's order. */
  getWeights(): Tensor[] {
    return [];
  }

  /**
   * Runs one call. `mask` is what Keras hands the layer's `call` (the explicit `mask=` argument, or
   * the mask of its only tensor argument). Outputs carry a mask only when the layer sets one itself
   * (Masking); the runner adds `computeMask`'s for layers that support masking.
   */
  abstract call(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext): Flow[];

  /** The async path; layers that run a GRU override it (it can load and use any backend). */
  async callAsync(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext): Promise<Flow[]> {
    return this.call(call, mask, ctx);
  }

  /** The mask this layer's call reads from a tensor passed as `mask=`: Keras's layers cast it to bool (nonzero). */
  readMask(t: Tensor): Uint8Array {
    return nonzeroMask(t);
  }

  /** Keras's `compute_mask(inputs, previous_mask)`: by default the previous mask passes on. */
  computeMask(_call: ValueCall, previous: (Uint8Array | null)[] | null, outputs: number): (Uint8Array | null)[] {
    const m = previous?.[0] ?? null;
    return Array.from({ length: outputs }, (_, i) => (i === 0 ? m : null));
  }

  /**
   * The shape of the mask `computeMask` gives output `output`, from the shape of the first mask
   * the call was given: by default that shape (the mask is passed on, or ORed with masks of its
   * shape). Null: the output's shape without its last axis. `call` is the call that gave the masks
   * (a merge's OR broadcasts its inputs' masks to a shape none of them may have).
   */
  computeMaskShape(previousShape: readonly number[] | null, _output: number, _call?: ValueCall): readonly number[] | null {
    return previousShape;
  }

  /**
   * The shape a mask given without `maskShape` has for this input: the tensor's shape without
   * its last axis (what a layer passing a mask on gives its output), unless the layer masks steps.
   */
  expectedMaskShape(input: Tensor): number[] {
    return input.shape.slice(0, -1);
  }

  /**
   * Fails unless Keras's call of this layer takes a mask of `maskShape` with `input`. Layers that
   * only pass a mask on take the input's shape without its last axis, or any shape that starts with
   * its (batch, steps): Keras passes such a mask on unchanged without reading it (a TimeDistributed's
   * (batch, time) mask on its (batch, time, ..., units) output, or its (batch, time, steps) one on
   * (batch, time, units)), and the layer that reads it checks it.
   */
  checkMaskShape(fail: (message: string) => never, input: Tensor, maskShape: readonly number[]): void {
    const want = this.expectedMaskShape(input);
    const lead = want.slice(0, 2);
    const ok = want.length < 2 ? sameShape(maskShape, want) : maskShape.length >= 2 && lead.every((d, i) => d === maskShape[i]);
    if (!ok) {
      const leading = want.length >= 2 ? ` or one that starts with ${formatShape(lead)}` : '';
      fail(
        `argument 'mask' has shape ${formatShape(maskShape)}; its input of shape ${formatShape(input.shape)} needs a mask of shape ${formatShape(want)}${leading}.`,
      );
    }
  }

  /**
   * Checks the masks a graph call hands its layer by their shapes (known only there; the layer gets
   * them flat): an explicit `mask=`, else (`implicit`) the masks its tensor arguments carry, which a
   * layer passing masks on may have left another shape than its output's (a TimeDistributed's). By
   * default the first mask, for layers that read it per step (`checksMaskShape`).
   */
  checkCallMasks(fail: (message: string) => never, call: ValueCall, implicit: boolean): void {
    const shape = callMaskShapes(call, implicit)[0];
    const input = tensorArgs(call)[0]?.tensor;
    if (this.checksMaskShape && shape && input) this.checkMaskShape(fail, input, shape);
  }

  /**
   * A mask entering from the caller (flat, its shape lost) checked against its shape and this
   * layer's input: its length must be its shape's size, and the layer must take that shape.
   */
  private checkEnteringMask(input: Flow): void {
    const { mask, maskShape, tensor } = input;
    if (mask === null || mask === undefined) return;
    const fail = layerFail(this);
    if (maskShape !== undefined && (!Array.isArray(maskShape) || !maskShape.every((d) => Number.isSafeInteger(d) && d >= 0))) {
      fail(`argument 'maskShape' must be an array of sizes (non-negative integers); received ${preview(maskShape)}.`);
    }
    const shape = maskShape ?? this.expectedMaskShape(tensor);
    const size = sizeOf(shape);
    if (mask.length !== size) {
      const where = maskShape ? 'its maskShape' : `the mask its input of shape ${formatShape(tensor.shape)} needs; pass maskShape for another shape`;
      fail(`argument 'mask' has ${mask.length} values; expected ${size}, shape ${formatShape(shape)} (${where}).`);
    }
    if (maskShape) this.checkMaskShape(fail, tensor, maskShape);
  }

  /** One-input convenience: the layer on one tensor and its mask (first output, second as `second`). */
  applySync(input: Flow, ctx: CallContext = {}): Flow {
    this.checkEnteringMask(input);
    return this.finishSingle(input, this.call(singleCall(input), input.mask ? [input.mask] : null, ctx));
  }

  async apply(input: Flow, ctx: CallContext = {}): Promise<Flow> {
    this.checkEnteringMask(input);
    return this.finishSingle(input, await this.callAsync(singleCall(input), input.mask ? [input.mask] : null, ctx));
  }

  private finishSingle(input: Flow, out: Flow[]): Flow {
    const mask = this.supportsMasking ? (out[0].mask ?? this.computeMask(singleCall(input), input.mask ? [input.mask] : null, out.length)[0]) : out[0].mask;
    // A mask from computeMask has the shape computeMaskShape gives; the next applySync reads it by that shape.
    const computed = this.supportsMasking && out[0].mask === null && mask !== null;
    const shape = out[0].maskShape ?? (computed ? this.computeMaskShape(input.maskShape ?? this.expectedMaskShape(input.tensor), 0, singleCall(input)) : null);
    const flow = withMask(out[0].tensor, mask, shape);
    return out.length > 1 ? { ...flow, second: out[1].tensor } : flow;
  }

  /** Releases backend memory held for this layer. */
  dispose(): void {}
}

/** Throws a ValueError naming the layer (for calls that cannot run). */
export function layerFail(layer: { name: string; className: string }): (message: string) => never {
  return (message) => {
    throw new GruError('ValueError', `Layer '${layer.name}' (${layer.className}): ${message}`);
  };
}

export function newArray(dtype: 'float32' | 'float64', length: number): Float32Array | Float64Array {
  return dtype === 'float64' ? new Float64Array(arrayLength(length, 8)) : new Float32Array(arrayLength(length, 4));
}

export function copyTensor(t: Tensor): Tensor {
  return { shape: [...t.shape], data: t.data.slice() };
}

/** The weight as a tensor of the layer's dtype (a float64 file value into a float32 layer is rounded, as Keras assigns it). */
export function weightTensor(data: Float32Array | Float64Array, shape: number[], dtype: 'float32' | 'float64'): Tensor {
  const out = newArray(dtype, data.length);
  out.set(data);
  return { shape: [...shape], data: out };
}

/** A tensor converted to the layer's dtype (a copy only when the dtype differs). */
export function asDtype(t: Tensor, dtype: 'float32' | 'float64'): Tensor {
  if ((dtype === 'float32') === t.data instanceof Float32Array) return t;
  return { shape: [...t.shape], data: dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data) };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
