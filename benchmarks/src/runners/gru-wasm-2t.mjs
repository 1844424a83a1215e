import { gruRunner } from '../gru-runner.mjs';

// @gru/wasm with two worker threads (gru-threads.wasm on shared memory), compared with
// ort-web-wasm-2t. Calls under 2M multiply-adds (S1, S4) still run on the calling thread.
export default gruRunner(
  'wasm-2t',
  async () => {
    const [{ createWasmBackend }, { registerBackend }] = await Promise.all([import('@gru/wasm'), import('@gru/core')]);
    registerBackend(createWasmBackend({ name: 'wasm-2t', threads: 2, priority: -1 }));
  },
  { note: 'WebAssembly SIMD128 with 2 worker threads (calls under 2M multiply-adds run on the calling thread)' },
);
