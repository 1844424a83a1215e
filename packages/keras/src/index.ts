/**
 * @gru/keras: loads trained Keras models (.keras, .weights.h5, legacy Keras 2 .h5, TF.js layers
 * format) into gru. GRU layers come back as @gru/core layers, ready on any registered backend;
 * models built from the supported layers (`supportedLayers()`), Sequential or Functional graphs
 * with several inputs and outputs, run end to end with `predict`. Nothing from a file is ever executed.
 */
export { loadModel, parseModel, modelFromParsed, type LoadOptions } from './load.js';
export { KerasModel, type PredictOptions, type ModelInputs } from './model.js';
export { ModelLayer, type Flow, type CallContext, type ValueCall } from './layers/base.js';
export { GruLayer } from './layers/gru.js';
export { BidirectionalLayer, type MergeMode } from './layers/bidirectional.js';
export { DenseLayer } from './layers/dense.js';
export { EmbeddingLayer } from './layers/embedding.js';
export { MaskingLayer } from './layers/masking.js';
export { DropoutLayer } from './layers/identity.js';
export { supportedLayers, supportedOps } from './layers/registry.js';
export { DEFAULT_LIMITS, type LoadLimits } from './limits.js';
export { PredictLimitError } from './kernels/array-guard.js';
export { KerasFileError, UnsupportedLayerError, UnsafeModelError, LimitError } from './errors.js';
export type { ModelSource, SiblingFiles } from './io/source.js';
export type {
  ParsedModel,
  ModelSpec,
  LayerSpec,
  NodeSpec,
  InputSpec,
  CallOf,
  Arg,
  TensorKey,
  WeightSpec,
  Shape,
  ModelFormat,
  LayerClass,
} from './config/spec.js';
