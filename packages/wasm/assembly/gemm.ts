// C = B + A x W with W packed once into column panels: panel p holds columns 8p..8p+7 as
// K rows of 8 contiguous floats, so the inner loop streams one panel front to back while the
// A element is broadcast. Tiles are 4 rows x 8 columns (8 accumulators, which fit x64's 16
// vector registers with the operands) or, for a single row, 1 row x 32 columns (4 panels at
// once, so there are still 8 independent add chains).
// B is a bias row shared by every row of C (row stride ldb = 0), or per-row values (ldb = ldc;
// B = C accumulates into C in place). All sizes and strides are in bytes except K (the shared
// dimension) and row counts.

export const PANEL_COLS: i32 = 8;

/**
 * c + x * w. With relaxed SIMD (gru-relaxed.wasm) one relaxed_madd, which the engine may fuse
 * (one rounding, x86 FMA3 / Arm FMLA) or not; either way the same on every call of one engine on
 * one machine, and each output element is still one chain in k order, so thread counts and tile
 * shapes give bitwise the same results within a build.
 */
@inline function madd(c: v128, x: v128, w: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(x, w, c);
  return f32x4.add(c, f32x4.mul(x, w));
}

@inline function panelBytes(K: i32): usize {
  return <usize>K << 5;
}

// V8 (TurboFan) runs these K loops at half speed or worse when the accumulators feed more than a
// plain store after the loop (measured: adding the bias there, or a K-remainder step). So the
// accumulators start from B, any remainder step is peeled before the loop, and the loop
// ends in plain stores.

