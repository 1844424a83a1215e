import type { Tensor } from '@gru/core';
import { GruError } from '@gru/core';
import type { LayerSpec } from '../config/spec.js';
import { ModelLayer, newArray, type Flow } from './base.js';

/** Keras's Dropout at inference: the identity, passing the mask on. */
export class DropoutLayer extends ModelLayer {
  readonly rate: number;
  constructor(spec: LayerSpec) {
    super(spec);
    this.rate = typeof spec.config.rate === 'number' ? spec.config.rate : 0;
  }
  getWeights(): Tensor[] {
    return [];
  }
  applySync(input: Flow): Flow {
    return input;
  }
}

/**
 * Keras's Masking: a position whose features all equal `mask_value` is masked, and its
 * features are set to 0 (`ops.where(mask, x, 0)`).
 */
export class MaskingLayer extends ModelLayer {
  readonly maskValue: number;
  constructor(spec: LayerSpec) {
    super(spec);
    this.maskValue = typeof spec.config.mask_value === 'number' ? spec.config.mask_value : 0;
  }
  getWeights(): Tensor[] {
    return [];
  }
  applySync(input: Flow): Flow {
    const { shape, data } = input.tensor;
    const F = shape[shape.length - 1];
    const rows = F === 0 ? 0 : data.length / F;
    const mask = new Uint8Array(rows);
    const out = newArray(this.dtype, data.length);
    const v = this.maskValue;
    for (let r = 0; r < rows; r++) {
      let keep = 0;
      for (let f = 0; f < F; f++) if (data[r * F + f] !== v) keep = 1;
      mask[r] = keep;
      if (keep) for (let f = 0; f < F; f++) out[r * F + f] = data[r * F + f];
    }
    return { tensor: { shape: [...shape], data: out }, mask };
  }
}

/**
 * Keras's Embedding: looks up rows of `embeddings` by the integer value of each input (floats
 * are truncated, as Keras casts them to int32). With mask_zero, ids equal to 0 are masked;
 * without it, a mask coming in is dropped (Keras's Embedding does not pass masks on).
 */
export class EmbeddingLayer extends ModelLayer {
  readonly embeddings: Tensor;
  readonly maskZero: boolean;
  constructor(spec: LayerSpec, weights: Tensor[]) {
    super(spec);
    this.embeddings = weights[0];
    this.maskZero = spec.config.mask_zero === true;
  }
  getWeights(): Tensor[] {
    return [{ shape: [...this.embeddings.shape], data: this.embeddings.data.slice() }];
  }
  applySync(input: Flow): Flow {
    const { shape, data } = input.tensor;
    const [V, E] = this.embeddings.shape;
    const table = this.embeddings.data;
    const out = newArray(this.dtype, data.length * E);
    const mask = this.maskZero ? new Uint8Array(data.length) : null;
    for (let i = 0; i < data.length; i++) {
      const raw = data[i];
      const id = Math.trunc(raw);
      if (!Number.isFinite(raw) || id < 0 || id >= V) {
        throw new GruError('ValueError', `Layer '${this.name}' (Embedding): input value ${raw} at flat index ${i} is not a valid id in [0, ${V}).`);
      }
      out.set(table.subarray(id * E, id * E + E), i * E);
      if (mask) mask[i] = raw !== 0 ? 1 : 0;
    }
    return { tensor: { shape: [...shape, E], data: out }, mask };
  }
}
