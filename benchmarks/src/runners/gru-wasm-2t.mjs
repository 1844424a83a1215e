import { gruRunner } from '../gru-runner.mjs';

// @gru/wasm with two worker threads (gru-threads.wasm on shared memory), compared with
// ort-web-wasm-2t. Calls whose steps have under 2 x 150,000 multiply-adds (S1, S4) run on the
// calling thread.
export default gruRunner(
  'wasm-2t',
  async () => {
    const [{ createWasmBackend }, { registerBackend }] = await Promise.all([import('@gru/wasm'), import('@gru/core')]);
    registerBackend(createWasmBackend({ name: 'wasm-2t', threads: 2, priority: -1 }));
  },
  { note: 'WebAssembly SIMD128 with 2 worker threads (S1 and S4, whose steps are too small to share, run on the calling thread)' },
);
