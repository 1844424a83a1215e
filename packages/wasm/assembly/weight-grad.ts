import { gemm } from './gemm';

// C[M][8*npanels] += sum over rows (k, b) of a(k, b)^T g(k, b): the weight gradients, a sum of
// outer products over every processed step and batch row. a(k, b) is M floats at
// a + b*aStrideB + t*aStrideT, with t = k, or T-1-k when `flip` (x is stored in time order while
// rows are in processing order), multiplied elementwise by the row of `mult` at b*mStrideB when
// mult is not 0 (dropout masks, which depend on b only). g(k, b) is a row of 8*npanels floats at
// g + (k*B + b)*ldg, followed by 8*npanels2 more at g2 + (k*B + b)*ldg2 (C's columns that share
// a's rows but whose gradients live elsewhere: resetAfter's candidate).
//
// A block of rows at a time is turned into the forward GEMM's operands (a transposed, g packed
// into column panels), so the sums run in gemm.ts's register tiles with contiguous loads; the
// copies cost O(rows * (M + columns)) against the GEMM's O(rows * M * columns). Each element of C
// is one add chain in row order, whatever the block size.

/** Rows per block: a block's transposed a and packed g stay in L2. */
export const WGRAD_ROWS: i32 = 128;

/** Scratch bytes weightGrad needs for up to M columns of a and `cols` of g and g2 together. */
export function weightGradScratch(M: i32, cols: i32): usize {
  return (<usize>WGRAD_ROWS * <usize>(M + cols)) << 2;
}

export function weightGrad(
  T: i32, B: i32, flip: bool, M: i32, npanels: i32,
  a: usize, aStrideB: usize, aStrideT: usize, mult: usize, mStrideB: usize,
  g: usize, ldg: usize, g2: usize, ldg2: usize, npanels2: i32, c: usize, ldc: usize, scratch: usize,
): void {
  const R = T * B;
  const aT = scratch, gP = scratch + ((<usize>WGRAD_ROWS * <usize>M) << 2);
  for (let r0 = 0; r0 < R; r0 += WGRAD_ROWS) {
    const rows = min(WGRAD_ROWS, R - r0);
    const ldaT = <usize>rows << 2, panelB = <usize>rows << 5;
    for (let i = 0; i < rows; i++) {
      const r = r0 + i, k = r / B, b = r - k * B;
      const ar = a + <usize>b * aStrideB + <usize>(flip ? T - 1 - k : k) * aStrideT;
      const dst = aT + (<usize>i << 2);
      if (mult) {
        const mr = mult + <usize>b * mStrideB;
        for (let m = 0; m < M; m++) store<f32>(dst + <usize>m * ldaT, load<f32>(ar + (<usize>m << 2)) * load<f32>(mr + (<usize>m << 2)));
      } else {
        for (let m = 0; m < M; m++) store<f32>(dst + <usize>m * ldaT, load<f32>(ar + (<usize>m << 2)));
      }
      const gr = g + (<usize>k * <usize>B + <usize>b) * ldg;
      for (let p = 0; p < npanels; p++) {
        const from = gr + (<usize>p << 5), to = gP + <usize>p * panelB + (<usize>i << 5);
        v128.store(to, v128.load(from));
        v128.store(to, v128.load(from, 16), 16);
      }
      const gr2 = g2 + (<usize>k * <usize>B + <usize>b) * ldg2;
      for (let p = 0; p < npanels2; p++) {
        const from = gr2 + (<usize>p << 5), to = gP + <usize>(npanels + p) * panelB + (<usize>i << 5);
        v128.store(to, v128.load(from));
        v128.store(to, v128.load(from, 16), 16);
      }
    }
    gemm(aT, ldaT, M, 1, 0, rows, gP, npanels + npanels2, c, ldc, 0, c, ldc, 0);
  }
}
