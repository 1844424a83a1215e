import { gruRunner } from '../gru-runner.mjs';

// @gru/wasm single-threaded (the default): the WebAssembly SIMD128 kernels, run in Node.
export default gruRunner('wasm', () => import('@gru/wasm'), {
  note: 'WebAssembly SIMD128, single-threaded',
});
