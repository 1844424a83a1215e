import { describe, it } from 'vitest';
import type { JsonTensor } from '../helpers.js';
import { batchNormalization, batchNormalizationComputeMask } from '../../src/kernels/batch-normalization.js';
import { layerNormalization, layerNormalizationComputeMask } from '../../src/kernels/layer-normalization.js';
import { type BaseCase, expectKeras, expectMask, loadFixture, mask, tensor } from './load.js';

interface NormCase extends BaseCase {
  x: JsonTensor;
  mask: JsonTensor | null;
  weights: JsonTensor[];
  y: JsonTensor;
}

describe('layerNormalization matches Keras 3.15.1 LayerNormalization', () => {
  for (const c of loadFixture<NormCase>('layer_normalization.json')) {
    it(c.name, () => {
      const cfg = c.config as { scale: boolean; center: boolean; rms_scaling: boolean; axis: number[]; epsilon: number };
      const ws = c.weights.map((w) => tensor(w, c.dtype));
      const gamma = cfg.scale || cfg.rms_scaling ? (ws.shift() ?? null) : null;
      const beta = cfg.center && !cfg.rms_scaling ? (ws.shift() ?? null) : null;
      expectKeras(layerNormalization(tensor(c.x, c.dtype), gamma, beta, cfg), c.y, c.dtype, c.name);
      expectMask(layerNormalizationComputeMask(mask(c.mask)), c.out_mask, c.name);
    });
  }
});

describe('batchNormalization matches Keras 3.15.1 BatchNormalization at inference', () => {
  for (const c of loadFixture<NormCase>('batch_normalization.json')) {
    it(c.name, () => {
      const cfg = c.config as { scale: boolean; center: boolean; axis: number; epsilon: number };
      const ws = c.weights.map((w) => tensor(w, c.dtype));
      const gamma = cfg.scale ? (ws.shift() ?? null) : null;
      const beta = cfg.center ? (ws.shift() ?? null) : null;
      const [moving_mean, moving_variance] = ws;
      expectKeras(batchNormalization(tensor(c.x, c.dtype), { gamma, beta, moving_mean, moving_variance }, cfg), c.y, c.dtype, c.name);
      expectMask(batchNormalizationComputeMask(mask(c.mask)), c.out_mask, c.name);
    });
  }
});
