import { activationDef, type ActivationDef, type FloatArray, type Tensor } from '@gru/core';
import { activateRows, matmulRows, transpose } from '../kernels/matmul.js';
import type { LayerSpec } from '../config/spec.js';
import { ConfigReader } from '../config/values.js';
import { layerActivation } from './activation-def.js';
import { ModelLayer, newArray, type Flow, type ValueCall } from './base.js';
import { type Compat, type LayerKind, lastDim, onlyInput, type Weights } from './kind.js';
import { weightTensor } from './base.js';

/**
 * Keras's Dense on the last axis: `activation(x @ kernel + bias)`, one matrix product over every
 * row (matmul.ts: float32 on the SIMD128 module, float64 sums otherwise), within float32 rounding
 * of Keras's float32 GEMM.
 */
export class DenseLayer extends ModelLayer {
  readonly kernel: Tensor;
  readonly bias: Tensor | null;
  readonly activation: string;
  override readonly supportsMasking = true;
  private readonly act: ActivationDef;
  private kernelT: FloatArray | undefined;

  constructor(spec: LayerSpec, weights: Weights, compat: Compat) {
    super(spec);
    this.kernel = weightTensor(weights[0], spec.weights[0].shape, spec.dtype);
    this.bias = weights[1] ? weightTensor(weights[1], spec.weights[1].shape, spec.dtype) : null;
    this.activation = layerActivation(spec.config.activation, compat, new ConfigReader(spec.config, 'Dense', spec.name));
    this.act = activationDef(this.activation);
  }

  override getWeights(): Tensor[] {
    const out = [{ shape: [...this.kernel.shape], data: this.kernel.data.slice() }];
    if (this.bias) out.push({ shape: [...this.bias.shape], data: this.bias.data.slice() });
    return out;
  }

  call(call: ValueCall): Flow[] {
    return [{ tensor: this.dense((call.args[0] as { tensor: Flow }).tensor.tensor), mask: null }];
  }

  /** The layer on one tensor (the last axis is the features). */
  dense(x: Tensor): Tensor {
    const { shape, data } = x;
    const [F, U] = this.kernel.shape;
    const rows = F === 0 ? 0 : data.length / F;
    const out = newArray(this.dtype, rows * U);
    // Transposed once: the product reads each output's weights as one contiguous run.
    this.kernelT ??= transpose(this.kernel.data, F, U);
    matmulRows(data, rows, F, this.kernelT, this.bias?.data, U, out);
    activateRows(this.act, out, rows, U);
    return { shape: [...shape.slice(0, -1), U], data: out };
  }
}

export const denseKind: LayerKind = {
  className: 'Dense',
  analyze(r, call, ctx) {
    r.refuseIfSet('quantization_config', 'quantized kernels are stored in another layout');
    r.refuseIfSet('lora_rank', 'LoRA adapters add weights gru does not apply');
    const input = onlyInput(r, call);
    const units = r.positiveInt('units');
    const useBias = r.bool('use_bias', true);
    layerActivation(r.config.activation, ctx.compat, r);
    const inputDim = lastDim(r, input, 2);
    const weights = [{ name: 'kernel', shape: [inputDim, units], keras3Path: 'vars/0' }];
    if (useBias) weights.push({ name: 'bias', shape: [units], keras3Path: 'vars/1' });
    return { outputShapes: [[...input.slice(0, -1), units]], weights };
  },
  create: (spec, weights, compat) => new DenseLayer(spec, weights, compat),
};
