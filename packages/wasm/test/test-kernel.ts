import { backend } from '../src/index.js';
import type { WasmKernel } from '../src/kernel.js';

/**
 * The loaded module's kernel, for tests that call its test-only exports (activateArray,
 * activationGradArray) directly: reached through a prepared layer, which is disposed at once.
 */
export async function loadTestKernel(): Promise<WasmKernel> {
  await backend.load();
  const prepared = backend.prepareSync(
    { units: 1, inputDim: 1, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: false, resetAfter: true, dtype: 'float32' },
    { kernel: new Float32Array(3), recurrentKernel: new Float32Array(3), bias: null },
  );
  const kernel = (prepared as unknown as { kernel: WasmKernel }).kernel;
  prepared.dispose();
  return kernel;
}

/** Runs `run(src addresses, dst address)` on `inputs` copied into the heap; returns `dstLength` floats of dst (prefilled with `fill`). */
export function onHeap(kernel: WasmKernel, inputs: Float32Array[], dstLength: number, fill: number, run: (src: number[], dst: number) => void): Float32Array {
  const srcs: number[] = [];
  const dst = kernel.heap.alloc(dstLength * 4, 'test output');
  try {
    for (const input of inputs) {
      const p = kernel.heap.alloc(input.length * 4, 'test input');
      srcs.push(p);
      kernel.f32(p, input.length).set(input);
    }
    kernel.f32(dst, dstLength).fill(fill);
    run(srcs, dst);
    return kernel.f32(dst, dstLength).slice();
  } finally {
    for (const p of srcs) kernel.heap.release(p);
    kernel.heap.release(dst);
  }
}
