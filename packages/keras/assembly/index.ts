// The GEMM that @gru/keras's float32 layers (Conv1D, Dense, attention) run on: the @gru/wasm
// backend's register-blocked SIMD128 kernel (4 x 8 tiles over packed 8-column panels) and relu, compiled
// into a small module of its own so that @gru/keras needs no backend for its non-GRU layers.
// Memory is managed from JavaScript (src/kernels/wasm-gemm.ts): stub runtime, no allocations.
export { gemm } from '../../wasm/assembly/gemm';

/**
 * max(x, 0) over `count` floats at `p`, in place: Keras's relu. wasm's max keeps NaN and gives +0
 * for -0, as @gru/core's relu does; branch-free, so random signs cost no mispredictions.
 */
export function reluInPlace(p: usize, count: i32): void {
  const zero = f32x4.splat(0);
  const end = p + (<usize>count << 2);
  for (; p + 16 <= end; p += 16) v128.store(p, f32x4.max(v128.load(p), zero));
  for (; p < end; p += 4) store<f32>(p, max<f32>(load<f32>(p), 0));
}

/** First byte after the module's static data: JavaScript's buffers start here. */
export function heapBase(): usize {
  return __heap_base;
}
