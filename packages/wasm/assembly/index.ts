// The module's exports. Memory is managed from JavaScript (src/heap.ts): the module is built
// with the stub runtime and never allocates; every buffer it touches is passed in by address.
export { gruForward, gruForwardPart, scratchBytes } from './forward';
export { activateArray, ACT_COUNT } from './activations';
export { activationGradArray, GRAD_ACT_COUNT, gradReadsInput } from './activation-grads';
export { backwardScratchBytes, gradRowsBytes, gruBackward, gruBackwardPart, packTransposed } from './backward';
export { keepBytes } from './keep';

/** 1 in the relaxed-SIMD builds (GEMM multiply-adds may fuse), 0 in the plain SIMD128 ones. */
export const RELAXED_SIMD: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 0;

/** First byte after the module's static data: JavaScript's heap starts here. */
export function heapBase(): usize {
  return __heap_base;
}
