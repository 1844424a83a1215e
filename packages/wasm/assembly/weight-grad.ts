// C[M][8*npanels] += sum over rows (k, b) of a(k, b)^T g(k, b): the weight gradients, a sum of
// outer products over every processed step and batch row. a(k, b) is M floats at
// a + b*aStrideB + t*aStrideT, with t = k, or T-1-k when `flip` (x is stored in time order while
// rows are in processing order), multiplied elementwise by the row of `mult` at b*mStrideB when
// mult is not 0 (dropout masks, which depend on b only). g(k, b) is a row of 8*npanels floats at
// g + (k*B + b)*ldg. Tiles of 4 x 8 of C keep their sums in registers over a block of rows that
// fits in cache; each element is one add chain in row order, so results do not depend on tiling.

// Rows per block: a block of a and g rows stays in L2 while every tile of C goes past it.
const BLOCK_ROWS: i32 = 64;

@inline function aRow(a: usize, aStrideB: usize, aStrideT: usize, T: i32, flip: bool, k: i32, b: i32): usize {
  return a + <usize>b * aStrideB + <usize>(flip ? T - 1 - k : k) * aStrideT;
}

export function weightGrad(
  T: i32, B: i32, flip: bool, M: i32, npanels: i32,
  a: usize, aStrideB: usize, aStrideT: usize, mult: usize, mStrideB: usize,
  g: usize, ldg: usize, c: usize, ldc: usize,
): void {
  const stepsPerBlock = max(1, BLOCK_ROWS / B);
  const full = M & ~3;
  for (let k0 = 0; k0 < T; k0 += stepsPerBlock) {
    const k1 = min(T, k0 + stepsPerBlock);
    for (let p = 0; p < npanels; p++) {
      const col = <usize>p << 5;
      let m = 0;
      for (; m < full; m += 4) {
        const cm = c + <usize>m * ldc + col;
        let c00 = v128.load(cm), c01 = v128.load(cm, 16);
        let c10 = v128.load(cm + ldc), c11 = v128.load(cm + ldc, 16);
        let c20 = v128.load(cm + 2 * ldc), c21 = v128.load(cm + 2 * ldc, 16);
        let c30 = v128.load(cm + 3 * ldc), c31 = v128.load(cm + 3 * ldc, 16);
        const mo = <usize>m << 2;
        for (let k = k0; k < k1; k++) {
          for (let b = 0; b < B; b++) {
            const ar = aRow(a, aStrideB, aStrideT, T, flip, k, b) + mo;
            let x0 = load<f32>(ar), x1 = load<f32>(ar, 4), x2 = load<f32>(ar, 8), x3 = load<f32>(ar, 12);
            if (mult) {
              const mr = mult + <usize>b * mStrideB + mo;
              x0 *= load<f32>(mr);
              x1 *= load<f32>(mr, 4);
              x2 *= load<f32>(mr, 8);
              x3 *= load<f32>(mr, 12);
            }
            const gr = g + (<usize>k * <usize>B + <usize>b) * ldg + col;
            const w0 = v128.load(gr), w1 = v128.load(gr, 16);
            let x = f32x4.splat(x0);
            c00 = f32x4.add(c00, f32x4.mul(x, w0));
            c01 = f32x4.add(c01, f32x4.mul(x, w1));
            x = f32x4.splat(x1);
            c10 = f32x4.add(c10, f32x4.mul(x, w0));
            c11 = f32x4.add(c11, f32x4.mul(x, w1));
            x = f32x4.splat(x2);
            c20 = f32x4.add(c20, f32x4.mul(x, w0));
            c21 = f32x4.add(c21, f32x4.mul(x, w1));
            x = f32x4.splat(x3);
            c30 = f32x4.add(c30, f32x4.mul(x, w0));
            c31 = f32x4.add(c31, f32x4.mul(x, w1));
          }
        }
        v128.store(cm, c00);
        v128.store(cm, c01, 16);
        v128.store(cm + ldc, c10);
        v128.store(cm + ldc, c11, 16);
        v128.store(cm + 2 * ldc, c20);
        v128.store(cm + 2 * ldc, c21, 16);
        v128.store(cm + 3 * ldc, c30);
        v128.store(cm + 3 * ldc, c31, 16);
      }
      for (; m < M; m++) {
        const cm = c + <usize>m * ldc + col;
        let c0 = v128.load(cm), c1 = v128.load(cm, 16);
        const mo = <usize>m << 2;
        for (let k = k0; k < k1; k++) {
          for (let b = 0; b < B; b++) {
            let x0 = load<f32>(aRow(a, aStrideB, aStrideT, T, flip, k, b) + mo);
            if (mult) x0 *= load<f32>(mult + <usize>b * mStrideB + mo);
            const gr = g + (<usize>k * <usize>B + <usize>b) * ldg + col;
            const x = f32x4.splat(x0);
            c0 = f32x4.add(c0, f32x4.mul(x, v128.load(gr)));
            c1 = f32x4.add(c1, f32x4.mul(x, v128.load(gr, 16)));
          }
        }
        v128.store(cm, c0);
        v128.store(cm, c1, 16);
      }
    }
  }
}
