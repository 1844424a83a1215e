import { describe, expect, it } from 'vitest';
import type { JsonTensor } from '../helpers.js';
import { additiveAttention, attention, attentionComputeMask } from '../../src/kernels/attention.js';
import {
  type MultiHeadAttentionOptions,
  multiHeadAttention,
  multiHeadAttentionComputeMask,
  multiHeadAttentionWeights,
} from '../../src/kernels/multi-head-attention.js';
import { type BaseCase, expectKeras, expectMask, loadFixture, mask, tensor } from './load.js';

interface AttentionCase extends BaseCase {
  layer?: string;
  q: JsonTensor;
  v: JsonTensor;
  k: JsonTensor | null;
  q_mask: JsonTensor | null;
  v_mask: JsonTensor | null;
  k_mask: JsonTensor | null;
  attention_mask?: JsonTensor | null;
  use_causal_mask: boolean;
  return_attention_scores: boolean;
  weight_paths?: string[];
  weights: JsonTensor[];
  y: JsonTensor;
  scores: JsonTensor | null;
}

describe('attention / additiveAttention match Keras 3.15.1 Attention / AdditiveAttention', () => {
  for (const c of loadFixture<AttentionCase>('attention.json')) {
    it(c.name, () => {
      const cfg = c.config as { use_scale: boolean; score_mode?: 'dot' | 'concat' };
      const ws = c.weights.map((w) => tensor(w, c.dtype));
      const q = tensor(c.q, c.dtype);
      const v = tensor(c.v, c.dtype);
      const k = c.k ? tensor(c.k, c.dtype) : null;
      const masks = { query_mask: mask(c.q_mask), value_mask: mask(c.v_mask) };
      const opts = { use_causal_mask: c.use_causal_mask, return_attention_scores: c.return_attention_scores };
      const res =
        c.layer === 'AdditiveAttention'
          ? additiveAttention(q, v, k, cfg.use_scale ? ws[0] : null, masks, opts)
          : attention(q, v, k, { scale: cfg.use_scale ? ws[0] : null, concat_score_weight: cfg.score_mode === 'concat' ? ws[ws.length - 1] : null }, masks, {
              ...opts,
              score_mode: cfg.score_mode,
            });
      expectKeras(res.output, c.y, c.dtype, `${c.name} output`);
      if (c.scores) expectKeras(res.scores as never, c.scores, c.dtype, `${c.name} scores`);
      else expect(res.scores).toBeNull();
      expectMask(attentionComputeMask(masks.query_mask), c.out_mask, c.name);
    });
  }
});

describe('multiHeadAttention matches Keras 3.15.1 MultiHeadAttention', () => {
  for (const c of loadFixture<AttentionCase>('multi_head_attention.json')) {
    it(c.name, () => {
      const cfg = c.config as Record<string, never>;
      const weights = multiHeadAttentionWeights(
        c.weights.map((w) => tensor(w, c.dtype)),
        cfg,
      );
      // The documented order is Keras's: the fixture records Keras's own weight paths.
      const paths = c.weight_paths as string[];
      expect(paths[0]).toBe('query/kernel');
      expect(paths[paths.length - (cfg.use_bias ? 2 : 1)]).toBe('attention_output/kernel');
      const res = multiHeadAttention(
        tensor(c.q, c.dtype),
        tensor(c.v, c.dtype),
        c.k ? tensor(c.k, c.dtype) : null,
        weights,
        { query_mask: mask(c.q_mask), value_mask: mask(c.v_mask), key_mask: mask(c.k_mask), attention_mask: mask(c.attention_mask) },
        { ...(cfg as unknown as MultiHeadAttentionOptions), use_causal_mask: c.use_causal_mask, return_attention_scores: c.return_attention_scores },
      );
      expectKeras(res.output, c.y, c.dtype, `${c.name} output`);
      if (c.scores) expectKeras(res.scores as never, c.scores, c.dtype, `${c.name} scores`);
      else expect(res.scores).toBeNull();
      expectMask(multiHeadAttentionComputeMask(mask(c.q_mask)), c.out_mask, c.name);
    });
  }
});

describe('multiHeadAttention: masked rows', () => {
  it('zero_masked_weights overrides the code path Keras 3 would take (tf.keras 2 never zeroes)', () => {
    const c = loadFixture<AttentionCase>('multi_head_attention.json').find((k) => k.name === 'empty_row_scores_zeroed') as AttentionCase;
    const cfg = c.config as unknown as MultiHeadAttentionOptions;
    const weights = multiHeadAttentionWeights(
      c.weights.map((w) => tensor(w, c.dtype)),
      cfg,
    );
    const run = (zero?: boolean) =>
      multiHeadAttention(
        tensor(c.q, c.dtype),
        tensor(c.v, c.dtype),
        null,
        weights,
        { query_mask: mask(c.q_mask), value_mask: mask(c.v_mask) },
        {
          ...cfg,
          return_attention_scores: true,
          zero_masked_weights: zero,
        },
      );
    const zeroed = run().scores as { data: Float32Array };
    const kept = run(false).scores as { data: Float32Array };
    // Batch 1 has every value step masked: Keras 3's Softmax path gives zeros, the other uniform weights.
    const Tv = c.v.shape[1];
    const start = 1 * cfg.num_heads * c.q.shape[1] * Tv;
    expect(Array.from(zeroed.data.subarray(start, start + Tv))).toEqual(new Array(Tv).fill(0));
    expect(Array.from(kept.data.subarray(start, start + Tv))).toEqual(new Array(Tv).fill(1 / Tv));
  });
});
