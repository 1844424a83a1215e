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
 *
 * float32 gradients (the `grad_f32_*` cases) hold float64 central differences of the float64
 * layer on the float32 data widened exactly; a float32 backward is judged against them. Evidence
 * (generator/README.md, each case's `grads.keras_float32_autodiff_vs_fd_*`): Keras's own float32
 * autodiff (JAX backend) differs from them by at most 1.73e-6 absolute (saturated gates; 2.5e-7
 * elsewhere) and 4.3e-7 relative to the gradient's largest magnitude (up to 4). So
 * atol 2e-5 (over 10x the worst) and rtol 2e-5 for large gradients, still far below a semantic
 * error (1e-2 and above).
 */
export interface Tolerance {
  atol: number;
  rtol: number;
}

export const TOLERANCES = {
  float32: { atol: 5e-6, rtol: 1e-5 },
  float64: { atol: 1e-12, rtol: 1e-12 },
  gradients: { atol: 1e-7, rtol: 1e-7 },
  float32Gradients: { atol: 2e-5, rtol: 2e-5 },
} as const satisfies Record<string, Tolerance>;

export interface Comparison {
  ok: boolean;
  maxAbsDiff: number;
  /** Index of the worst element (flat), or -1. */
  worst: number;
  /** How many elements are out of tolerance. */
  outOfTolerance: number;
  /** Largest |got - want| / (atol + rtol |want|): at most 1 passes (Infinity for NaN or a length mismatch). */
  worstRatio: number;
  message?: string;
}

/** `[b, t, u]`-style index of a flat offset in a row-major shape. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx: number[] = [];
  let rest = flat;
  for (let i = shape.length - 1; i >= 0; i--) {
    idx.unshift(rest % shape[i]);
    rest = Math.floor(rest / shape[i]);
  }
  return idx;
}

/**
 * Compares elementwise: |got - want| <= atol + rtol |want|. With `shape`, a failure names the
 * worst element's index in it (`[b, t, u]` for a sequence output) as well as the flat offset.
 * The message also says the tolerance and how many elements are out of it.
 */
export function compareArrays(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance, shape?: readonly number[]): Comparison {
  if (got.length !== want.length) {
    return {
      ok: false,
      maxAbsDiff: Infinity,
      worst: -1,
      outOfTolerance: want.length,
      worstRatio: Infinity,
      message: `length ${got.length}, expected ${want.length}`,
    };
  }
  let maxAbsDiff = 0;
  let worst = -1;
  let worstRatio = 0;
  let out = 0;
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    // 0 / 0 (an exact comparison of equal values) is a match, not a NaN.
    const ratio = diff === 0 ? 0 : diff / (tol.atol + tol.rtol * Math.abs(want[i]));
    // NaN compares false, so a NaN where a number is expected fails here.
    if (!(ratio <= 1)) out++;
    if (!(ratio <= worstRatio)) {
      worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
      worst = i;
    }
    if (diff > maxAbsDiff || Number.isNaN(diff)) maxAbsDiff = Number.isNaN(diff) ? NaN : diff;
  }
  if (out === 0) return { ok: true, maxAbsDiff, worst, outOfTolerance: 0, worstRatio };
  const where = shape && shape.length > 1 ? `[${unravel(worst, shape).join(', ')}] of shape [${shape.join(', ')}]` : `element ${worst} of ${want.length}`;
  return {
    ok: false,
    maxAbsDiff,
    worst,
    outOfTolerance: out,
    worstRatio,
    message:
      `at ${where}: got ${got[worst]}, expected ${want[worst]} (|diff| ${Math.abs(got[worst] - want[worst]).toExponential(2)}); ` +
      `${out} of ${want.length} elements out of tolerance (atol ${tol.atol}, rtol ${tol.rtol}; max |diff| ${maxAbsDiff.toExponential(2)})`,
  };
}

/** Throws with `what` and the comparison's message unless `got` is within `tol` of `want`. */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  tol: Tolerance = TOLERANCES.float32,
  shape?: readonly number[],
): Comparison {
  const cmp = compareArrays(got, want, tol, shape);
  if (!cmp.ok) throw new Error(`${what} ${cmp.message}`);
  return cmp;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The worst |got - want| / (atol + rtol |want|) (at most 1 passes), for tests that report a ratio. */
export function worstRatio(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance = TOLERANCES.float32): number {
  return compareArrays(got, want, tol).worstRatio;
}
