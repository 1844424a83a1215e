/**
 * @gru/wasm: gru's WebAssembly SIMD128 backend, for browsers, Deno, Bun, edge runtimes and Node
 * without a native addon. Importing the package registers `backend` (name 'wasm'); it loads
 * gru.wasm from next to the package on first use. Use `createWasmBackend({ wasmUrl | wasmBytes |
 * wasmModule })` where a bundler or CDN puts the file elsewhere.
 */
import { registerBackend } from '@gru/core';
import { createWasmBackend } from './backend.js';

export { createWasmBackend, wasmSupports, type WasmBackend, type WasmBackendOptions } from './backend.js';
export type { WasmPreparedGru } from './prepared.js';
export { WASM_ACTIVATIONS } from './activation-codes.js';
export { defaultWasmUrl, relaxedSimdAvailable, type WasmSource } from './module-loader.js';

/** The default wasm backend, registered on import. */
export const backend = createWasmBackend();
registerBackend(backend);

export default backend;
