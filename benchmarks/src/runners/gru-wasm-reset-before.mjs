import { gruRunner } from '../gru-runner.mjs';

// The same layer as tfjs-wasm (reset_after=False, which is all tfjs's GRU supports), on @gru/wasm.
export default gruRunner('wasm', () => import('@gru/wasm'), {
  name: 'gru:wasm:reset-before',
  note: 'WebAssembly SIMD128, single-threaded, reset_after=False (the configuration tfjs-wasm runs)',
  layer: { resetAfter: false },
});
