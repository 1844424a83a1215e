/**
 * @gru/cudnn: gru's cuDNN backend. Importing the package registers `backend` (name 'cudnn',
 * Keras's cuDNN path: `useCudnn` applies to it). It runs the layer through cuDNN 9's
 * cudnnRNNForward / cudnnRNNBackwardData_v8 / cudnnRNNBackwardWeights_v8 on an NVIDIA GPU; the
 * driver and cuDNN are found and loaded at run time, and load() rejects with what is missing and
 * every place it looked when they are not there. Configure with GRU_CUDNN_PATH,
 * GRU_CUDA_DRIVER_PATH, GRU_CUDNN_DEVICE, GRU_CUDNN_PRECISION, GRU_CUDNN_PYTHON, or register
 * `createCudnnBackend({...})` in its place.
 */
import { registerBackend } from '@gru/core';
import { createDefaultCudnnBackend } from './backend.js';

export { createCudnnBackend, type CudnnBackend } from './backend.js';
export type { CudnnBackendOptions, ResolvedOptions } from './options.js';
export { CudnnPreparedGru, CudnnSaved } from './prepared.js';
export { cudnnSupports, cudnnSupportsSpec } from './support.js';
export { packWeights, unpackWeights, packedOffsets, KERAS_BLOCK_OF_ID, type PackedOffsets } from './weights.js';
export { searchPlan, probePython, type SearchPlan, type SearchInput, type PythonProbe } from './search.js';
export type { Precision, DeviceInfo, DeviceRuntime, DeviceLayer, DeviceSaved, DeviceLayerDims, DeviceForwardArgs, DeviceBackwardArgs } from './device.js';

/** The default cuDNN backend, registered on import. */
export const backend = createDefaultCudnnBackend();
registerBackend(backend);

export default backend;
