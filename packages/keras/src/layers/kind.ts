import type { KerasCompat } from '@gru/core';
import type { CallOf, LayerSpec, Shape, WeightSpec } from '../config/spec.js';
import type { ConfigReader } from '../config/values.js';
import { preview } from '../io/json.js';
import { tensorArgs, type ModelLayer } from './base.js';

export type Compat = Extract<KerasCompat, 'keras3' | 'keras2'>;
export type Weights = (Float32Array | Float64Array)[];

export interface KindContext {
  compat: Compat;
  /** The kind for a class name, or undefined (wrappers look up what they wrap). */
  kindOf(className: string): LayerKind | undefined;
}

/** What checking one call of a layer yields: its output shapes and the weights its config implies. */
export interface Analysis {
  outputShapes: Shape[];
  weights: WeightSpec[];
  inner?: LayerSpec['inner'];
  wrapped?: LayerSpec;
}

/**
 * One layer class (or Keras 3 op) gru runs: how its config is read and checked, what shapes and
 * weights a call implies, and how the runnable layer is made. Every kind lives in its own file and
 * is listed once in the registry.
 */
export interface LayerKind {
  className: string;
  /** A Keras 3 op node (`keras.src.ops.*`), recorded in Functional configs; never saved with weights. */
  op?: boolean;
  /**
   * Whether Keras's `call` takes a `mask` that its result depends on (GRU, Bidirectional,
   * GlobalAveragePooling1D): TimeDistributed hands such a layer each step's slice of its mask.
   */
  takesMask?: boolean;
  /** Tensor keyword arguments a call may pass (besides `mask`). */
  namedTensors?: readonly string[];
  /** Plain keyword arguments a call may pass (besides `training`, `mask`), with the values accepted. */
  kwargs?: Readonly<Record<string, (v: unknown) => boolean>>;
  analyze(r: ConfigReader, call: CallOf<Shape>, ctx: KindContext): Analysis;
  create(spec: LayerSpec, weights: Weights, compat: Compat): ModelLayer;
}

/** The one tensor a single-input layer is called with (refusing lists and extra tensors). */
export function onlyInput(r: ConfigReader, call: CallOf<Shape>): Shape {
  const ts = tensorArgs(call);
  if (ts.length !== 1 || !('tensor' in call.args[0]) || Object.keys(call.named).length) {
    r.fail(`takes one input tensor, but is called with ${ts.length + Object.values(call.named).flat().length} (${preview(ts)}).`);
  }
  return ts[0];
}

/** The list of tensors a merge-like layer is called with. */
export function listInput(r: ConfigReader, call: CallOf<Shape>, min: number): Shape[] {
  const ts = tensorArgs(call);
  if (ts.length < min) r.fail(`takes a list of at least ${min} input tensors, but is called with ${ts.length}.`);
  return ts;
}

export function lastDim(r: ConfigReader, shape: Shape, minRank: number): number {
  const d = shape[shape.length - 1];
  if (shape.length < minRank || typeof d !== 'number' || d <= 0) {
    r.fail(`needs an input of rank >= ${minRank} with a known, positive last dimension; its input shape is ${preview(shape)}.`);
  }
  return d;
}

export function rankIs(r: ConfigReader, shape: Shape, rank: number, what: string): void {
  if (shape.length !== rank) r.fail(`needs a rank-${rank} input ${what}; its input shape is ${preview(shape)}.`);
}

export const isBool = (v: unknown) => typeof v === 'boolean';
