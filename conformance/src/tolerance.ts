/**
 * |got - want| <= atol + rtol * |want|, elementwise.
 *
 * Evidence (cases/KERAS-REFS.md and our own runs): independent correct float32 implementations
 * (Keras on TensorFlow and JAX, a float64 numpy GRU rounded) differ from the numpy-backend
 * outputs by at most 5.4e-7, with no growth over 256 steps; the reference backend's worst case is
 * below 1e-6. float32 therefore uses atol 5e-6, rtol 1e-5 (headroom for reordered sums in SIMD
 * and GPU kernels, still far below any semantic error, which shows up at 1e-2 and above).
 * float64 cases are true float64: 1e-12 (observed 0 to 2.2e-16). Gradients are central finite
 * differences accurate to ~1.3e-9: 1e-7, as the references suggest.
 */
export interface Tolerance {
  atol: number;
  rtol: number;
}

export const TOLERANCES = {
  float32: { atol: 5e-6, rtol: 1e-5 },
  float64: { atol: 1e-12, rtol: 1e-12 },
  gradients: { atol: 1e-7, rtol: 1e-7 },
} as const satisfies Record<string, Tolerance>;

export interface Comparison {
  ok: boolean;
  maxAbsDiff: number;
  /** Index of the worst element (flat), or -1. */
  worst: number;
  message?: string;
}

export function compareArrays(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance): Comparison {
  if (got.length !== want.length) {
    return { ok: false, maxAbsDiff: Infinity, worst: -1, message: `length ${got.length}, expected ${want.length}` };
  }
  let maxAbsDiff = 0;
  let worst = -1;
  let ok = true;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const diff = Math.abs(g - w);
    // NaN compares false, so a NaN where a number is expected fails here.
    if (!(diff <= tol.atol + tol.rtol * Math.abs(w))) {
      if (ok || !(diff <= maxAbsDiff)) worst = i;
      ok = false;
    }
    if (diff > maxAbsDiff || Number.isNaN(diff)) {
      maxAbsDiff = Number.isNaN(diff) ? NaN : diff;
      if (ok) worst = i;
    }
  }
  return ok
    ? { ok, maxAbsDiff, worst }
    : { ok, maxAbsDiff, worst, message: `element ${worst}: got ${got[worst]}, expected ${want[worst]} (max |diff| ${maxAbsDiff})` };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
