/**
 * Keras 3's `MultiHeadAttention` at inference, for rank-3 inputs (attention over the steps axis,
 * Keras's default attention_axes).
 *
 *   multiHeadAttention(query, value, key, weights, masks, options) -> { output, scores }
 *     query   (batch, Tq, dq);  value (batch, Tv, dv);  key (batch, Tv, dk) or null (the value is the key)
 *     output  (batch, Tq, ...output_shape), output_shape defaulting to [dq]
 *     scores  (batch, num_heads, Tq, Tv) when return_attention_scores, else null
 *   weights: MultiHeadAttentionWeights below; multiHeadAttentionWeights(list, config) maps Keras's
 *     get_weights() order onto it: query/kernel (dq, N, key_dim), query/bias (N, key_dim),
 *     key/kernel (dk, N, key_dim), key/bias (N, key_dim), [gate/kernel (dq, N, value_dim),
 *     gate/bias (N, value_dim) when use_gate], value/kernel (dv, N, value_dim), value/bias (N, value_dim),
 *     attention_output/kernel (N, value_dim, ...output_shape), attention_output/bias (...output_shape);
 *     every bias absent when use_bias=false. N = num_heads.
 *   masks: query_mask (batch, Tq), value_mask (batch, Tv), key_mask (batch, Tv; only when a key is
 *     given, as Keras fills it from the key tensor), attention_mask (batch, Tq, Tv) or, one per head,
 *     (batch, N, Tq, Tv) (Keras expands a mask only up to the scores' rank), any of them null.
 *     In a Keras graph query/value/key masks are the Keras masks of those tensors. Keras 3.15.1's call
 *     reads the query's mask from the tensor and ignores an explicit query_mask= argument; explicit
 *     value_mask=/key_mask= arguments win over the tensors' masks.
 *   options (Keras config and call names): num_heads, key_dim, value_dim (default key_dim),
 *     output_shape (int or list; default null), use_bias, use_gate, sliding_window, attention_axes
 *     (null, or the default axis for rank 3: 1 / [1] / -2 / [-2]), dropout (unused at inference but it
 *     picks Keras's code path, see below), use_causal_mask, return_attention_scores.
 *   multiHeadAttentionComputeMask(queryMask): the query mask (Keras's default compute_mask passes the
 *     first input's mask on; MultiHeadAttention also sets it on its output).
 *
 * Semantics: Q, K, V projections (einsum denses, rounded to the dtype); scores = Q.K / sqrt(key_dim);
 * the mask is query_mask[i] & value_mask[j] & key_mask[j] & attention_mask[i,j] & causal (j <= i) &
 * sliding window (|i - j| < sliding_window); masked scores are replaced by -1e9 before the softmax.
 * A row with every position masked differs by Keras's code path: with dropout = 0 and no returned
 * scores Keras calls ops.dot_product_attention, whose softmax gives such a row uniform weights; with
 * dropout > 0 or return_attention_scores it runs its Softmax layer, which zeroes masked weights after
 * the softmax, so such a row attends to nothing (its output is the output bias alone). Masked query
 * rows are fully masked rows (tf.keras 2 never zeroes: see zero_masked_weights). Then, per head, weights @ V; with use_gate, times sigmoid(query @ gate);
 * then the output projection over (heads, value_dim).
 */
import {
  type FloatArray,
  type Mask,
  type Tensor,
  KernelArgumentError,
  LARGE_NEGATIVE,
  checkInt,
  checkMask,
  checkSameDtype,
  checkShape,
  checkTensor,
  product,
  roundTo,
  sameArray,
  softmaxInPlace,
} from './common.js';
import { gemmRows, matmulRows, transpose, transposeInto } from './matmul.js';

const K = 'multiHeadAttention';

export interface MultiHeadAttentionWeights {
  query_kernel: Tensor;
  query_bias: Tensor | null;
  key_kernel: Tensor;
  key_bias: Tensor | null;
  value_kernel: Tensor;
  value_bias: Tensor | null;
  gate_kernel?: Tensor | null;
  gate_bias?: Tensor | null;
  output_kernel: Tensor;
  output_bias: Tensor | null;
}

