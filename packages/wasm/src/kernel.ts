import { WasmHeap } from './heap.js';
import type { ThreadPool } from './thread-pool.js';

/** What gru.wasm exports (assembly/index.ts). Addresses and sizes are byte offsets as i32. */
export interface GruWasmExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  gruForward(
    B: number,
    T: number,
    D: number,
    H: number,
    Hp: number,
    flags: number,
    actF: number,
    actG: number,
    chunk: number,
    x: number,
    wIn: number,
    wRec: number,
    biasIn: number,
    biasRec: number,
    h0: number,
    mask: number,
    inDrop: number,
    recDrop: number,
    out: number,
    last: number,
    scratch: number,
  ): void;
  gruForwardPart(...args: number[]): void;
  scratchBytes(B: number, D: number, Hp: number, flags: number, chunk: number, workers: number): number;
  activateArray(id: number, src: number, dst: number, n: number): void;
  ACT_COUNT: WebAssembly.Global;
  /** 1 in the relaxed-SIMD builds; absent from files built before them. */
  RELAXED_SIMD?: WebAssembly.Global;
  /** Backpropagation through a kept forward call (assembly/backward.ts). */
  gruBackward(...args: BackwardArgs): void;
  backwardScratchBytes(B: number, D: number, Hp: number, flags: number, workers: number): number;
  /** Bytes of the rows gruBackward writes (its `out` argument). */
  gradRowsBytes(B: number, T: number, Hp: number, flags: number): number;
  /** Worker `w` of `workers`' share of gruBackward, its arguments as i32 at `args`. */
  gruBackwardPart(args: number, w: number, workers: number, sync: number): void;
  packTransposed(src: number, K: number, H: number, Hp: number, gate: number, dst: number): void;
  keepBytes(B: number, T: number, Hp: number): number;
  activationGradArray(id: number, x: number, y: number, dst: number, n: number): void;
  /** 0 where the derivative reads only the activation's output, so forward keeps no pre-activations. */
  gradReadsInput(id: number): number;
  GRAD_ACT_COUNT: WebAssembly.Global;
}

/**
 * gruBackward's arguments: B, T, D, H, Hp, flags, actF, actG, then the addresses x, mask, inDrop,
 * recDrop, keep (read only), out (the rows it writes), tIn, tRec, dOut, dLast, dInit, dx, dK, dU, dBias, scratch.
 */
export type BackwardArgs = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

/** gruForward's arguments, which are also gruForwardPart's first ones. */
export type ForwardArgs = Parameters<GruWasmExports['gruForward']>;

const REQUIRED = [
  'memory',
  'heapBase',
  'gruForward',
  'gruForwardPart',
  'scratchBytes',
  'activateArray',
  'ACT_COUNT',
  'gruBackward',
  'backwardScratchBytes',
  'gradRowsBytes',
  'packTransposed',
  'keepBytes',
] as const;

/** One instance of gru.wasm (or gru-threads.wasm) and the heap over its memory. */
export class WasmKernel {
  readonly exports: GruWasmExports;
  readonly heap: WasmHeap;
  disposed = false;
  /** Worker threads on the same shared memory (gru-threads.wasm), set by the backend's load(). */
  pool: ThreadPool | undefined;
  /** The instruction set of the build: its GEMM multiply-adds fused (relaxed SIMD) or not. */
  readonly isa: 'simd128' | 'relaxed-simd128';

  constructor(instance: WebAssembly.Instance) {
    const e = instance.exports as unknown as GruWasmExports;
    const missing = REQUIRED.filter((k) => !(k in e));
    if (missing.length) throw new Error(`this gru.wasm lacks the exports ${missing.join(', ')}: it does not match this version of @gru/wasm`);
    this.exports = e;
    this.isa = e.RELAXED_SIMD?.value === 1 ? 'relaxed-simd128' : 'simd128';
    this.heap = new WasmHeap(e.memory, e.heapBase() >>> 0);
  }

  /** Instantiates gru.wasm, or gru-threads.wasm on the shared `memory` given. */
  static async instantiate(module: WebAssembly.Module, memory?: WebAssembly.Memory): Promise<WasmKernel> {
    return new WasmKernel(await WebAssembly.instantiate(module, memory ? { env: { memory } } : {}));
  }

  /** A view of `n` floats at byte address `ptr` (views are recreated because memory.grow detaches them). */
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.exports.memory.buffer, ptr, n);
  }

  u8(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.exports.memory.buffer, ptr, n);
  }
}
