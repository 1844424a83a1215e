import type { KerasCompat } from '@gru/core';

/** A shape as Keras writes it: null for a dimension the model accepts at any size (batch, time). */
export type Shape = (number | null)[];

/** A Keras layer class name (the supported ones are listed by `supportedLayers()`). */
export type LayerClass = string;

/** Which file layouts the loader reads. */
export type ModelFormat = 'keras' | 'keras-weights' | 'h5' | 'h5-weights' | 'tfjs';

/** One weight a layer needs, with the shape its config implies. */
export interface WeightSpec {
  /** Keras's name for it: 'kernel', 'recurrent_kernel', 'bias', 'embeddings' ('forward/kernel' etc. inside Bidirectional). */
  name: string;
  shape: number[];
  /** Where a Keras 3 `.weights.h5` keeps it, below the layer's own group ('cell/vars/0'). */
  keras3Path: string;
  /** A count (Normalization's `count`, an int Keras casts to on load): read from any integer or float dtype into float64 values. */
  integer?: boolean;
}

/**
 * One positional argument of a call: a tensor, a list of tensors (merges, Attention), or a plain
 * value (an op's constant, as in `NotEqual(x, 0)`).
 */
export type Arg<T> = { tensor: T } | { list: T[] } | { value: unknown };

/** A layer call as the config records it, with T a tensor reference (parsing), a shape (checking) or a value (running). */
export interface CallOf<T> {
  args: Arg<T>[];
  /** Tensor keyword arguments other than `mask` (`initial_state`), each flattened to a list. */
  named: Record<string, T[]>;
  /** An explicit `mask=` argument (flattened, null where an entry is None), or null when none was given. */
  mask: (T | null)[] | null;
  /** Plain keyword arguments (`training`, `return_attention_scores`, ...). */
  kwargs: Record<string, unknown>;
}

/** A tensor of the graph: a model input ('in:0') or an output of a node ('n:3:1' = node 3, output 1). */
export type TensorKey = string;

/** One call of a layer (or of a Keras 3 op) in the graph, in topological order. */
export interface NodeSpec {
  /** Index into ModelSpec.layers; -1 for a call the outputs do not depend on (not run, as in Keras). */
  layer: number;
  call: CallOf<TensorKey>;
  inputShapes: CallOf<Shape>;
  outputShapes: Shape[];
  /** A call inside a nested model: which call of which (outermost) nested model it is part of. */
  nested?: { model: string; call: number };
}

/** One validated layer (or op) of a model. */
export interface LayerSpec {
  className: LayerClass;
  name: string;
  /** A Keras 3 operation recorded in a Functional config (`keras.src.ops`), not a layer. */
  op?: boolean;
  /** The layer's Keras config, as read from the file. */
  config: Record<string, unknown>;
  /** For Bidirectional: the resolved configs of its forward and backward GRU. */
  inner?: { forward: Record<string, unknown>; backward: Record<string, unknown> };
  /** For wrappers (TimeDistributed): the wrapped layer's spec. */
  wrapped?: LayerSpec;
  dtype: 'float32' | 'float64';
  /** The input shape of its first call (the first argument's shape). */
  inputShape: Shape;
  /** Output shape(s) of its first call. */
  outputShapes: Shape[];
  weights: WeightSpec[];
  /** The layer's group in a Keras 3 `.weights.h5` ('layers/gru_1'); '' for ops. */
  keras3Group: string;
  /**
   * A layer of a nested model (a model used as a layer), named '<model>/<layer>': the outermost
   * nested model it belongs to, which a legacy .h5 saves as one layer holding all their weights.
   */
  nestedIn?: string;
  /** A layer of a nested model saved with `trainable: false`: its weights all count as non-trainable. */
  frozen?: boolean;
}

/** One model input. */
export interface InputSpec {
  name: string;
  shape: Shape;
  dtype: string;
}

/** A model gru can run: a validated graph of layers. Plain data, so it can cross a worker boundary. */
export interface ModelSpec {
  name: string;
  className: 'Sequential' | 'Functional';
  kerasVersion: string;
  /** Which Keras's semantics the file's configs follow (Keras 2's 'hard_sigmoid' differs). */
  compat: Extract<KerasCompat, 'keras3' | 'keras2'>;
  /** The first input (kept for single-input models). */
  input: InputSpec;
  inputs: InputSpec[];
  /** Layers and ops in config order (for Sequential, in order), without InputLayers. */
  layers: LayerSpec[];
  /** Every call, in an order where each node comes after the nodes it reads. */
  nodes: NodeSpec[];
  /** A model built on a dict of inputs (`keras.Model({"a": x}, ...)`): its keys, sorted by code point (Python's sorted), in `inputs` order. */
  inputKeys?: string[];
  /** A model returning a dict of outputs: its keys, sorted by code point (Python's sorted), in `outputs` order (Keras's `model.outputs` order). */
  outputKeys?: string[];
  /** The model's outputs, and their shapes. */
  outputs: TensorKey[];
  outputShapes: Shape[];
  /** The model config exactly as read from the file. */
  config: Record<string, unknown>;
  parameterCount: number;
  /** Each nested model's outputs' shapes, per call (summary() prints them as Keras does). */
  nestedOutputShapes?: Record<string, Shape[][]>;
}

/** A model read from a file, before layers are instantiated: spec plus weights in spec order. */
export interface ParsedModel {
  format: ModelFormat;
  spec: ModelSpec;
  /** weights[i][j] is spec.layers[i].weights[j], flat row-major. */
  weights: (Float32Array | Float64Array)[][];
  /** The `limits.maxPredictBytes` parseModel was given: modelFromParsed's default. */
  maxPredictBytes?: number;
}
