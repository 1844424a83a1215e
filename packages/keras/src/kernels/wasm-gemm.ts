/**
 * float32 matrix products on a WebAssembly SIMD128 GEMM (assembly/, embedded as bytes): what makes
 * Conv1D, Dense and the attention layers' products run at SIMD speed wherever @gru/keras runs,
 * without a native addon. The module is a few KB and is compiled synchronously on first use; where
 * WebAssembly or SIMD128 is missing (or the runtime refuses synchronous compilation) `wasmGemmRows`
 * returns false and the caller runs its plain-JS loop instead.
 *
 * Sums run in float32 in a fixed order (K ascending from the bias, like Keras's float32 GEMM on
 * CPU up to the order of the adds), so results stay within float32 rounding of Keras.
 *
 * The module's memory holds only the operands of one call: the weights packed into 8-column panels,
 * the bias row, and a block of input and output rows. It grows on demand up to MAX_BYTES; a product
 * whose panels would not fit leaves memory untouched and returns false (the caller falls back),
 * and rows are streamed through in blocks so that long inputs never need more.
 */
import { GEMM_WASM_BASE64 } from './wasm-gemm-bytes.js';
import type { FloatArray } from './common.js';
import { type GemmView, ONE_BATCH } from './gemm-view.js';

/** Most bytes the module's memory may grow to (far below its declared 1 GiB maximum). */
const MAX_BYTES = 64 << 20;
/** Bytes of input plus output rows streamed through per GEMM call. */
const BLOCK_BYTES = 4 << 20;
/** Below this many multiply-adds the copies in and out cost more than the SIMD saves. */
const MIN_MACS = 4096;
const PAGE = 65536;

/** The part of the WebAssembly API used here (the package's lib has no DOM or Node typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface GemmModule {
  readonly memory: WasmMemory;
  readonly heap: number;
  readonly gemm: (...args: number[]) => void;
  readonly relu: (ptr: number, count: number) => void;
}

let loaded: GemmModule | null | undefined;
let forcedOff = false;

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The instantiated module, or null where this runtime cannot run it. */
function gemmModule(): GemmModule | null {
  if (forcedOff) return null;
  if (loaded !== undefined) return loaded;
  try {
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!wasm) throw new Error('no WebAssembly');
    const instance = new wasm.Instance(new wasm.Module(decodeBase64(GEMM_WASM_BASE64)), {});
    const e = instance.exports as {
      memory: WasmMemory;
      gemm: (...args: number[]) => void;
      reluInPlace: (ptr: number, count: number) => void;
      heapBase: () => number;
    };
    // 16-byte aligned start for the panels (v128 loads are unaligned-safe, aligned is faster).
    loaded = { memory: e.memory, gemm: e.gemm, relu: e.reluInPlace, heap: (e.heapBase() + 15) & ~15 };
  } catch {
    // No WebAssembly, no SIMD128 (validation fails), or a main thread that refuses sync compiles.
    loaded = null;
  }
  return loaded;
}

/** Whether float32 products run on the SIMD module in this runtime. */
export function wasmGemmAvailable(): boolean {
  return gemmModule() !== null;
}

/**
 * Turns the SIMD module off (true) or back on (false) for this process: for tests that compare both
 * paths, and for users who must avoid WebAssembly. Returns the previous setting.
 */
export function disableWasmGemm(off: boolean): boolean {
  const was = forcedOff;
  forcedOff = off;
  return was;
}

function ensureBytes(mem: WasmMemory, bytes: number): void {
  const have = mem.buffer.byteLength;
  if (bytes > have) mem.grow(Math.ceil((bytes - have) / PAGE));
}

/**
 * A product (gemm-view.ts) on the SIMD module when every array is a Float32Array and the product
 * is large enough; returns false, having written nothing, otherwise. The view must have passed
 * checkGemmView (gemmRows checks it once for both paths) before the module's memory is touched.
 */
