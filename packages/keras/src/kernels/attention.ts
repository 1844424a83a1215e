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
 *   masks: { query_mask, value_mask } of (...batch, Tq) and (...batch, Tv), or null. Keras's Attention
 *     reads mask[0] and mask[1] only: a key mask changes nothing, so there is no key_mask here.
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
  product,
  roundTo,
  sameArray,
  softmaxInPlace,
} from './common.js';

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
  return run(K, query, value, key, masks, options, (q, qo, k, ko, dim, like) => {
    if (mode === 'dot') {
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[qo + d] * k[ko + d];
      s = roundTo(like, s);
      return scale === null ? s : s * scale;
    }
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const a = roundTo(like, q[qo + d] + k[ko + d]);
      s += Math.tanh(scale === null ? a : roundTo(like, scale * a));
    }
    return (cw as number) * roundTo(like, s);
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
  return run(K, query, value, key, masks, options, (q, qo, k, ko, n, like) => {
    let s = 0;
    for (let d = 0; d < n; d++) {
      const t = Math.tanh(roundTo(like, q[qo + d] + k[ko + d]));
      s += w ? w[d] * t : t;
    }
    return s;
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

/** The raw score of query row `qo` against key row `ko` (offsets into the flat data). */
type Score = (q: FloatArray, qo: number, k: FloatArray, ko: number, dim: number, like: FloatArray) => number;

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
  checkMask(K, 'value_mask', vMask, B, Tv);
  const causal = options.use_causal_mask === true;
  const like = query.data;
  const out = sameArray(like, B * Tq * dv);
  const scoresOut = options.return_attention_scores ? sameArray(like, B * Tq * Tv) : null;
  const row = new Float64Array(Tv);
  const acc = new Float64Array(dv);
  for (let n = 0; n < B; n++) {
    for (let i = 0; i < Tq; i++) {
      const qOff = (n * Tq + i) * dim;
      for (let j = 0; j < Tv; j++) {
        const kOff = (n * Tv + j) * dim;
        let s = roundTo(like, score(like, qOff, key.data, kOff, dim, like));
        const masked = (vMask !== null && vMask[n * Tv + j] === 0) || (causal && j > i);
        if (masked) s = roundTo(like, s + LARGE_NEGATIVE);
        row[j] = s;
      }
      softmaxInPlace(row, 0, Tv);
      if (scoresOut) scoresOut.set(row, (n * Tq + i) * Tv);
      const oOff = (n * Tq + i) * dv;
      if (qMask !== null && qMask[n * Tq + i] === 0) continue;
      acc.fill(0);
      for (let j = 0; j < Tv; j++) {
        const p = roundTo(like, row[j]);
        const vOff = (n * Tv + j) * dv;
        for (let c = 0; c < dv; c++) acc[c] += p * value.data[vOff + c];
      }
      out.set(acc, oOff);
    }
  }
  return {
    output: { shape: [...batchDims, Tq, dv], data: out },
    scores: scoresOut ? { shape: [...batchDims, Tq, Tv], data: scoresOut } : null,
  };
}
