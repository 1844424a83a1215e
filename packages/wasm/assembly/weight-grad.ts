import { gemmPanelsA } from './gemm';

// C[M][8*npanels] += sum over rows (k, b) of a(k, b)^T g(k, b): the weight gradients, a sum of
// outer products over every processed step and batch row. a(k, b) is M floats at
// a + b*aStrideB + t*aStrideT, with t = k, or T-1-k when `flip` (x is stored in time order while
// rows are in processing order), multiplied elementwise by the row of `mult` at b*mStrideB when
// mult is not 0 (dropout masks, which depend on b only). g(k, b) is a row of 8*npanels floats at
// g + (k*B + b)*ldg, followed by 8*npanels2 more at g2 + (k*B + b)*ldg2 (C's columns that share
// a's rows but whose gradients live elsewhere: resetAfter's candidate).
// With `sums` (or `sums2`) not 0, g's (g2's) rows are also added into that row of column sums as
// they are packed, in row order: the bias gradients, without another pass over the kept rows.
//
// A block of rows at a time is turned into GEMM operands (a^T as 4-row panels for gemmPanelsA,
// whose broadcasts need no per-row address arithmetic; g packed into column panels), so the sums
// run in gemm.ts's register tiles with contiguous loads; the copies cost O(rows * (M + columns))
// against the GEMM's O(rows * M * columns). Each element of C is one add chain in row order,
// whatever the block size or tile.

/** Rows per block: a block's packed a and g stay in L2. */
export const WGRAD_ROWS: i32 = 128;

/** Scratch bytes weightGrad needs for up to M columns of a and `cols` of g and g2 together. */
export function weightGradScratch(M: i32, cols: i32): usize {
  return (<usize>WGRAD_ROWS * <usize>(((M + 3) & ~3) + cols)) << 2;
}

/** Address of a(k, b) for row r = k*B + b (see weightGrad). */
@inline function rowAddress(a: usize, aStrideB: usize, aStrideT: usize, T: i32, B: i32, flip: bool, r: i32): usize {
  const k = r / B, b = r - k * B;
  return a + <usize>b * aStrideB + <usize>(flip ? T - 1 - k : k) * aStrideT;
}

export function weightGrad(
  T: i32, B: i32, flip: bool, M: i32, npanels: i32,
  a: usize, aStrideB: usize, aStrideT: usize, mult: usize, mStrideB: usize,
  g: usize, ldg: usize, g2: usize, ldg2: usize, npanels2: i32, c: usize, ldc: usize, scratch: usize,
  sums: usize, sums2: usize,
): void {
  const R = T * B;
  const aP = scratch, gP = scratch + ((<usize>WGRAD_ROWS * <usize>((M + 3) & ~3)) << 2);
  for (let r0 = 0; r0 < R; r0 += WGRAD_ROWS) {
    const rows = min(WGRAD_ROWS, R - r0);
    const panelA = <usize>rows << 4, panelB = <usize>rows << 5;
    // a's rows into 4-row panels of a^T: 16-byte pieces of a row, each to its panel.
    for (let i = 0; i < rows; i++) {
      const r = r0 + i;
      const ar = rowAddress(a, aStrideB, aStrideT, T, B, flip, r);
      packRowA(ar, mult ? mult + <usize>(r % B) * mStrideB : 0, M, aP + (<usize>i << 4), panelA);
    }
    // g's rows into column panels.
    for (let i = 0; i < rows; i++) {
      const to = gP + (<usize>i << 5);
      packRow(g + <usize>(r0 + i) * ldg, npanels, to, panelB, sums);
      packRow(g2 + <usize>(r0 + i) * ldg2, npanels2, to + <usize>npanels * panelB, panelB, sums2);
    }
    gemmPanelsA(aP, M, rows, gP, npanels + npanels2, c, ldc, c, ldc);
  }
}

/**
 * Row `from` of a (M floats, times the row `mult` elementwise unless that is 0) as one K step of
 * a's 4-row panels at `to`, `panelA` bytes apart: floats 4q..4q+3 go to panel q.
 */
@inline function packRowA(from: usize, mult: usize, M: i32, to: usize, panelA: usize): void {
  const M4 = M & ~3;
  if (mult) {
    for (let m = 0; m < M4; m += 4) {
      const o = <usize>m << 2;
      v128.store(to + <usize>(m >> 2) * panelA, f32x4.mul(v128.load(from + o), v128.load(mult + o)));
    }
  } else {
    for (let m = 0; m < M4; m += 4) v128.store(to + <usize>(m >> 2) * panelA, v128.load(from + (<usize>m << 2)));
  }
  for (let m = M4; m < M; m++) {
    const o = <usize>m << 2;
    store<f32>(to + <usize>(m >> 2) * panelA + (<usize>(m & 3) << 2), mult ? load<f32>(from + o) * load<f32>(mult + o) : load<f32>(from + o));
  }
}

/** Copies a row of `npanels` 8-float groups to one row of each of the column panels at `to`, `panelB` bytes apart; adds it into `sums` unless that is 0. */
@inline function packRow(from: usize, npanels: i32, to: usize, panelB: usize, sums: usize): void {
  if (sums) {
    for (let p = 0; p < npanels; p++) {
      const f = from + (<usize>p << 5), t = to + <usize>p * panelB, s = sums + (<usize>p << 5);
      const v0 = v128.load(f), v1 = v128.load(f, 16);
      v128.store(t, v0);
      v128.store(t, v1, 16);
      v128.store(s, f32x4.add(v128.load(s), v0));
      v128.store(s, f32x4.add(v128.load(s, 16), v1), 16);
    }
    return;
  }
  for (let p = 0; p < npanels; p++) {
    const f = from + (<usize>p << 5), t = to + <usize>p * panelB;
    v128.store(t, v128.load(f));
    v128.store(t, v128.load(f, 16), 16);
  }
}
