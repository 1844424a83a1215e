import { GruError, type Tensor } from '@gru/core';
import type { LayerSpec } from '../config/spec.js';
import { preview } from '../io/json.js';
import { ModelLayer, newArray, weightTensor, type Flow, type ValueCall } from './base.js';
import { type LayerKind, onlyInput, type Weights } from './kind.js';

/**
 * Keras's Embedding: looks up rows of `embeddings` by the integer value of each input (floats
 * are truncated, as Keras casts them to int32). With mask_zero, ids equal to 0 are masked;
 * without it, a mask coming in is dropped (Keras's Embedding supports masking only with mask_zero).
 */
export class EmbeddingLayer extends ModelLayer {
  readonly embeddings: Tensor;
  readonly maskZero: boolean;
  override readonly supportsMasking: boolean;
  constructor(spec: LayerSpec, weights: Weights) {
    super(spec);
    this.embeddings = weightTensor(weights[0], spec.weights[0].shape, spec.dtype);
    this.maskZero = spec.config.mask_zero === true;
    this.supportsMasking = this.maskZero;
  }
  override getWeights(): Tensor[] {
    return [{ shape: [...this.embeddings.shape], data: this.embeddings.data.slice() }];
  }
  call(call: ValueCall): Flow[] {
    const { shape, data } = (call.args[0] as { tensor: Flow }).tensor.tensor;
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
    return [{ tensor: { shape: [...shape, E], data: out }, mask }];
  }
}

export const embeddingKind: LayerKind = {
  className: 'Embedding',
  analyze(r, call) {
    r.refuseIfSet('quantization_config', 'quantized embeddings are stored in another layout');
    r.refuseIfSet('lora_rank', 'LoRA adapters add weights gru does not apply');
    r.refuseIfSet('sparse', 'sparse outputs are not supported');
    const input = onlyInput(r, call);
    const inputDim = r.positiveInt('input_dim');
    const outputDim = r.positiveInt('output_dim');
    r.bool('mask_zero', false);
    if (input.length < 1) r.fail(`needs an input of rank >= 1; its input shape is ${preview(input)}.`);
    return {
      outputShapes: [[...input, outputDim]],
      weights: [{ name: 'embeddings', shape: [inputDim, outputDim], keras3Path: 'vars/0' }],
    };
  },
  create: (spec, weights) => new EmbeddingLayer(spec, weights),
};