export interface MultiHeadAttentionMasks {
  query_mask?: Mask | null;
  value_mask?: Mask | null;
  key_mask?: Mask | null;
  /** (batch, Tq, Tv); non-zero attends. */
  attention_mask?: Mask | null;
}

export interface MultiHeadAttentionOptions {
  num_heads: number;
  key_dim: number;
  value_dim?: number | null;
  output_shape?: number | readonly number[] | null;
  use_bias?: boolean;
  use_gate?: boolean;
  sliding_window?: number | null;
  attention_axes?: number | readonly number[] | null;
  dropout?: number;
  use_causal_mask?: boolean;
  return_attention_scores?: boolean;
  /**
   * Whether masked attention weights are zeroed after the softmax. Default: Keras 3's rule
   * (dropout > 0 or return_attention_scores). tf.keras 2 files: pass false (its Softmax adds -1e9 to
   * masked scores and never zeroes).
   */
  zero_masked_weights?: boolean;
}

export interface MultiHeadAttentionResult {
  output: Tensor;
  scores: Tensor | null;
}

export function multiHeadAttentionComputeMask(queryMask: Mask | null): Mask | null {
  return queryMask;
}

/** Keras's get_weights() order (see the header) as named weights. */
export function multiHeadAttentionWeights(list: readonly Tensor[], config: { use_bias?: boolean; use_gate?: boolean }): MultiHeadAttentionWeights {
  const bias = config.use_bias !== false;
  const gate = config.use_gate === true;
  const want = (bias ? 2 : 1) * (gate ? 5 : 4);
  if (!Array.isArray(list) || list.length !== want) {
    throw new KernelArgumentError(
      K,
      'weights',
      `argument 'weights' expected ${want} tensors for use_bias=${bias}, use_gate=${gate}, received ${Array.isArray(list) ? list.length : String(list)}`,
    );
  }
  let i = 0;
  const next = (): Tensor => list[i++];
  const pair = (): [Tensor, Tensor | null] => [next(), bias ? next() : null];
  const [query_kernel, query_bias] = pair();
  const [key_kernel, key_bias] = pair();
  const [gate_kernel, gate_bias] = gate ? pair() : [null, null];
  const [value_kernel, value_bias] = pair();
  const [output_kernel, output_bias] = pair();
  return { query_kernel, query_bias, key_kernel, key_bias, gate_kernel, gate_bias, value_kernel, value_bias, output_kernel, output_bias };
}

function outputDims(v: MultiHeadAttentionOptions['output_shape'], dq: number): number[] {
  if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) return [dq];
  const dims = typeof v === 'number' ? [v] : [...(v as readonly number[])];
  for (const d of dims) checkInt(K, 'output_shape', d, 1);
  return dims;
}

function checkAttentionAxes(v: MultiHeadAttentionOptions['attention_axes']): void {
  if (v === null || v === undefined) return;
  const list = typeof v === 'number' ? [v] : [...(v as readonly number[])];
  if (list.length !== 1 || (list[0] !== 1 && list[0] !== -2)) {
    throw new KernelArgumentError(
      K,
      'attention_axes',
      `argument 'attention_axes' expected null or the steps axis (1 or -2) for rank-3 inputs, received ${JSON.stringify(v)}`,
    );
  }
}

/** x (rows, din) @ w (din, dout) + b, each value rounded to the dtype as Keras's EinsumDense output is. */
function affine(x: FloatArray, rows: number, din: number, w: FloatArray, b: FloatArray | undefined, dout: number): FloatArray {
  const out = sameArray(x, rows * dout);
  matmulRows(x, rows, din, transpose(w, din, dout), b, dout, out);
  return out;
}

