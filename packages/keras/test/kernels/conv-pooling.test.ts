import { activationDef, resolveActivation } from '@gru/core';
import { describe, expect, it } from 'vitest';
import type { JsonTensor } from '../helpers.js';
import { conv1d, conv1dComputeMask, conv1dOutputLength } from '../../src/kernels/conv1d.js';
import { globalAveragePooling1d, globalMaxPooling1d, globalPooling1dComputeMask } from '../../src/kernels/global-pooling1d.js';
import { averagePooling1d, maxPooling1d, pooling1dComputeMask, pooling1dOutputLength } from '../../src/kernels/pooling1d.js';
import { cropping1d, reshaping1dComputeMask, upSampling1d, zeroPadding1d } from '../../src/kernels/reshaping1d.js';
import { type BaseCase, expectKeras, expectMask, loadFixture, mask, tensor } from './load.js';

interface LayerCase extends BaseCase {
  layer?: string;
  x: JsonTensor;
  mask: JsonTensor | null;
  weights: JsonTensor[];
  y: JsonTensor;
}

describe('conv1d matches Keras 3.15.1 Conv1D', () => {
  for (const c of loadFixture<LayerCase>('conv1d.json')) {
    it(c.name, () => {
      const cfg = c.config as Record<string, never>;
      const act = activationDef(resolveActivation(cfg.activation));
      const bias = c.weights[1] ? tensor(c.weights[1], c.dtype) : null;
      const y = conv1d(tensor(c.x, c.dtype), tensor(c.weights[0], c.dtype), bias, { ...cfg, activation: act });
      expectKeras(y, c.y, c.dtype, c.name);
      expect(
        conv1dOutputLength(
          c.x.shape[cfg.data_format === 'channels_first' ? 2 : 1],
          (cfg.kernel_size as number[])[0],
          (cfg.strides as number[])[0],
          cfg.padding,
          (cfg.dilation_rate as number[])[0],
        ),
      ).toBe(c.y.shape[cfg.data_format === 'channels_first' ? 2 : 1]);
      expectMask(conv1dComputeMask(), c.out_mask, c.name);
    });
  }
});

describe('pooling1d matches Keras 3.15.1 MaxPooling1D / AveragePooling1D', () => {
  for (const c of loadFixture<LayerCase>('pooling1d.json')) {
    it(c.name, () => {
      const cfg = c.config as Record<string, never>;
      const run = c.layer === 'MaxPooling1D' ? maxPooling1d : averagePooling1d;
      expectKeras(run(tensor(c.x, c.dtype), cfg), c.y, c.dtype, c.name);
      const steps = cfg.data_format === 'channels_first' ? 2 : 1;
      expect(pooling1dOutputLength(c.x.shape[steps], (cfg.pool_size as number[])[0], (cfg.strides as number[])[0], cfg.padding)).toBe(c.y.shape[steps]);
      expectMask(pooling1dComputeMask(), c.out_mask, c.name);
    });
  }
});

describe('global pooling matches Keras 3.15.1 (masks as Keras uses them)', () => {
  for (const c of loadFixture<LayerCase>('global_pooling1d.json')) {
    it(c.name, () => {
      const cfg = c.config as Record<string, never>;
      const x = tensor(c.x, c.dtype);
      const y = c.layer === 'GlobalMaxPooling1D' ? globalMaxPooling1d(x, cfg) : globalAveragePooling1d(x, mask(c.mask), cfg);
      expectKeras(y, c.y, c.dtype, c.name);
      expectMask(globalPooling1dComputeMask(), c.out_mask, c.name);
    });
  }

  it('the mask changes the average (a wrong mask would not pass the fixtures by luck)', () => {
    const x = { shape: [1, 3, 1], data: Float32Array.from([1, 2, 6]) };
    expect(Array.from(globalAveragePooling1d(x, Uint8Array.from([1, 1, 0])).data)).toEqual([1.5]);
    expect(Array.from(globalAveragePooling1d(x, null).data)).toEqual([3]);
    // Keras divides 0 by 0 for a row with every step masked.
    expect(Number.isNaN(globalAveragePooling1d(x, Uint8Array.from([0, 0, 0])).data[0])).toBe(true);
  });
});

describe('UpSampling1D, ZeroPadding1D, Cropping1D match Keras 3.15.1', () => {
  for (const c of loadFixture<LayerCase>('reshaping1d.json')) {
    it(c.name, () => {
      const cfg = c.config as Record<string, never>;
      const x = tensor(c.x, c.dtype);
      const y = c.layer === 'UpSampling1D' ? upSampling1d(x, cfg) : c.layer === 'ZeroPadding1D' ? zeroPadding1d(x, cfg) : cropping1d(x, cfg);
      expectKeras(y, c.y, c.dtype, c.name);
      expectMask(reshaping1dComputeMask(), c.out_mask, c.name);
    });
  }
});
