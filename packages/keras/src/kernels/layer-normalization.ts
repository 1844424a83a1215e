/**
 * Keras 3's `LayerNormalization`.
 *
 *   layerNormalization(x, gamma, beta, options) -> y          (y has x's shape)
 *     x      any rank >= 1
 *     gamma  Keras's weight "gamma" (present when scale or rms_scaling), or null
 *     beta   Keras's weight "beta" (present when center and not rms_scaling), or null
 *            Weight order in Keras: gamma, beta (each only when present).
 *            Both hold prod(x.shape[a] for a in axis) values. Keras builds them with the shape of
 *            the axes in Keras's sorted order and reshapes (not transposes) them onto the input, so
 *            their flat data is read in the input's axis order; only the length is checked here.
 *   options (Keras config names): axis (int or list of ints, negative from the end; default -1),
 *     epsilon (default 1e-3), rms_scaling (default false).
 *   layerNormalizationComputeMask(mask): the mask, unchanged (supports_masking, default compute_mask).
 *
 * Keras's formula: mean and variance over the axes, inv = rsqrt(variance + epsilon) * gamma,
 * y = x * inv + (beta - mean * inv). With rms_scaling (Keras 3.15.1 still accepts the deprecated
 * flag): y = x * rsqrt(variance + epsilon) * gamma; the input is not centered and there is no beta.
 * The statistics are exact (float64, two passes); inv and the offset are rounded to the dtype as
 * Keras rounds them. Keras's numpy backend computes the variance as E[x^2] - mean^2 in float32 and
 * loses digits for inputs far from zero (1e-4 on an input of mean 3, std 0.5); its jax backend and
 * this kernel do not, so the fixtures come from the jax backend.
 */
import { type Mask, type Tensor, KernelArgumentError, checkNumber, checkSameDtype, checkTensor, product, roundTo, sameArray } from './common.js';

const K = 'layerNormalization';

export interface LayerNormalizationOptions {
  axis?: number | readonly number[];
  epsilon?: number;
  rms_scaling?: boolean;
}

export function layerNormalizationComputeMask(mask: Mask | null): Mask | null {
  return mask;
}

/** Keras's axis list as sorted, unique, non-negative axes of a rank-`rank` input. */
export function normalizedAxes(kernel: string, axis: unknown, rank: number): number[] {
  const list = Array.isArray(axis) ? axis : [axis];
  if (list.length === 0) throw new KernelArgumentError(kernel, 'axis', `argument 'axis' expected an integer or a non-empty list of integers, received []`);
  const out: number[] = [];
  for (const a of list) {
    if (typeof a !== 'number' || !Number.isInteger(a) || a >= rank || a < -rank) {
      throw new KernelArgumentError(
        kernel,
        'axis',
        `argument 'axis' expected integers in [${-rank}, ${rank - 1}] for an input of rank ${rank}, received ${JSON.stringify(axis)}`,
      );
    }
    const p = a < 0 ? a + rank : a;
    if (out.includes(p)) throw new KernelArgumentError(kernel, 'axis', `argument 'axis' names axis ${p} twice: ${JSON.stringify(axis)}`);
    out.push(p);
  }
  return out.sort((a, b) => a - b);
}

export function layerNormalization(x: Tensor, gamma: Tensor | null, beta: Tensor | null, options: LayerNormalizationOptions = {}): Tensor {
  checkTensor(K, 'x', x, { min: 1 });
  const rank = x.shape.length;
  const axes = normalizedAxes(K, options.axis ?? -1, rank);
  const eps = checkNumber(K, 'epsilon', options.epsilon ?? 1e-3);
  const rms = options.rms_scaling === true;
  const N = product(axes.map((a) => x.shape[a]));
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const) {
    if (!t) continue;
    checkTensor(K, name, t, { min: 0 });
    checkSameDtype(K, name, t, x.data);
    if (t.data.length !== N) {
      throw new KernelArgumentError(
        K,
        name,
        `argument '${name}' expected ${N} values (the normalized axes [${axes.map((a) => x.shape[a]).join(', ')}]), received shape [${t.shape.join(', ')}]`,
      );
    }
  }
  const xs = x.data;
  const out = sameArray(xs, xs.length);
  const groups = N === 0 ? 0 : xs.length / N;
  // Flat index of element j of group g: contiguous when the axes are the trailing ones.
  const trailing = axes.every((a, i) => a === rank - axes.length + i);
  const index = trailing ? null : groupIndex(x.shape, axes);
  const g = gamma?.data;
  const b = rms ? undefined : beta?.data;
  const f32 = !(xs instanceof Float64Array);
  for (let grp = 0; grp < groups; grp++) {
    const base = grp * N;
    let sum = 0;
    if (index) for (let j = 0; j < N; j++) sum += xs[index[base + j]];
    else for (let j = base; j < base + N; j++) sum += xs[j];
    const exactMean = sum / N;
    let sumSq = 0;
    for (let j = 0; j < N; j++) {
      const d = xs[index ? index[base + j] : base + j] - exactMean;
      sumSq += d * d;
    }
    const mean = f32 ? Math.fround(exactMean) : exactMean;
    const rsqrt = roundTo(xs, 1 / Math.sqrt(roundTo(xs, sumSq / N + eps)));
    for (let j = 0; j < N; j++) {
      const at = index ? index[base + j] : base + j;
      if (rms) {
        const y = f32 ? Math.fround(xs[at] * rsqrt) : xs[at] * rsqrt;
        out[at] = g ? y * g[j] : y;
        continue;
      }
      // Keras's float32 steps: inv = rsqrt * gamma, res = beta - mean * inv, y = x * inv + res.
      let inv = g ? rsqrt * g[j] : rsqrt;
      if (f32) inv = Math.fround(inv);
      let res = -mean * inv;
      if (f32) res = Math.fround(res);
      if (b) res = f32 ? Math.fround(res + b[j]) : res + b[j];
      out[at] = xs[at] * inv + res;
    }
  }
  return { shape: [...x.shape], data: out };
}

/**
 * For a non-trailing axis set: index[g * N + j] is the flat position of the j-th element (row-major
 * over the normalized axes) of the g-th group (row-major over the other axes).
 */
function groupIndex(shape: readonly number[], axes: readonly number[]): Int32Array {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  const outer = [...Array(rank).keys()].filter((d) => !axes.includes(d));
  const index = new Int32Array(s);
  const offsets = (dims: number[]): Int32Array => {
    const n = product(dims.map((d) => shape[d]));
    const o = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let rem = i;
      let off = 0;
      for (let k = dims.length - 1; k >= 0; k--) {
        const d = dims[k];
        off += (rem % shape[d]) * strides[d];
        rem = Math.floor(rem / shape[d]);
      }
      o[i] = off;
    }
    return o;
  };
  const outerOff = offsets(outer);
  const innerOff = offsets([...axes]);
  const N = innerOff.length;
  for (let g = 0; g < outerOff.length; g++) for (let j = 0; j < N; j++) index[g * N + j] = outerOff[g] + innerOff[j];
  return index;
}
