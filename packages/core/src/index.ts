/**
 * @gru/core: Keras's GRU and GRUCell for JavaScript and TypeScript, the backend interface every
 * gru backend implements, and the pure-TypeScript reference backend.
 */
export { GruStream, type GruStreamOptions } from './layer/stream.js';
export {
  GRU,
  type GruCallOptions,
  type GruResult,
  type GruResultOf,
  type GruLayerGradients,
  type BackwardOptions,
  type InputGradientsOf,
} from './layer/gru.js';
export type { LayerArray, ReturnsState, DTypeArray, OnlyKnownKeys } from './layer/typed-options.js';
export { referenceBackward } from './reference/backward.js';
export { GRUCell, type CellCallOptions, type CellResult, type CellWeights } from './layer/gru-cell.js';
export { clearSession } from './layer/names.js';
export { serializeLayer, deserializeLayer } from './layer/serialize.js';
export {
  resolveCellConfig,
  resolveLayerConfig,
  looksLikeKeras2,
  type GruOptions,
  type GruCellOptions,
  type KerasCompat,
  type KerasIdentifier,
  type CellConfig,
  type LayerConfig,
  type FromConfigOptions,
  type DTypePolicyConfig,
  type DTypePolicyName,
} from './config.js';
export {
  ACTIVATION_NAMES,
  activationDef,
  resolveActivation,
  serializeActivation,
  applyActivation,
  activationVjp,
  gruActivationProblem,
  erf,
  type ActivationDef,
  type ActivationId,
  type ActivationName,
  type ActivationIdentifier,
} from './activations.js';
export { getInitializer, serializeInitializer, type Initializer } from './initializers.js';
export { getRegularizer, serializeRegularizer, type Regularizer } from './regularizers.js';
export { getConstraint, serializeConstraint, type Constraint } from './constraints.js';
export type { KerasObjectConfig } from './keras-objects.js';
export { SeedGenerator } from './random.js';
export { GruError, UnsupportedCallError, type KerasErrorType } from './errors.js';
export { shareInstanceof } from './shared-instanceof.js';
export { MAX_ARRAY_ELEMENTS, getResourceLimits, setResourceLimits, type ResourceLimits } from './limits.js';
export { toTensor, toNested, sizeOf, type Tensor, type TensorLike, type NestedArray, type FloatArray, type DType } from './tensor.js';
export {
  GRU_BACKEND_SPEC_VERSION,
  type GruBackend,
  type PreparedGru,
  type GruSpec,
  type GruWeights,
  type GruCallInfo,
  type ForwardRequest,
  type ForwardResult,
  type BoundForwardRequest,
  type BoundForward,
  type BackwardRequest,
  type GruGradients,
} from './backend/types.js';
export { plainCallInfo } from './backend/plain-call.js';
export { readRequest, readBackwardRequest, readWeights, readSpec } from './backend/read-request.js';
export { registerBackend, unregisterBackend, getBackend, listBackends } from './backend/registry.js';
export { selectBackend, describeChoice, type BackendChoice, type SkippedBackend, type SelectionPreferences } from './backend/select.js';
export { loadBackend, backendLoadFailures, forgetBackendLoad } from './backend/loading.js';
export { cudnnEligibility } from './backend/cudnn-rules.js';
export { checkForwardResult, checkGradients } from './backend/check-result.js';
export { isEmptyCall, emptyForwardResult, emptyCallGradients } from './backend/empty-call.js';
export {
  checkForwardRequest,
  checkBackwardRequest,
  checkWeights,
  checkSpec,
  checkObject,
  checkCount,
  checkArray,
  describeValue,
  typedArrayName,
  typedArrayLength,
  supportsArgsProblem,
  type RequestCheckOptions,
  type CheckedForward,
  type CheckedBackward,
} from './backend/check-request.js';
export { copyFloat32, copyFloat64, copyFloats, asFloats, copyMask } from './backend/own-copy.js';
export { referenceBackend } from './reference/backend.js';
export { referenceForward } from './reference/forward.js';
export { classifyMask, applyMaskedOutputConventions, maskedOutputConvention, type MaskedOutputConvention } from './layer/masking.js';

// The reference backend is always registered, so every layer runs without any other package.
import { seedReferenceBackend } from './backend/registry.js';
import { referenceBackend as reference } from './reference/backend.js';
seedReferenceBackend(reference);
export { availableCores, cgroupCpuLimit } from './cores.js';
export { environmentVariable, fileReadRefused } from './environment.js';
