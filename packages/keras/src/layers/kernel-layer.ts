import type { Tensor } from '@gru/core';
import type { LayerSpec } from '../config/spec.js';
import { describeThrown } from '../errors.js';
import { KernelArgumentError } from '../kernels/common.js';
import { asDtype, layerFail, ModelLayer, weightTensor, type ValueCall } from './base.js';
import type { Weights } from './kind.js';

/**
 * A layer whose math is one of `kernels/` (plain typed-array functions): it holds its weights in
 * its dtype and hands the kernel its input in that dtype. A kernel's argument error surfaces as a
 * ValueError naming the layer.
 */
export abstract class KernelLayer extends ModelLayer {
  protected readonly weights: Tensor[];
  private readonly weightNames: string[];
  constructor(spec: LayerSpec, weights: Weights) {
    super(spec);
    this.weights = spec.weights.map((w, i) => weightTensor(weights[i], w.shape, spec.dtype));
    this.weightNames = spec.weights.map((w) => w.name);
  }
  override getWeights(): Tensor[] {
    return this.weights.map((w) => ({ shape: [...w.shape], data: w.data.slice() }));
  }
  /** The weight named `name` ('kernel', 'gamma' ...), or null when the config has none. */
  protected weight(name: string): Tensor | null {
    const i = this.weightNames.indexOf(name);
    return i < 0 ? null : this.weights[i];
  }
  /** The input tensors of the call in the layer's dtype. */
  protected inputs(call: ValueCall): Tensor[] {
    const out: Tensor[] = [];
    for (const a of call.args) {
      if ('tensor' in a) out.push(asDtype(a.tensor.tensor, this.dtype));
      else if ('list' in a) out.push(...a.list.map((f) => asDtype(f.tensor, this.dtype)));
    }
    return out;
  }
  /** Runs a kernel, turning its argument errors into the layer's. */
  protected run<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof KernelArgumentError) layerFail(this)(describeThrown(err));
      throw err;
    }
  }
}
