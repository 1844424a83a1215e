// The GEMM that @gru/keras's float32 layers (Conv1D, Dense, attention) run on: the @gru/wasm
// backend's register-blocked SIMD128 kernel (4 x 8 tiles over packed 8-column panels), compiled
// into a small module of its own so that @gru/keras needs no backend for its non-GRU layers.
// Memory is managed from JavaScript (src/kernels/wasm-gemm.ts): stub runtime, no allocations.
export { gemm } from '../../wasm/assembly/gemm';

/** First byte after the module's static data: JavaScript's buffers start here. */
export function heapBase(): usize {
  return __heap_base;
}
