import { gruRunner, relaxedSimdFlags } from '../gru-runner.mjs';

// gru:wasm:stream on the relaxed-SIMD build (see gru-wasm-relaxed.mjs for the flag).
export default gruRunner('wasm', () => import('@gru/wasm'), {
  name: 'gru:wasm:stream:relaxed',
  stream: true,
  nodeFlags: relaxedSimdFlags(),
  isa: 'relaxed-simd128',
  note: 'stateful layer.stream() on the relaxed-SIMD build, T step() calls per pass (µs per step = median ÷ T); on Node 20 the child is started with --experimental-wasm-relaxed-simd',
});
