/**
 * Keras 3's `Attention` (Luong) and `AdditiveAttention` (Bahdanau) at inference (dropout unused).
 *
 *   attention(query, value, key, weights, masks, options) -> { output, scores }
 *   additiveAttention(query, value, key, scale, masks, options) -> { output, scores }
 *     query   (...batch, Tq, dim)
 *     value   (...batch, Tv, dv)
 *     key     (...batch, Tv, dim), or null: the value is the key (Keras's [query, value] call)
 *     output  (...batch, Tq, dv)
 *     scores  (...batch, Tq, Tv), the softmax weights Keras returns with return_attention_scores=True
 *             (null otherwise)
 *   Attention weights, Keras's order: scale (shape [], when use_scale), concat_score_weight (shape [],
 *     when score_mode='concat'); pass { scale, concat_score_weight } with null for the absent ones.
 *   AdditiveAttention weight: scale (dim,), when use_scale (default true); null otherwise.
 *   masks: { query_mask, value_mask } of (...batch, Tq) and (...batch, Tv), or null; a value_mask of
 *     (...batch, Tq, Tv) values holds one row per query (Keras applies a rank-3 value mask to the
 *     scores as it is). Keras's Attention reads mask[0] and mask[1] only: a key mask changes nothing,
 *     so there is no key_mask here.
 *   options (Keras config and call names): score_mode ('dot' | 'concat', Attention only), use_causal_mask,
 *     return_attention_scores.
 *   attentionComputeMask(queryMask): the query mask (Keras's compute_mask returns mask[0]); it belongs
 *     to the output only, not to the returned scores.
 *
 * Scores: dot = (query . key) * scale; concat = concat_score_weight * sum(tanh(scale * (query + key)));
 * additive = sum(scale * tanh(query + key)). Masked positions (value mask false, or key after query when
 * causal) get score - 1e9 rounded to the dtype, as Keras subtracts rather than replaces: a query whose
 * every position is masked therefore gets (in float32) uniform weights. Rows of a masked query are
 * zeroed in the output (not in the scores).
 */
import {
  type FloatArray,
  type Mask,
  type Tensor,
  KernelArgumentError,
  LARGE_NEGATIVE,
  checkChoice,
  checkMask,
  checkSameDtype,
  checkShape,
  checkTensor,
  describe,
  product,
  roundTo,
  sameArray,
  softmaxInPlace,
} from './common.js';
import { gemmRows, transposeInto } from './matmul.js';

export interface AttentionMasks {
  query_mask?: Mask | null;
  value_mask?: Mask | null;
}

export interface AttentionOptions {
  use_causal_mask?: boolean;
  return_attention_scores?: boolean;
}

export interface AttentionResult {
  output: Tensor;
  scores: Tensor | null;
}

export function attentionComputeMask(queryMask: Mask | null): Mask | null {
  return queryMask;
}

export function attention(
  query: Tensor,
  value: Tensor,
  key: Tensor | null,
  weights: { scale?: Tensor | null; concat_score_weight?: Tensor | null },
  masks: AttentionMasks | null,
  options: AttentionOptions & { score_mode?: 'dot' | 'concat' } = {},
): AttentionResult {
  const K = 'attention';
  const mode = checkChoice(K, 'score_mode', options.score_mode ?? 'dot', ['dot', 'concat'] as const);
  const scale = scalarWeight(K, 'scale', weights?.scale ?? null, query);
  const cw = mode === 'concat' ? scalarWeight(K, 'concat_score_weight', weights?.concat_score_weight ?? null, query) : null;
  if (mode === 'concat' && cw === null) {
    throw new KernelArgumentError(K, 'concat_score_weight', `argument 'concat_score_weight' is required with score_mode 'concat', received null`);
  }
  return run(K, query, value, key, masks, options, (q, qo, rows, k, ko, tv, dim, S, like) => {
    if (mode === 'dot') {
      gemmRows({ x: q, xOff: qo, xStride: dim, rows, n: dim, wT: k, wOff: ko, wStride: dim, m: tv, out: S, outOff: 0, outStride: tv });
      if (scale !== null) for (let e = 0; e < rows * tv; e++) S[e] = roundTo(like, S[e]) * scale;
      return;
    }
    for (let r = 0; r < rows; r++) {
      const qr = qo + r * dim;
      for (let j = 0; j < tv; j++) {
        let s = 0;
        const kj = ko + j * dim;
        for (let d = 0; d < dim; d++) {
          const a = roundTo(like, q[qr + d] + k[kj + d]);
          s += Math.tanh(scale === null ? a : roundTo(like, scale * a));
        }
        S[r * tv + j] = (cw as number) * roundTo(like, s);
      }
    }
  });
}

export function additiveAttention(
  query: Tensor,
  value: Tensor,
  key: Tensor | null,
  scale: Tensor | null,
  masks: AttentionMasks | null,
  options: AttentionOptions = {},
): AttentionResult {
  const K = 'additiveAttention';
  checkTensor(K, 'query', query, { min: 3 });
  const dim = query.shape[query.shape.length - 1];
  if (scale) {
    checkShape(K, 'scale', scale, [dim]);
    checkSameDtype(K, 'scale', scale, query.data);
  }
  const w = scale?.data;
  return run(K, query, value, key, masks, options, (q, qo, rows, k, ko, tv, n, S, like) => {
    for (let r = 0; r < rows; r++) {
      const qr = qo + r * n;
      for (let j = 0; j < tv; j++) {
        let s = 0;
        const kj = ko + j * n;
        for (let d = 0; d < n; d++) {
          const t = Math.tanh(roundTo(like, q[qr + d] + k[kj + d]));
          s += w ? w[d] * t : t;
        }
        S[r * tv + j] = s;
      }
    }
  });
}

