import type { Tensor } from '@gru/core';
import type { LayerClass, LayerSpec, Shape } from '../config/spec.js';

/** What flows from one layer to the next: the tensor and Keras's mask (batch, timesteps), if any. */
export interface Flow {
  tensor: Tensor;
  /** 1 keeps a position, 0 masks it; shape is the tensor's shape without its last axis. */
  mask: Uint8Array | null;
  /** The second output of a Bidirectional with merge_mode=None (only ever from the last layer). */
  second?: Tensor;
}

export interface CallContext {
  /** Run every GRU on this registered backend only. */
  backend?: string;
}

/** A layer of a loaded model: its Keras name, class, config and weights, and how it runs. */
export abstract class ModelLayer {
  readonly name: string;
  readonly className: LayerClass;
  /** The layer's Keras config as the file had it. */
  readonly config: Record<string, unknown>;
  readonly inputShape: Shape;
  /** Output shape(s); two only for Bidirectional with merge_mode=None. */
  readonly outputShapes: Shape[];
  readonly dtype: 'float32' | 'float64';

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
  abstract getWeights(): Tensor[];

  abstract applySync(input: Flow, ctx: CallContext): Flow;

  /** Layers that run a GRU override this to use the async path (which can load and use any backend). */
  async apply(input: Flow, ctx: CallContext): Promise<Flow> {
    return this.applySync(input, ctx);
  }

  /** Releases backend memory held for this layer. */
  dispose(): void {}
}

export function newArray(dtype: 'float32' | 'float64', length: number): Float32Array | Float64Array {
  return dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
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
