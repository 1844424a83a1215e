/**
 * @gru/cpu: the native CPU backend for gru. Importing it registers the backend, so a GRU layer
 * picks it for every call it supports:
 *
 * ```ts
 * import { GRU } from '@gru/core';
 * import '@gru/cpu';
 * const y = await new GRU({ units: 64 }).forward(x);
 * ```
 */
import { registerBackend } from '@gru/core';
import { createCpuBackend } from './backend.js';

export { createCpuBackend, cpuSupports, type CpuBackend, type CpuBackendOptions } from './backend.js';
export type { CpuPoolStats } from './native.js';
export { CpuPreparedGru, callMacs } from './prepared.js';
export { NATIVE_ACTIVATIONS, activationId } from './activations.js';
export { addonCandidates, bindingProblem, explainLoadError, loadAddon, ADDON_ABI } from './loader.js';
export { measureFma, type FmaMeasurement, type MeasureFmaOptions } from './fma.js';

/** The default cpu backend (registered on import as 'cpu'). */
export const backend = createCpuBackend();
registerBackend(backend);

export default backend;