function scalarWeight(kernel: string, name: string, t: Tensor | null, query: Tensor): number | null {
  if (t === null) return null;
  checkTensor(kernel, name, t, { min: 0 });
  checkSameDtype(kernel, name, t, query.data);
  if (t.data.length !== 1)
    throw new KernelArgumentError(kernel, name, `argument '${name}' expected one value (shape []), received shape [${t.shape.join(', ')}]`);
  return t.data[0];
}

/** Writes into S[r * tv + j] the raw score of query row r (rows start at `qo`) against key row j (rows start at `ko`). */
type Score = (q: FloatArray, qo: number, rows: number, k: FloatArray, ko: number, tv: number, dim: number, S: Float64Array, like: FloatArray) => void;

/** Query rows scored at once: the score block stays small (CHUNK x Tv) whatever Tq is. */
const CHUNK = 32;

function run(
  K: string,
  query: Tensor,
  value: Tensor,
  keyIn: Tensor | null,
  masks: AttentionMasks | null,
  options: AttentionOptions,
  score: Score,
): AttentionResult {
  checkTensor(K, 'query', query, { min: 3 });
  const rank = query.shape.length;
  const batchDims = query.shape.slice(0, -2);
  const B = product(batchDims);
  const [Tq, dim] = query.shape.slice(-2);
  checkTensor(K, 'value', value, rank);
  checkSameDtype(K, 'value', value, query.data);
  const [Tv, dv] = value.shape.slice(-2);
  checkShape(K, 'value', value, [...batchDims, Tv, dv]);
  const key = keyIn ?? value;
  if (keyIn) {
    checkShape(K, 'key', keyIn, [...batchDims, Tv, dim]);
    checkSameDtype(K, 'key', keyIn, query.data);
  } else if (dv !== dim) {
    throw new KernelArgumentError(
      K,
      'value',
      `argument 'value' is also the key, so its last axis must be the query's ${dim}, received shape [${value.shape.join(', ')}]`,
    );
  }
  const qMask = masks?.query_mask ?? null;
  const vMask = masks?.value_mask ?? null;
  checkMask(K, 'query_mask', qMask, B, Tq);
  // One row per query when it has (...batch, Tq, Tv) values (the same count as (...batch, Tv) when Tq is 1).
  const vRows = vMask instanceof Uint8Array && vMask.length === B * Tq * Tv ? Tq : 1;
  if (vMask !== null && (!(vMask instanceof Uint8Array) || vMask.length !== B * vRows * Tv)) {
    throw new KernelArgumentError(
      K,
      'value_mask',
      `argument 'value_mask' expected a Uint8Array of ${B * Tv} values (batch ${B} x Tv ${Tv}) or ${B * Tq * Tv} (batch x Tq ${Tq} x Tv, one row per query) or null, received ${describe(vMask)}`,
    );
  }
  const causal = options.use_causal_mask === true;
  const like = query.data;
  const out = sameArray(like, B * Tq * dv);
  const scoresOut = options.return_attention_scores ? sameArray(like, B * Tq * Tv) : null;
  const S = new Float64Array(Math.min(Tq, CHUNK) * Tv);
  // The weights as Keras's matmul sees them (rounded to the dtype), and the value transposed per batch.
  const probs = sameArray(like, Math.min(Tq, CHUNK) * Tv);
  const vT = sameArray(like, Tv * dv);
  for (let n = 0; n < B; n++) {
    transposeInto(value.data, n * Tv * dv, Tv, dv, dv, vT);
    for (let i0 = 0; i0 < Tq; i0 += CHUNK) {
      const rows = Math.min(CHUNK, Tq - i0);
      score(like, (n * Tq + i0) * dim, rows, key.data, n * Tv * dim, Tv, dim, S, like);
      for (let r = 0; r < rows; r++) {
        const i = i0 + r;
        const off = r * Tv;
        for (let j = 0; j < Tv; j++) {
          const s = roundTo(like, S[off + j]);
          const masked = (vMask !== null && vMask[(n * vRows + (vRows === 1 ? 0 : i)) * Tv + j] === 0) || (causal && j > i);
          S[off + j] = masked ? roundTo(like, s + LARGE_NEGATIVE) : s;
        }
        softmaxInPlace(S, off, Tv);
        if (scoresOut) scoresOut.set(S.subarray(off, off + Tv), (n * Tq + i) * Tv);
      }
      probs.set(S.subarray(0, rows * Tv));
      const oOff = (n * Tq + i0) * dv;
      gemmRows({ x: probs, xOff: 0, xStride: Tv, rows, n: Tv, wT: vT, wOff: 0, wStride: Tv, m: dv, out, outOff: oOff, outStride: dv });
      // Keras zeroes the output at masked query steps.
      if (qMask !== null) for (let r = 0; r < rows; r++) if (qMask[n * Tq + i0 + r] === 0) out.fill(0, oOff + r * dv, oOff + (r + 1) * dv);
    }
  }
  return {
    output: { shape: [...batchDims, Tq, dv], data: out },
    scores: scoresOut ? { shape: [...batchDims, Tq, Tv], data: scoresOut } : null,
  };
}
