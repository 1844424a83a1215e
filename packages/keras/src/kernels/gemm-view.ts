/**
 * One matrix product over strided views, as the dense parts of the kernels (Conv1D's taps, Dense,
 * attention projections) describe it to gemmRows (matmul.ts), which runs it on the SIMD module
 * (wasm-gemm.ts) or in plain JS. Checked once, here, before either path reads or writes.
 */
import { type FloatArray, KernelArgumentError } from './common.js';

/** `count` products with the same weights, their x and out views `xStride` and `outStride` apart. */
export interface RowBatches {
  count: number;
  xStride: number;
  outStride: number;
}

export const ONE_BATCH: RowBatches = Object.freeze({ count: 1, xStride: 0, outStride: 0 });

/**
 * For r < rows and j < m: out[outOff + r * outStride + j] = (bias ? bias[j] : 0) +
 * sum over k < n of x[xOff + r * xStride + k] * wT[wOff + j * wStride + k], repeated for each of
 * `batches` (x and out offsets moved by its strides, the same weights), then Keras's relu on every
 * result when `relu` is set.
 */
export interface GemmView {
  x: FloatArray;
  xOff: number;
  xStride: number;
  rows: number;
  /** Values summed per result (x's row length, wT's). */
  n: number;
  wT: FloatArray;
  wOff: number;
  wStride: number;
  /** Results per row (rows of wT). */
  m: number;
  bias?: FloatArray;
  out: FloatArray;
  outOff: number;
  outStride: number;
  batches?: RowBatches;
  relu?: boolean;
}

/** Checks that `count` runs of `len` values, `stride` apart from `off`, lie inside `a`. */
function checkSpan(argument: string, a: FloatArray, off: number, count: number, stride: number, len: number): void {
  const end = off + (count - 1) * stride + len;
  if (!(Number.isInteger(off) && off >= 0 && Number.isInteger(stride) && stride >= 0 && end <= a.length)) {
    throw new KernelArgumentError(
      'gemm',
      argument,
      `argument '${argument}' expected ${count} rows of ${len} values ${stride} apart from offset ${off} (up to index ${end}), received an array of ${a.length}`,
    );
  }
}

/**
 * Every index the product implies lies inside its array (a KernelArgumentError names the argument
 * otherwise). An empty product (no batches, rows or results) touches nothing and passes.
 */
export function checkGemmView(g: GemmView): void {
  const batches = g.batches ?? ONE_BATCH;
  const nb = batches.count;
  if (nb <= 0 || g.rows <= 0 || g.m <= 0) return;
  // Offsets grow with the batch: the first and the last bound every one between.
  for (const b of nb > 1 ? [0, nb - 1] : [0]) {
    checkSpan('x', g.x, g.xOff + b * batches.xStride, g.rows, g.xStride, g.n);
    checkSpan('out', g.out, g.outOff + b * batches.outStride, g.rows, g.outStride, g.m);
  }
  checkSpan('wT', g.wT, g.wOff, g.m, g.wStride, g.n);
  if (g.bias && g.bias.length < g.m) {
    throw new KernelArgumentError('gemm', 'bias', `argument 'bias' expected at least ${g.m} values, received ${g.bias.length}`);
  }
}
