/**
 * The inner products the dense parts of the kernels (Conv1D's taps, attention projections) are
 * made of, written so that V8 keeps the sums in registers: weights are transposed once per call so
 * that every sum walks two contiguous runs, and four outputs share each load of the input.
 */
import { activationDef, applyActivation, type ActivationDef } from '@gru/core';
import { type FloatArray, sameArray } from './common.js';
import { checkGemmView, type GemmView, ONE_BATCH } from './gemm-view.js';
import { wasmGemmRows, wasmRelu } from './wasm-gemm.js';

/** (rows, cols) row-major -> (cols, rows) row-major, same dtype. */
export function transpose(w: FloatArray, rows: number, cols: number): FloatArray {
  const out = sameArray(w, w.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[base + c];
  }
  return out;
}

/** dst[c * rows + r] = src[off + r * rowStride + c] for r < rows, c < cols: a (strided) block, transposed. */
export function transposeInto(src: FloatArray, off: number, rows: number, cols: number, rowStride: number, dst: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = off + r * rowStride;
    for (let c = 0; c < cols; c++) dst[c * rows + r] = src[base + c];
  }
}

/**
 * For j < m: out[outOff + j] = (bias ? bias[biasOff + j] : 0) + sum over k < n of x[xOff + k] * wT[wOff + j * wStride + k],
 * summed in float64 and rounded once by the store into `out`. `bias` may be `out` itself at the same
 * offset, which accumulates.
 */
export function dotMany(
  x: FloatArray,
  xOff: number,
  n: number,
  wT: FloatArray,
  wOff: number,
  wStride: number,
  m: number,
  bias: FloatArray | undefined,
  biasOff: number,
  out: FloatArray,
  outOff: number,
): void {
  let j = 0;
  for (; j + 4 <= m; j += 4) {
    let a0 = bias ? bias[biasOff + j] : 0;
    let a1 = bias ? bias[biasOff + j + 1] : 0;
    let a2 = bias ? bias[biasOff + j + 2] : 0;
    let a3 = bias ? bias[biasOff + j + 3] : 0;
    const w0 = wOff + j * wStride;
    const w1 = w0 + wStride;
    const w2 = w1 + wStride;
    const w3 = w2 + wStride;
    for (let k = 0; k < n; k++) {
      const xv = x[xOff + k];
      a0 += xv * wT[w0 + k];
      a1 += xv * wT[w1 + k];
      a2 += xv * wT[w2 + k];
      a3 += xv * wT[w3 + k];
    }
    out[outOff + j] = a0;
    out[outOff + j + 1] = a1;
    out[outOff + j + 2] = a2;
    out[outOff + j + 3] = a3;
  }
  for (; j < m; j++) {
    let a = bias ? bias[biasOff + j] : 0;
    const w0 = wOff + j * wStride;
    for (let k = 0; k < n; k++) a += x[xOff + k] * wT[w0 + k];
    out[outOff + j] = a;
  }
}

/**
 * dotMany for two input rows at once (x at xOff0 and xOff1, results at outOff0 and outOff1), which
 * share every weight load: the form the row loops of projections and convolutions take.
 */
