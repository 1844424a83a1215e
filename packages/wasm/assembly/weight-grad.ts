import { gemm } from './gemm';

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
  const aT = scratch, gP = scratch + ((<usize>WGRAD_ROWS * <usize>M) << 2);
  for (let r0 = 0; r0 < R; r0 += WGRAD_ROWS) {
    const rows = min(WGRAD_ROWS, R - r0);
    const ldaT = <usize>rows << 2, panelB = <usize>rows << 5;
    // a^T: four rows at a time as 4x4 transposes (vector stores; scalar ones down the columns
    // of aT cost about as much as the block's GEMM), the rest one element at a time.
    let i = 0;
    for (; i + 4 <= rows; i += 4) {
      const r = r0 + i;
      const a0 = rowAddress(a, aStrideB, aStrideT, T, B, flip, r), a1 = rowAddress(a, aStrideB, aStrideT, T, B, flip, r + 1);
      const a2 = rowAddress(a, aStrideB, aStrideT, T, B, flip, r + 2), a3 = rowAddress(a, aStrideB, aStrideT, T, B, flip, r + 3);
      const m0 = mult + <usize>(r % B) * mStrideB, m1 = mult + <usize>((r + 1) % B) * mStrideB;
      const m2 = mult + <usize>((r + 2) % B) * mStrideB, m3 = mult + <usize>((r + 3) % B) * mStrideB;
      const dst = aT + (<usize>i << 2);
      let m = 0;
      for (; m + 4 <= M; m += 4) {
        const o = <usize>m << 2;
        let v0 = v128.load(a0 + o), v1 = v128.load(a1 + o), v2 = v128.load(a2 + o), v3 = v128.load(a3 + o);
        if (mult) {
          v0 = f32x4.mul(v0, v128.load(m0 + o));
          v1 = f32x4.mul(v1, v128.load(m1 + o));
          v2 = f32x4.mul(v2, v128.load(m2 + o));
          v3 = f32x4.mul(v3, v128.load(m3 + o));
        }
        const lo01 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), lo23 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
        const hi01 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7), hi23 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
        const d = dst + <usize>m * ldaT;
        v128.store(d, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5));
        v128.store(d + ldaT, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7));
        v128.store(d + 2 * ldaT, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5));
        v128.store(d + 3 * ldaT, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7));
      }
      for (; m < M; m++) {
        const o = <usize>m << 2, d = dst + <usize>m * ldaT;
        store<f32>(d, mult ? load<f32>(a0 + o) * load<f32>(m0 + o) : load<f32>(a0 + o));
        store<f32>(d, mult ? load<f32>(a1 + o) * load<f32>(m1 + o) : load<f32>(a1 + o), 4);
        store<f32>(d, mult ? load<f32>(a2 + o) * load<f32>(m2 + o) : load<f32>(a2 + o), 8);
        store<f32>(d, mult ? load<f32>(a3 + o) * load<f32>(m3 + o) : load<f32>(a3 + o), 12);
      }
    }
    for (; i < rows; i++) {
      const r = r0 + i;
      const ar = rowAddress(a, aStrideB, aStrideT, T, B, flip, r), mr = mult + <usize>(r % B) * mStrideB;
      const dst = aT + (<usize>i << 2);
      for (let m = 0; m < M; m++) {
        const o = <usize>m << 2;
        store<f32>(dst + <usize>m * ldaT, mult ? load<f32>(ar + o) * load<f32>(mr + o) : load<f32>(ar + o));
      }
    }
    // g's rows into column panels.
    for (let i = 0; i < rows; i++) {
      const to = gP + (<usize>i << 5);
      packRow(g + <usize>(r0 + i) * ldg, npanels, to, panelB, sums);
      packRow(g2 + <usize>(r0 + i) * ldg2, npanels2, to + <usize>npanels * panelB, panelB, sums2);
    }
    gemm(aT, ldaT, M, 1, 0, rows, gP, npanels + npanels2, c, ldc, 0, c, ldc, 0);
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