/** 4 rows x 8 columns. */
function tile4x8(a: usize, lda: usize, w: usize, K: i32, c: usize, ldc: usize, b: usize, ldb: usize): void {
  let c00 = v128.load(b), c01 = v128.load(b, 16);
  b += ldb;
  let c10 = v128.load(b), c11 = v128.load(b, 16);
  b += ldb;
  let c20 = v128.load(b), c21 = v128.load(b, 16);
  b += ldb;
  let c30 = v128.load(b), c31 = v128.load(b, 16);
  const a1 = lda, a2 = lda << 1, a3 = lda * 3;
  const end = a + (<usize>K << 2);
  for (; a < end; a += 4) {
    const w0 = v128.load(w);
    const w1 = v128.load(w, 16);
    w += 32;
    let x = v128.load32_splat(a);
    c00 = madd(c00, x, w0);
    c01 = madd(c01, x, w1);
    x = v128.load32_splat(a + a1);
    c10 = madd(c10, x, w0);
    c11 = madd(c11, x, w1);
    x = v128.load32_splat(a + a2);
    c20 = madd(c20, x, w0);
    c21 = madd(c21, x, w1);
    x = v128.load32_splat(a + a3);
    c30 = madd(c30, x, w0);
    c31 = madd(c31, x, w1);
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  c += ldc;
  v128.store(c, c10);
  v128.store(c, c11, 16);
  c += ldc;
  v128.store(c, c20);
  v128.store(c, c21, 16);
  c += ldc;
  v128.store(c, c30);
  v128.store(c, c31, 16);
}

/**
 * One row times `groups` groups of 4 panels (32 columns each): c[0 .. 32*groups) = b + a x W.
 * K is unrolled by four (a rolled loop ran at half speed on S1's recurrent GEMV; four steps an
 * iteration halve the loop's bookkeeping and V8's per-iteration stack check against two). Each
 * accumulator still adds its products in K order, so results are those of the other tiles.
 */
function row1x32(a: usize, w: usize, K: i32, groups: i32, c: usize, bias: usize): void {
  const stride = <usize>K << 5;
  const end = a + (<usize>K << 2);
  for (let q = 0; q < groups; q++) {
    const bq = bias + (<usize>q << 7);
    let c0 = v128.load(bq), c1 = v128.load(bq, 16), c2 = v128.load(bq, 32), c3 = v128.load(bq, 48);
    let c4 = v128.load(bq, 64), c5 = v128.load(bq, 80), c6 = v128.load(bq, 96), c7 = v128.load(bq, 112);
    let w0 = w + <usize>q * (stride << 2);
    let w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
    let x0 = a;
    // The K % 4 leading steps, one at a time, so the loop below ends in plain stores.
    for (let r = K & 3; r > 0; r--) {
      const x = v128.load32_splat(x0);
      c0 = madd(c0, x, v128.load(w0));
      c1 = madd(c1, x, v128.load(w0, 16));
      c2 = madd(c2, x, v128.load(w1));
      c3 = madd(c3, x, v128.load(w1, 16));
      c4 = madd(c4, x, v128.load(w2));
      c5 = madd(c5, x, v128.load(w2, 16));
      c6 = madd(c6, x, v128.load(w3));
      c7 = madd(c7, x, v128.load(w3, 16));
      x0 += 4;
      w0 += 32;
      w1 += 32;
      w2 += 32;
      w3 += 32;
    }
    for (; x0 < end; x0 += 16) {
      // Four A elements in one load, each broadcast from a register (V8 computes the address of
      // every offset load32_splat apart).
      const x4 = v128.load(x0);
      let x = i32x4.shuffle(x4, x4, 0, 0, 0, 0);
      c0 = madd(c0, x, v128.load(w0));
      c1 = madd(c1, x, v128.load(w0, 16));
      c2 = madd(c2, x, v128.load(w1));
      c3 = madd(c3, x, v128.load(w1, 16));
      c4 = madd(c4, x, v128.load(w2));
      c5 = madd(c5, x, v128.load(w2, 16));
      c6 = madd(c6, x, v128.load(w3));
      c7 = madd(c7, x, v128.load(w3, 16));
      x = i32x4.shuffle(x4, x4, 1, 1, 1, 1);
      c0 = madd(c0, x, v128.load(w0, 32));
      c1 = madd(c1, x, v128.load(w0, 48));
      c2 = madd(c2, x, v128.load(w1, 32));
      c3 = madd(c3, x, v128.load(w1, 48));
      c4 = madd(c4, x, v128.load(w2, 32));
      c5 = madd(c5, x, v128.load(w2, 48));
      c6 = madd(c6, x, v128.load(w3, 32));
      c7 = madd(c7, x, v128.load(w3, 48));
      x = i32x4.shuffle(x4, x4, 2, 2, 2, 2);
      c0 = madd(c0, x, v128.load(w0, 64));
      c1 = madd(c1, x, v128.load(w0, 80));
      c2 = madd(c2, x, v128.load(w1, 64));
      c3 = madd(c3, x, v128.load(w1, 80));
      c4 = madd(c4, x, v128.load(w2, 64));
      c5 = madd(c5, x, v128.load(w2, 80));
      c6 = madd(c6, x, v128.load(w3, 64));
      c7 = madd(c7, x, v128.load(w3, 80));
      x = i32x4.shuffle(x4, x4, 3, 3, 3, 3);
      c0 = madd(c0, x, v128.load(w0, 96));
      c1 = madd(c1, x, v128.load(w0, 112));
      c2 = madd(c2, x, v128.load(w1, 96));
      c3 = madd(c3, x, v128.load(w1, 112));
      c4 = madd(c4, x, v128.load(w2, 96));
      c5 = madd(c5, x, v128.load(w2, 112));
      c6 = madd(c6, x, v128.load(w3, 96));
      c7 = madd(c7, x, v128.load(w3, 112));
      w0 += 128;
      w1 += 128;
      w2 += 128;
      w3 += 128;
    }
    const cq = c + (<usize>q << 7);
    v128.store(cq, c0);
    v128.store(cq, c1, 16);
    v128.store(cq, c2, 32);
    v128.store(cq, c3, 48);
    v128.store(cq, c4, 64);
    v128.store(cq, c5, 80);
    v128.store(cq, c6, 96);
    v128.store(cq, c7, 112);
  }
}

/**
 * row1x32 for the relaxed-SIMD build: K unrolled by two, each A element broadcast straight from
 * memory. With four steps an iteration V8 (11.3) keeps the four broadcasts and four weight rows
 * live at once and spills one fused accumulator every iteration, a store and reload on its
 * dependency chain (4-cycle FMA latency x 4 steps already matches the two FMA pipes' throughput on
 * Zen 3); two steps fit the 16 registers. The plain build keeps row1x32: there the two-step loop
 * measured slower (more instructions, and its add chains never were the bound). Same K order per
 * accumulator, so results are those of the other tiles.
 */
function row1x32Pairs(a: usize, w: usize, K: i32, groups: i32, c: usize, bias: usize): void {
  const stride = <usize>K << 5;
  const end = a + (<usize>K << 2);
  for (let q = 0; q < groups; q++) {
    const bq = bias + (<usize>q << 7);
    let c0 = v128.load(bq), c1 = v128.load(bq, 16), c2 = v128.load(bq, 32), c3 = v128.load(bq, 48);
    let c4 = v128.load(bq, 64), c5 = v128.load(bq, 80), c6 = v128.load(bq, 96), c7 = v128.load(bq, 112);
    let w0 = w + <usize>q * (stride << 2);
    let w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
    let x0 = a;
    // An odd K's first step alone, so the loop below ends in plain stores.
    if (K & 1) {
      const x = v128.load32_splat(x0);
      c0 = madd(c0, x, v128.load(w0));
      c1 = madd(c1, x, v128.load(w0, 16));
      c2 = madd(c2, x, v128.load(w1));
      c3 = madd(c3, x, v128.load(w1, 16));
      c4 = madd(c4, x, v128.load(w2));
      c5 = madd(c5, x, v128.load(w2, 16));
      c6 = madd(c6, x, v128.load(w3));
      c7 = madd(c7, x, v128.load(w3, 16));
      x0 += 4;
      w0 += 32;
      w1 += 32;
      w2 += 32;
      w3 += 32;
    }
    for (; x0 < end; x0 += 8) {
      let x = v128.load32_splat(x0);
      c0 = madd(c0, x, v128.load(w0));
      c1 = madd(c1, x, v128.load(w0, 16));
      c2 = madd(c2, x, v128.load(w1));
      c3 = madd(c3, x, v128.load(w1, 16));
      c4 = madd(c4, x, v128.load(w2));
      c5 = madd(c5, x, v128.load(w2, 16));
      c6 = madd(c6, x, v128.load(w3));
      c7 = madd(c7, x, v128.load(w3, 16));
      x = v128.load32_splat(x0, 4);
      c0 = madd(c0, x, v128.load(w0, 32));
      c1 = madd(c1, x, v128.load(w0, 48));
      c2 = madd(c2, x, v128.load(w1, 32));
      c3 = madd(c3, x, v128.load(w1, 48));
      c4 = madd(c4, x, v128.load(w2, 32));
      c5 = madd(c5, x, v128.load(w2, 48));
      c6 = madd(c6, x, v128.load(w3, 32));
      c7 = madd(c7, x, v128.load(w3, 48));
      w0 += 64;
      w1 += 64;
      w2 += 64;
      w3 += 64;
    }
    const cq = c + (<usize>q << 7);
    v128.store(cq, c0);
    v128.store(cq, c1, 16);
    v128.store(cq, c2, 32);
    v128.store(cq, c3, 48);
    v128.store(cq, c4, 64);
    v128.store(cq, c5, 80);
    v128.store(cq, c6, 96);
    v128.store(cq, c7, 112);
  }
}

/**
 * 1 row x 8 columns (tails). One add chain per column, in K order from the bias, like the other
 * tiles: every element of C is then the same sum whichever tile computes it, so splitting the
 * columns between threads (or tiling them differently) gives bitwise identical results.
 */
function tile1x8(a: usize, w: usize, K: i32, c: usize, bias: usize): void {
  let c0 = v128.load(bias), c1 = v128.load(bias, 16);
  const end = a + (<usize>K << 2);
  for (; a < end; a += 4) {
    const x = v128.load32_splat(a);
    c0 = madd(c0, x, v128.load(w));
    c1 = madd(c1, x, v128.load(w, 16));
    w += 32;
  }
  v128.store(c, c0);
  v128.store(c, c1, 16);
}

/**
 * C[g][m][:] = B[g][m][:] + A[g][m][:] x W for `groups` groups of `rows` rows: group g's rows
 * start at a + g*gstrideA, b + g*gstrideB and c + g*gstrideC, and are lda / ldb / ldc apart. W is
 * `npanels` panels of K x 8. Panels are the outer loop so each panel stays in L1 while every row
 * goes past it.
 */
export function gemm(
  a: usize, lda: usize, rows: i32, groups: i32, gstrideA: usize,
  K: i32, w: usize, npanels: i32,
  b: usize, ldb: usize, gstrideB: usize,
  c: usize, ldc: usize, gstrideC: usize,
): void {
  const pb = panelBytes(K);
  if (rows >= 4) {
    const full = rows & ~3;
    for (let p = 0; p < npanels; p++) {
      const wp = w + <usize>p * pb;
      const col = <usize>p << 5;
      for (let g = 0; g < groups; g++) {
        const ag = a + <usize>g * gstrideA;
        const bg = b + col + <usize>g * gstrideB;
        const cg = c + col + <usize>g * gstrideC;
        let m = 0;
        for (; m < full; m += 4) tile4x8(ag + <usize>m * lda, lda, wp, K, cg + <usize>m * ldc, ldc, bg + <usize>m * ldb, ldb);
        for (; m < rows; m++) tile1x8(ag + <usize>m * lda, wp, K, cg + <usize>m * ldc, bg + <usize>m * ldb);
      }
    }
    return;
  }
  for (let g = 0; g < groups; g++) {
    for (let m = 0; m < rows; m++) {
      const ar = a + <usize>g * gstrideA + <usize>m * lda;
      const br = b + <usize>g * gstrideB + <usize>m * ldb;
      const cr = c + <usize>g * gstrideC + <usize>m * ldc;
      const groups4 = npanels >> 2;
      if (ASC_FEATURE_RELAXED_SIMD) row1x32Pairs(ar, w, K, groups4, cr, br);
      else row1x32(ar, w, K, groups4, cr, br);
      for (let p = groups4 << 2; p < npanels; p++) tile1x8(ar, w + <usize>p * pb, K, cr + (<usize>p << 5), br + (<usize>p << 5));
    }
  }
}

// A packed as 4-row panels (gemmPanelsA): group q holds rows 4q..4q+3 as K steps of 4 contiguous
// floats, so a tile's four broadcasts are one address plus constant offsets (from rows lda
// apart, V8 computes each row's address apart: 3 more instructions a K step, a tenth of
// tile4x8's loop). The weight gradients, whose A operand is packed anyway, run here.

/** Bytes of one 4-row panel of A over K steps. */
@inline function rowPanelBytes(K: i32): usize {
  return <usize>K << 4;
}

/** 4 rows (one panel of A) x 8 columns. Each element is one add chain in K order from B, as in tile4x8. */
function tile4x8p(a: usize, w: usize, K: i32, c: usize, ldc: usize, b: usize, ldb: usize): void {
  let c00 = v128.load(b), c01 = v128.load(b, 16);
  b += ldb;
  let c10 = v128.load(b), c11 = v128.load(b, 16);
  b += ldb;
  let c20 = v128.load(b), c21 = v128.load(b, 16);
  b += ldb;
  let c30 = v128.load(b), c31 = v128.load(b, 16);
  const end = a + rowPanelBytes(K);
  for (; a < end; a += 16) {
    const w0 = v128.load(w);
    const w1 = v128.load(w, 16);
    w += 32;
    let x = v128.load32_splat(a);
    c00 = madd(c00, x, w0);
    c01 = madd(c01, x, w1);
    x = v128.load32_splat(a, 4);
    c10 = madd(c10, x, w0);
    c11 = madd(c11, x, w1);
    x = v128.load32_splat(a, 8);
    c20 = madd(c20, x, w0);
    c21 = madd(c21, x, w1);
    x = v128.load32_splat(a, 12);
    c30 = madd(c30, x, w0);
    c31 = madd(c31, x, w1);
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  c += ldc;
  v128.store(c, c10);
  v128.store(c, c11, 16);
  c += ldc;
  v128.store(c, c20);
  v128.store(c, c21, 16);
  c += ldc;
  v128.store(c, c30);
  v128.store(c, c31, 16);
}

/** One row (lane `a` of a 4-row panel, 16 bytes a K step) x 8 columns: the panels' row tails. */
function tile1x8p(a: usize, w: usize, K: i32, c: usize, bias: usize): void {
  let c0 = v128.load(bias), c1 = v128.load(bias, 16);
  const end = a + rowPanelBytes(K);
  for (; a < end; a += 16) {
    const x = v128.load32_splat(a);
    c0 = madd(c0, x, v128.load(w));
    c1 = madd(c1, x, v128.load(w, 16));
    w += 32;
  }
  v128.store(c, c0);
  v128.store(c, c1, 16);
}

/**
 * C[m][:] = B[m][:] + A[m][:] x W for M rows, A packed as 4-row panels at `ap` (row m, step k at
 * ap + (m >> 2) * 16K + 16k + 4(m & 3); a last partial panel's unused lanes are never read).
 * Every element of C is the same add chain as gemm() gives it, so the two are interchangeable
 * bit for bit. Panels of W are the outer loop, as in gemm().
 */
export function gemmPanelsA(ap: usize, M: i32, K: i32, w: usize, npanels: i32, b: usize, ldb: usize, c: usize, ldc: usize): void {
  const pb = panelBytes(K), rb = rowPanelBytes(K);
  const full = M & ~3;
  for (let p = 0; p < npanels; p++) {
    const wp = w + <usize>p * pb;
    const col = <usize>p << 5;
    let m = 0;
    for (; m < full; m += 4) tile4x8p(ap + <usize>(m >> 2) * rb, wp, K, c + col + <usize>m * ldc, ldc, b + col + <usize>m * ldb, ldb);
    for (; m < M; m++) tile1x8p(ap + <usize>(m >> 2) * rb + (<usize>(m & 3) << 2), wp, K, c + col + <usize>m * ldc, b + col + <usize>m * ldb);
  }
}

/**
 * Columns [k0, k1) of M rows of A (lda bytes apart) into the 4-row panels gemmPanelsA reads for
 * an inner dimension K (panel q at dst + q * 16K): 4x4 blocks go through vector loads, shuffles
 * and stores, the edges one float at a time. Only the lanes of real rows are written.
 */
export function packPanelsA(a: usize, lda: usize, M: i32, k0: i32, k1: i32, K: i32, dst: usize): void {
  const rb = rowPanelBytes(K);
  const full = M & ~3, k4 = k0 + ((k1 - k0) & ~3);
  for (let m = 0; m < full; m += 4) {
    const r0 = a + <usize>m * lda, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda;
    const d = dst + <usize>(m >> 2) * rb;
    for (let k = k0; k < k4; k += 4) {
      const o = <usize>k << 2, to = d + (<usize>k << 4);
      const v0 = v128.load(r0 + o), v1 = v128.load(r1 + o), v2 = v128.load(r2 + o), v3 = v128.load(r3 + o);
      const lo01 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), lo23 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
      const hi01 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7), hi23 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
      v128.store(to, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5));
      v128.store(to, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7), 16);
      v128.store(to, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5), 32);
      v128.store(to, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7), 48);
    }
    for (let k = k4; k < k1; k++) {
      const o = <usize>k << 2, to = d + (<usize>k << 4);
      store<f32>(to, load<f32>(r0 + o));
      store<f32>(to, load<f32>(r1 + o), 4);
      store<f32>(to, load<f32>(r2 + o), 8);
      store<f32>(to, load<f32>(r3 + o), 12);
    }
  }
  for (let m = full; m < M; m++) {
    const r = a + <usize>m * lda, d = dst + <usize>(m >> 2) * rb + (<usize>(m & 3) << 2);
    for (let k = k0; k < k1; k++) store<f32>(d + (<usize>k << 4), load<f32>(r + (<usize>k << 2)));
  }
}