export function dotMany2(
  x: FloatArray,
  xOff0: number,
  xOff1: number,
  n: number,
  wT: FloatArray,
  wOff: number,
  wStride: number,
  m: number,
  bias: FloatArray | undefined,
  out: FloatArray,
  outOff0: number,
  outOff1: number,
): void {
  let j = 0;
  for (; j + 4 <= m; j += 4) {
    const b0 = bias ? bias[j] : 0;
    const b1 = bias ? bias[j + 1] : 0;
    const b2 = bias ? bias[j + 2] : 0;
    const b3 = bias ? bias[j + 3] : 0;
    let a0 = b0;
    let a1 = b1;
    let a2 = b2;
    let a3 = b3;
    let c0 = b0;
    let c1 = b1;
    let c2 = b2;
    let c3 = b3;
    const w0 = wOff + j * wStride;
    const w1 = w0 + wStride;
    const w2 = w1 + wStride;
    const w3 = w2 + wStride;
    for (let k = 0; k < n; k++) {
      const x0 = x[xOff0 + k];
      const x1 = x[xOff1 + k];
      const v0 = wT[w0 + k];
      const v1 = wT[w1 + k];
      const v2 = wT[w2 + k];
      const v3 = wT[w3 + k];
      a0 += x0 * v0;
      a1 += x0 * v1;
      a2 += x0 * v2;
      a3 += x0 * v3;
      c0 += x1 * v0;
      c1 += x1 * v1;
      c2 += x1 * v2;
      c3 += x1 * v3;
    }
    out[outOff0 + j] = a0;
    out[outOff0 + j + 1] = a1;
    out[outOff0 + j + 2] = a2;
    out[outOff0 + j + 3] = a3;
    out[outOff1 + j] = c0;
    out[outOff1 + j + 1] = c1;
    out[outOff1 + j + 2] = c2;
    out[outOff1 + j + 3] = c3;
  }
  if (j < m) {
    dotMany(x, xOff0, n, wT, wOff + j * wStride, wStride, m - j, bias, j, out, outOff0 + j);
    dotMany(x, xOff1, n, wT, wOff + j * wStride, wStride, m - j, bias, j, out, outOff1 + j);
  }
}

/**
 * The product a GemmView describes (gemm-view.ts), checked once: float32 products large enough to
 * pay for the copies run on the SIMD128 module (wasm-gemm.ts, float32 sums, relu fused); the rest,
 * float64 included, sum in float64 here and are rounded once into `out`.
 */
export function gemmRows(g: GemmView): void {
  checkGemmView(g);
  if (wasmGemmRows(g)) return;
  const { x, xOff, xStride, rows, n, wT, wOff, wStride, m, bias, out, outOff, outStride } = g;
  const batches = g.batches ?? ONE_BATCH;
  const f = g.relu ? (activationDef('relu').f as (v: number) => number) : null;
  for (let b = 0; b < batches.count; b++) {
    const xb = xOff + b * batches.xStride;
    const ob = outOff + b * batches.outStride;
    let r = 0;
    for (; r + 2 <= rows; r += 2) {
      const x0 = xb + r * xStride;
      const o0 = ob + r * outStride;
      dotMany2(x, x0, x0 + xStride, n, wT, wOff, wStride, m, bias, out, o0, o0 + outStride);
    }
    if (r < rows) dotMany(x, xb + r * xStride, n, wT, wOff, wStride, m, bias, 0, out, ob + r * outStride);
    if (f) {
      for (let q = 0; q < rows; q++) {
        const o = ob + q * outStride;
        for (let j = 0; j < m; j++) out[o + j] = f(out[o + j]);
      }
    }
  }
}

/** out (rows, dout) = x (rows, din) @ w + bias, given wT = w transposed (dout, din); rounded once into `out`. */
export function matmulRows(x: FloatArray, rows: number, din: number, wT: FloatArray, bias: FloatArray | undefined, dout: number, out: FloatArray): void {
  gemmRows({ x, xOff: 0, xStride: din, rows, n: din, wT, wOff: 0, wStride: din, m: dout, bias, out, outOff: 0, outStride: dout });
}

/**
 * Applies `act` in place to each of `rows` rows of `width` values: elementwise ones value by value
 * (computed in float64, stored in the array's dtype), row-wise ones (softmax...) through float64 rows.
 */
export function activateRows(act: ActivationDef, data: FloatArray, rows: number, width: number): void {
  if (act.name === 'linear') return;
  if (act.name === 'relu' && wasmRelu(data.subarray(0, rows * width))) return;
  const f = act.f;
  if (f) {
    const n = rows * width;
    for (let i = 0; i < n; i++) data[i] = f(data[i]);
    return;
  }
  const pre = new Float64Array(width);
  const post = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    const from = r * width;
    for (let i = 0; i < width; i++) pre[i] = data[from + i];
    applyActivation(act, pre, post, 0, width);
    for (let i = 0; i < width; i++) data[from + i] = post[i];
  }
}
