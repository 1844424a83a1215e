import { activationDef, applyActivation, type ActivationDef, type Tensor } from '@gru/core';
import type { LayerSpec, ModelSpec } from '../config/spec.js';
import { denseActivation } from '../config/layers.js';
import { ConfigReader } from '../config/values.js';
import { ModelLayer, newArray, type Flow } from './base.js';

/**
 * Keras's Dense on the last axis: `activation(x @ kernel + bias)`. Sums run in float64 and are
 * rounded once to the layer's dtype, which stays within float32 rounding of Keras's float32 GEMM.
 */
export class DenseLayer extends ModelLayer {
  readonly kernel: Tensor;
  readonly bias: Tensor | null;
  readonly activation: string;
  private readonly act: ActivationDef;

  constructor(spec: LayerSpec, weights: Tensor[], compat: ModelSpec['compat']) {
    super(spec);
    this.kernel = weights[0];
    this.bias = weights[1] ?? null;
    this.activation = denseActivation(spec.config.activation, compat, new ConfigReader(spec.config, 'Dense', spec.name));
    this.act = activationDef(this.activation);
  }

  getWeights(): Tensor[] {
    const out = [{ shape: [...this.kernel.shape], data: this.kernel.data.slice() }];
    if (this.bias) out.push({ shape: [...this.bias.shape], data: this.bias.data.slice() });
    return out;
  }

  applySync(input: Flow): Flow {
    const { shape, data } = input.tensor;
    const [F, U] = this.kernel.shape;
    const K = this.kernel.data;
    const b = this.bias?.data;
    const rows = F === 0 ? 0 : data.length / F;
    const out = newArray(this.dtype, rows * U);
    const pre = new Float64Array(U);
    const post = new Float64Array(U);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < U; j++) pre[j] = b ? b[j] : 0;
      for (let k = 0; k < F; k++) {
        const x = data[r * F + k];
        const row = k * U;
        for (let j = 0; j < U; j++) pre[j] += x * K[row + j];
      }
      applyActivation(this.act, pre, post, 0, U);
      out.set(post, r * U);
    }
    return { tensor: { shape: [...shape.slice(0, -1), U], data: out }, mask: input.mask };
  }
}