export function multiHeadAttention(
  query: Tensor,
  value: Tensor,
  keyIn: Tensor | null,
  weights: MultiHeadAttentionWeights,
  masks: MultiHeadAttentionMasks | null,
  options: MultiHeadAttentionOptions,
): MultiHeadAttentionResult {
  if (!options || typeof options !== 'object')
    throw new KernelArgumentError(K, 'options', `argument 'options' expected {num_heads, key_dim, ...}, received ${String(options)}`);
  const N = checkInt(K, 'num_heads', options.num_heads, 1);
  const kd = checkInt(K, 'key_dim', options.key_dim, 1);
  const vd = options.value_dim === null || options.value_dim === undefined ? kd : checkInt(K, 'value_dim', options.value_dim, 1);
  const window = options.sliding_window === null || options.sliding_window === undefined ? null : checkInt(K, 'sliding_window', options.sliding_window, 1);
  checkAttentionAxes(options.attention_axes);
  checkTensor(K, 'query', query, 3);
  const like = query.data;
  const [B, Tq, dq] = query.shape;
  checkTensor(K, 'value', value, 3);
  checkSameDtype(K, 'value', value, like);
  const [vb, Tv, dv] = value.shape;
  if (vb !== B) throw new KernelArgumentError(K, 'value', `argument 'value' expected batch ${B} like the query, received shape [${value.shape.join(', ')}]`);
  const key = keyIn ?? value;
  if (keyIn) {
    checkTensor(K, 'key', keyIn, 3);
    checkShape(K, 'key', keyIn, [B, Tv, keyIn.shape[2]]);
    checkSameDtype(K, 'key', keyIn, like);
  }
  const dk = key.shape[2];
  const outDims = outputDims(options.output_shape, dq);
  const P = product(outDims);
  if (!weights || typeof weights !== 'object')
    throw new KernelArgumentError(K, 'weights', `argument 'weights' expected MultiHeadAttentionWeights, received ${String(weights)}`);
  const useBias = options.use_bias !== false;
  const useGate = options.use_gate === true;
  const w = weights;
  const check = (name: keyof MultiHeadAttentionWeights, t: Tensor | null | undefined, shape: number[], present: boolean): void => {
    if (!present) {
      if (t)
        throw new KernelArgumentError(
          K,
          name,
          `argument '${name}' expected null (use_bias=${useBias}, use_gate=${useGate}), received shape [${t.shape.join(', ')}]`,
        );
      return;
    }
    if (!t) throw new KernelArgumentError(K, name, `argument '${name}' expected shape [${shape.join(', ')}], received ${String(t)}`);
    checkShape(K, name, t, shape);
    checkSameDtype(K, name, t, like);
  };
  check('query_kernel', w.query_kernel, [dq, N, kd], true);
  check('query_bias', w.query_bias, [N, kd], useBias);
  check('key_kernel', w.key_kernel, [dk, N, kd], true);
  check('key_bias', w.key_bias, [N, kd], useBias);
  check('value_kernel', w.value_kernel, [dv, N, vd], true);
  check('value_bias', w.value_bias, [N, vd], useBias);
  check('gate_kernel', w.gate_kernel, [dq, N, vd], useGate);
  check('gate_bias', w.gate_bias, [N, vd], useGate && useBias);
  check('output_kernel', w.output_kernel, [N, vd, ...outDims], true);
  check('output_bias', w.output_bias, outDims, useBias);
  const qMask = masks?.query_mask ?? null;
  const vMask = masks?.value_mask ?? null;
  const kMask = keyIn ? (masks?.key_mask ?? null) : null;
  const aMask = masks?.attention_mask ?? null;
  checkMask(K, 'query_mask', qMask, B, Tq);
  checkMask(K, 'value_mask', vMask, B, Tv);
  checkMask(K, 'key_mask', kMask, B, Tv);
  // One mask per head when it has (batch, N, Tq, Tv) values (the same count as (batch, Tq, Tv) when N is 1).
  const aHeads = aMask instanceof Uint8Array && aMask.length === B * N * Tq * Tv ? N : 1;
  if (aMask !== null && aMask !== undefined && (!(aMask instanceof Uint8Array) || aMask.length !== B * Tq * Tv * aHeads)) {
    throw new KernelArgumentError(
      K,
      'attention_mask',
      `argument 'attention_mask' expected a Uint8Array of ${B * Tq * Tv} values (batch ${B} x Tq ${Tq} x Tv ${Tv}) or ${B * N * Tq * Tv} (batch x heads ${N} x Tq x Tv), received ${aMask instanceof Uint8Array ? aMask.length : String(aMask)}`,
    );
  }
  const causal = options.use_causal_mask === true;
  const returnScores = options.return_attention_scores === true;
  // Keras's Softmax-layer path (dropout or returned scores) zeroes masked weights; its fused path does not.
  const zeroMasked = options.zero_masked_weights ?? (returnScores || (options.dropout ?? 0) > 0);

  const Q = affine(like, B * Tq, dq, w.query_kernel.data, w.query_bias?.data, N * kd);
  const Kp = affine(key.data, B * Tv, dk, w.key_kernel.data, w.key_bias?.data, N * kd);
  const V = affine(value.data, B * Tv, dv, w.value_kernel.data, w.value_bias?.data, N * vd);
  const G = useGate ? affine(like, B * Tq, dq, (w.gate_kernel as Tensor).data, w.gate_bias?.data, N * vd) : null;
  const scale = roundTo(like, 1 / Math.sqrt(kd));

  const O = sameArray(like, B * Tq * N * vd);
  const scoresOut = returnScores ? sameArray(like, B * N * Tq * Tv) : null;
  // Query rows are scored CHUNK at a time so that the score block stays small whatever Tq is.
  const CHUNK = 32;
  const S = new Float64Array(Math.min(Tq, CHUNK) * Tv);
  const keep = new Uint8Array(Tv);
  // The weights as Keras's einsum sees them (rounded to the dtype), and each head's value transposed.
  const probs = sameArray(like, Math.min(Tq, CHUNK) * Tv);
  const vT = sameArray(like, Tv * vd);
  const qStride = N * kd;
  const oStride = N * vd;
  for (let n = 0; n < B; n++) {
    for (let h = 0; h < N; h++) {
      transposeInto(V, (n * Tv * N + h) * vd, Tv, vd, oStride, vT);
      for (let i0 = 0; i0 < Tq; i0 += CHUNK) {
        const rows = Math.min(CHUNK, Tq - i0);
        gemmRows({
          x: Q,
          xOff: ((n * Tq + i0) * N + h) * kd,
          xStride: qStride,
          rows,
          n: kd,
          wT: Kp,
          wOff: (n * Tv * N + h) * kd,
          wStride: qStride,
          m: Tv,
          out: S,
          outOff: 0,
          outStride: Tv,
        });
        for (let r = 0; r < rows; r++) {
          const i = i0 + r;
          const off = r * Tv;
          const qKeep = qMask === null || qMask[n * Tq + i] !== 0;
          for (let j = 0; j < Tv; j++) {
            keep[j] = Number(
              qKeep &&
                (vMask === null || vMask[n * Tv + j] !== 0) &&
                (kMask === null || kMask[n * Tv + j] !== 0) &&
                (aMask === null || aMask[((n * aHeads + (aHeads === 1 ? 0 : h)) * Tq + i) * Tv + j] !== 0) &&
                (!causal || j <= i) &&
                (window === null || Math.abs(i - j) < window),
            );
            // Keras replaces masked scores by -1e9 (a fully masked row is then uniform before any zeroing).
            S[off + j] = keep[j] ? roundTo(like, S[off + j] * scale) : LARGE_NEGATIVE;
          }
          softmaxInPlace(S, off, Tv);
          for (let j = 0; j < Tv; j++) probs[off + j] = zeroMasked && !keep[j] ? 0 : S[off + j];
          if (scoresOut) scoresOut.set(probs.subarray(off, off + Tv), ((n * N + h) * Tq + i) * Tv);
        }
        const oOff = ((n * Tq + i0) * N + h) * vd;
        gemmRows({ x: probs, xOff: 0, xStride: Tv, rows, n: Tv, wT: vT, wOff: 0, wStride: Tv, m: vd, out: O, outOff: oOff, outStride: oStride });
        if (G) {
          for (let r = 0; r < rows; r++) {
            const o = oOff + r * oStride;
            for (let c = 0; c < vd; c++) O[o + c] = O[o + c] * sigmoid(G[o + c]);
          }
        }
      }
    }
  }
  const out = affine(O, B * Tq, N * vd, w.output_kernel.data, w.output_bias?.data, P);
  return {
    output: { shape: [B, Tq, ...outDims], data: out },
    scores: scoresOut ? { shape: [B, N, Tq, Tv], data: scoresOut } : null,
  };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
