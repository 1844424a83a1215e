import { gruRunner, relaxedSimdFlags } from '../gru-runner.mjs';

// @gru/wasm's relaxed-SIMD build (gru-relaxed.wasm: the GEMM multiply-adds as f32x4.relaxed_madd), one
// thread. Node 20 (V8 11.3) keeps relaxed SIMD behind a flag that NODE_OPTIONS refuses, so the child
// process is started with it; V8 11.4+ (Node 21+) ships it on. The runner refuses to time the plain
// build in its place.
export default gruRunner('wasm', () => import('@gru/wasm'), {
  name: 'gru:wasm:relaxed',
  nodeFlags: relaxedSimdFlags(),
  isa: 'relaxed-simd128',
  note: 'WebAssembly relaxed SIMD (relaxed_madd: FMA where the engine fuses it), single-threaded; on Node 20 the child is started with --experimental-wasm-relaxed-simd',
});