export function wasmGemmRows(g: GemmView): boolean {
  const { x, xOff, xStride, rows, n, wT, wOff, wStride, m, bias, out, outOff, outStride } = g;
  const batches = g.batches ?? ONE_BATCH;
  if (!(x instanceof Float32Array && wT instanceof Float32Array && out instanceof Float32Array)) return false;
  if (bias !== undefined && !(bias instanceof Float32Array)) return false;
  const nb = batches.count;
  if (nb <= 0 || rows <= 0 || m <= 0 || nb * rows * n * m < MIN_MACS) return false;
  const mod = gemmModule();
  if (!mod) return false;
  const panels = Math.ceil(m / 8);
  const np = panels * 8;
  const wBytes = n * np * 4;
  // Rows that overlap or nearly touch (a convolution's windows, xStride < 2n) are copied as one
  // span and read in place at stride xStride; rows far apart (a head of a wider row) one by one.
  const span = xStride < 2 * n;
  const lda = span ? xStride : n;
  const rowBytes = (Math.max(lda, n) + np) * 4;
  const fixed = mod.heap + wBytes + np * 4;
  if (fixed + 4 * rowBytes > MAX_BYTES) return false;
  const block = Math.max(4, Math.min(rows, Math.floor(Math.min(BLOCK_BYTES, MAX_BYTES - fixed) / rowBytes)));
  const wPtr = mod.heap;
  const bPtr = wPtr + wBytes;
  const aPtr = bPtr + np * 4;
  // The output rows start 16-byte aligned after the input span.
  const cPtr = aPtr + Math.ceil(((block - 1) * lda + n) / 4) * 16;
  try {
    ensureBytes(mod.memory, cPtr + block * np * 4);
  } catch {
    // The engine could not grow the memory (out of address space): the plain-JS path needs none.
    return false;
  }
  // A view taken after growing: growth detaches the previous buffer.
  const f = new Float32Array(mod.memory.buffer);
  // Panel p holds columns 8p..8p+7 as n rows of 8 floats; columns past m are zero.
  const w0 = wPtr >> 2;
  for (let p = 0; p < panels; p++) {
    const base = w0 + p * n * 8;
    for (let c = 0; c < 8; c++) {
      const j = p * 8 + c;
      if (j < m) {
        const src = wOff + j * wStride;
        for (let k = 0; k < n; k++) f[base + k * 8 + c] = wT[src + k];
      } else {
        for (let k = 0; k < n; k++) f[base + k * 8 + c] = 0;
      }
    }
  }
  const b0 = bPtr >> 2;
  for (let j = 0; j < np; j++) f[b0 + j] = bias && j < m ? bias[j] : 0;
  const a0 = aPtr >> 2;
  const c0 = cPtr >> 2;
  // The weights are packed once for every batch.
  for (let bi = 0; bi < nb; bi++) {
    const xb = xOff + bi * batches.xStride;
    const ob = outOff + bi * batches.outStride;
    for (let r0 = 0; r0 < rows; r0 += block) {
      const count = Math.min(block, rows - r0);
      const first = xb + r0 * xStride;
      if (span) {
        f.set(x.subarray(first, first + (count - 1) * xStride + n), a0);
      } else {
        for (let r = 0; r < count; r++) {
          const src = first + r * xStride;
          const dst = a0 + r * n;
          for (let k = 0; k < n; k++) f[dst + k] = x[src + k];
        }
      }
      mod.gemm(aPtr, lda * 4, count, 1, 0, n, wPtr, panels, bPtr, 0, 0, cPtr, np * 4, 0);
      if (g.relu) mod.relu(cPtr, count * np);
      if (np === m && outStride === m) {
        // Output rows are contiguous on both sides: one copy.
        out.set(f.subarray(c0, c0 + count * m), ob + r0 * m);
      } else {
        for (let r = 0; r < count; r++) {
          const src = c0 + r * np;
          const dst = ob + (r0 + r) * outStride;
          for (let j = 0; j < m; j++) out[dst + j] = f[src + j];
        }
      }
    }
  }
  return true;
}

/**
 * Keras's relu in place on a Float32Array, through the module in blocks: plain JS's relu branches on
 * each sign, and random signs make that several times slower. Returns false (nothing written) where
 * the module is unavailable or `data` is not float32.
 */
export function wasmRelu(data: FloatArray): boolean {
  if (!(data instanceof Float32Array) || data.length < 1024) return false;
  const mod = gemmModule();
  if (!mod) return false;
  const block = Math.min(data.length, BLOCK_BYTES >> 2);
  try {
    ensureBytes(mod.memory, mod.heap + block * 4);
  } catch {
    return false;
  }
  const f = new Float32Array(mod.memory.buffer);
  const at = mod.heap >> 2;
  for (let i = 0; i < data.length; i += block) {
    const count = Math.min(block, data.length - i);
    f.set(data.subarray(i, i + count), at);
    mod.relu(mod.heap, count);
    data.set(f.subarray(at, at + count), i);
  }
  return true;
}
