import type { KerasCompat } from '@gru/core';

/** A shape as Keras writes it: null for a dimension the model accepts at any size (batch, time). */
export type Shape = (number | null)[];

/** The layer classes gru runs. */
export type LayerClass = 'Embedding' | 'Masking' | 'Dropout' | 'GRU' | 'Bidirectional' | 'Dense';

/** Which file layouts the loader reads. */
export type ModelFormat = 'keras' | 'keras-weights' | 'h5' | 'h5-weights' | 'tfjs';

/** One weight a layer needs, with the shape its config implies. */
export interface WeightSpec {
  /** Keras's name for it: 'kernel', 'recurrent_kernel', 'bias', 'embeddings' ('forward/kernel' etc. inside Bidirectional). */
  name: string;
  shape: number[];
  /** Where a Keras 3 `.weights.h5` keeps it, below the layer's own group ('cell/vars/0'). */
  keras3Path: string;
}

/** One validated layer of a linear model, in order. */
export interface LayerSpec {
  className: LayerClass;
  name: string;
  /** The layer's Keras config, as read from the file. */
  config: Record<string, unknown>;
  /** For Bidirectional: the resolved configs of its forward and backward GRU. */
  inner?: { forward: Record<string, unknown>; backward: Record<string, unknown> };
  dtype: 'float32' | 'float64';
  inputShape: Shape;
  /** One shape, or two for Bidirectional with merge_mode=None (the model's last layer). */
  outputShapes: Shape[];
  weights: WeightSpec[];
  /** The layer's group in a Keras 3 `.weights.h5` ('layers/gru_1'). */
  keras3Group: string;
}

/** A model gru can run: a validated, linear chain of layers. Plain data, so it can cross a worker boundary. */
export interface ModelSpec {
  name: string;
  className: 'Sequential' | 'Functional';
  kerasVersion: string;
  /** Which Keras's semantics the file's configs follow (Keras 2's 'hard_sigmoid' differs). */
  compat: Extract<KerasCompat, 'keras3' | 'keras2'>;
  input: { name: string; shape: Shape; dtype: string };
  layers: LayerSpec[];
  /** The model config exactly as read from the file. */
  config: Record<string, unknown>;
  parameterCount: number;
}

/** A model read from a file, before layers are instantiated: spec plus weights in spec order. */
export interface ParsedModel {
  format: ModelFormat;
  spec: ModelSpec;
  /** weights[i][j] is spec.layers[i].weights[j], flat row-major. */
  weights: (Float32Array | Float64Array)[][];
}
