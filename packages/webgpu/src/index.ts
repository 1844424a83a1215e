/**
 * @gru/webgpu: gru's WebGPU backend. WGSL compute kernels run the whole layer call: the input
 * projection as a tiled GEMM, then the recurrence for every timestep in one submission (a fused
 * whole-sequence kernel when the state fits in workgroup memory). Works with `navigator.gpu` in
 * browsers and with Dawn in Node (the npm package `webgpu`).
 *
 * Importing the package registers `backend` (name 'webgpu'). Share your own device with
 * `backend.configure({ device })` before first use, or make another instance with
 * `createWebGpuBackend(options)`.
 */
import { registerBackend } from '@gru/core';
import { WebGpuBackend } from './backend.js';

export { WebGpuBackend, createWebGpuBackend, type WebGpuBackendOptions, type WebGpuInfo } from './backend.js';
export type { DeviceOptions } from './device.js';
export { WebGpuPrepared, type RecurrencePath } from './prepared.js';
export { WGSL_ACTIVATIONS } from './activations-wgsl.js';

/** The default WebGPU backend, registered on import. */
export const backend = new WebGpuBackend();
registerBackend(backend);

export default backend;
