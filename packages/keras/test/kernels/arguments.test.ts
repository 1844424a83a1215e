import { activationDef, type Tensor } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { additiveAttention, attention } from '../../src/kernels/attention.js';
import { batchNormalization } from '../../src/kernels/batch-normalization.js';
import { KernelArgumentError } from '../../src/kernels/common.js';
import { conv1d } from '../../src/kernels/conv1d.js';
import { globalAveragePooling1d } from '../../src/kernels/global-pooling1d.js';
import { layerNormalization } from '../../src/kernels/layer-normalization.js';
import { multiHeadAttention, multiHeadAttentionWeights } from '../../src/kernels/multi-head-attention.js';
import { averagePooling1d, maxPooling1d } from '../../src/kernels/pooling1d.js';
import { cropping1d, upSampling1d, zeroPadding1d } from '../../src/kernels/reshaping1d.js';

const f32 = (shape: number[], fill = 0.5): Tensor => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });
const f64 = (shape: number[]): Tensor => ({ shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });

/** Runs `fn`, expecting a KernelArgumentError naming `argument` whose message has every fragment. */
function expectArgError(fn: () => unknown, argument: string, ...fragments: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'an error is thrown').toBeInstanceOf(KernelArgumentError);
  const err = caught as KernelArgumentError;
  expect(err.argument).toBe(argument);
  expect(err.message).toContain(`'${argument}'`);
  for (const f of fragments) expect(err.message).toContain(f);
}

describe('kernels refuse bad arguments with errors naming the argument, the expected and the received value', () => {
  it('conv1d', () => {
    const x = f32([2, 7, 4]);
    expectArgError(() => conv1d(f32([7, 4]), f32([3, 4, 2]), null), 'x', 'rank 3', '[7, 4]');
    expectArgError(() => conv1d(x, f32([3, 3, 2]), null), 'kernel', 'expected shape [3, 4, 2]', 'received [3, 3, 2]');
    expectArgError(() => conv1d(x, f32([3, 4, 2]), f32([3])), 'bias', 'expected shape [2]', 'received [3]');
    expectArgError(() => conv1d(x, f64([3, 4, 2]), null), 'kernel', 'float32', 'float64');
    expectArgError(() => conv1d(x, f32([3, 4, 2]), null, { padding: 'full' as never }), 'padding', "'valid', 'same', 'causal'", "'full'");
    expectArgError(() => conv1d(x, f32([3, 2, 3]), null, { groups: 2 }), 'groups', 'filters (3)', 'received 2');
    expectArgError(() => conv1d(x, f32([3, 4, 2]), null, { strides: 2, dilation_rate: 2 }), 'strides', 'strides 2', 'dilation_rate 2');
    expectArgError(() => conv1d(x, f32([8, 4, 2]), null), 'x', 'zero or negative', 'steps 7', 'kernel_size 8');
    expectArgError(() => conv1d(x, f32([3, 4, 2]), null, { strides: 0 }), 'strides', 'integer >= 1', 'received 0');
    expectArgError(() => conv1d(x, f32([3, 4, 2]), null, { strides: [1, 2] }), 'strides', 'list of one integer', 'list of 2');
    expectArgError(() => conv1d({ shape: [2, 7, 4], data: new Float32Array(5) }, f32([3, 4, 2]), null), 'x', '56 values', 'but 5 values');
    expectArgError(() => conv1d(x, f32([3, 4, 2]), null, { activation: activationDef('glu') }), 'activation', "'glu'");
    expectArgError(
      () => conv1d(f32([1, 4, 7]), f32([3, 4, 2]), null, { data_format: 'channels_first', activation: activationDef('softmax') }),
      'activation',
      'over time',
    );
  });

  it('pooling and global pooling', () => {
    const x = f32([2, 5, 3]);
    expectArgError(() => maxPooling1d(x, { pool_size: 6 }), 'x', 'zero or negative', 'pool_size 6');
    expectArgError(() => averagePooling1d(x, { padding: 'causal' as never }), 'padding', "'valid', 'same'", "'causal'");
    expectArgError(() => averagePooling1d(x, { pool_size: 0 }), 'pool_size', 'integer >= 1', 'received 0');
    expectArgError(() => globalAveragePooling1d(x, new Uint8Array(9)), 'mask', '10 values', 'received 9');
    expectArgError(() => globalAveragePooling1d(x, [1, 1] as never), 'mask', 'Uint8Array', 'array of 2');
    expectArgError(() => globalAveragePooling1d(x, null, { data_format: 'NCW' as never }), 'data_format', "'channels_last'", "'NCW'");
  });

  it('layerNormalization and batchNormalization', () => {
    const x = f32([2, 3, 4]);
    expectArgError(() => layerNormalization(x, null, null, { axis: 3 }), 'axis', '[-3, 2]', 'received 3');
    expectArgError(() => layerNormalization(x, null, null, { axis: [2, -1] }), 'axis', 'twice');
    expectArgError(() => layerNormalization(x, f32([3]), null), 'gamma', 'expected 4 values', 'received shape [3]');
    expectArgError(() => layerNormalization(x, null, f32([3, 4]), { axis: [1] }), 'beta', 'expected 3 values', 'received shape [3, 4]');
    expectArgError(() => layerNormalization(x, null, null, { epsilon: Number.NaN }), 'epsilon', 'finite number', 'NaN');
    const stats = { gamma: f32([4]), beta: f32([4]), moving_mean: f32([4]), moving_variance: f32([4], 1) };
    expectArgError(() => batchNormalization(x, { ...stats, moving_variance: f32([3]) }, {}), 'moving_variance', 'expected shape [4]', 'received [3]');
    expectArgError(() => batchNormalization(x, stats, { axis: 1 }), 'gamma', 'expected shape [3]', 'received [4]');
    expectArgError(() => batchNormalization(x, stats, { axis: -4 }), 'axis', '[-3, 2]', 'received -4');
  });

  it('reshaping kernels', () => {
    expectArgError(() => cropping1d(f32([1, 3, 2]), { cropping: [2, 1] }), 'cropping', 'input steps 3', 'received cropping [2, 1]');
    expectArgError(() => upSampling1d(f32([1, 3, 2]), { size: 0 }), 'size', 'integer >= 1', 'received 0');
    expectArgError(() => zeroPadding1d(f32([1, 3, 2]), { padding: [1, 2, 3] }), 'padding', 'two integers', 'list of 3');
  });

  it('attention and additiveAttention', () => {
    const q = f32([2, 3, 4]);
    const v = f32([2, 5, 4]);
    expectArgError(() => attention(q, f32([2, 5, 3]), null, {}, null), 'value', 'also the key', '[2, 5, 3]');
    expectArgError(() => attention(q, v, f32([2, 4, 4]), {}, null), 'key', 'expected shape [2, 5, 4]', 'received [2, 4, 4]');
    expectArgError(() => attention(q, v, null, {}, null, { score_mode: 'concat' }), 'concat_score_weight', 'required', 'null');
    expectArgError(() => attention(q, v, null, { scale: f32([2]) }, null), 'scale', 'one value', '[2]');
    // Both forms the kernel reads are named: one row per batch or one per query.
    expectArgError(
      () => attention(q, v, null, {}, { value_mask: new Uint8Array(6) }),
      'value_mask',
      '10 values (batch 2 x Tv 5) or 30 (batch x Tq 3 x Tv',
      'received',
    );
    expectArgError(() => additiveAttention(q, v, null, null, { value_mask: [1] as never }), 'value_mask', '10 values (batch 2 x Tv 5) or 30', 'array of 1');
    expectArgError(() => additiveAttention(q, v, null, f32([3]), null), 'scale', 'expected shape [4]', 'received [3]');
    expectArgError(() => additiveAttention(q, f64([2, 5, 4]), null, null, null), 'value', 'float32', 'float64');
  });

  it('multiHeadAttention', () => {
    const q = f32([2, 3, 4]);
    const v = f32([2, 5, 6]);
    const opts = { num_heads: 2, key_dim: 3 };
    const weights = () =>
      multiHeadAttentionWeights([f32([4, 2, 3]), f32([2, 3]), f32([6, 2, 3]), f32([2, 3]), f32([6, 2, 3]), f32([2, 3]), f32([2, 3, 4]), f32([4])], {});
    expect(multiHeadAttention(q, v, null, weights(), null, opts).output.shape).toEqual([2, 3, 4]);
    expectArgError(() => multiHeadAttentionWeights([f32([4, 2, 3])], {}), 'weights', 'expected 8 tensors', 'received 1');
    expectArgError(
      () => multiHeadAttention(q, v, null, { ...weights(), key_kernel: f32([4, 2, 3]) }, null, opts),
      'key_kernel',
      'expected shape [6, 2, 3]',
      'received [4, 2, 3]',
    );
    expectArgError(() => multiHeadAttention(q, v, null, weights(), null, { ...opts, use_bias: false }), 'query_bias', 'expected null', 'received shape [2, 3]');
    expectArgError(() => multiHeadAttention(q, v, null, weights(), null, { ...opts, num_heads: 0 }), 'num_heads', 'integer >= 1', 'received 0');
    expectArgError(() => multiHeadAttention(q, v, null, weights(), null, { ...opts, attention_axes: [1, 2] }), 'attention_axes', 'steps axis', '[1,2]');
    expectArgError(() => multiHeadAttention(q, f32([3, 5, 6]), null, weights(), null, opts), 'value', 'batch 2', '[3, 5, 6]');
    expectArgError(() => multiHeadAttention(q, v, null, weights(), { attention_mask: new Uint8Array(7) }, opts), 'attention_mask', '30 values', 'received 7');
    expectArgError(() => multiHeadAttention(q, v, null, weights(), { query_mask: new Uint8Array(5) }, opts), 'query_mask', '6 values', 'received 5');
  });
});
