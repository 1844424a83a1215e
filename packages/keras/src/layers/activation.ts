import { activationDef, applyActivation, type ActivationDef } from '@gru/core';
import type { LayerSpec } from '../config/spec.js';
import { ConfigReader } from '../config/values.js';
import { layerActivation } from './activation-def.js';
import { ModelLayer, newArray, type Flow, type ValueCall } from './base.js';
import { type Compat, type LayerKind, onlyInput } from './kind.js';

/** Keras's Activation layer: the activation on the last axis (softmax and other row activations per row); masks pass on. */
export class ActivationLayer extends ModelLayer {
  override readonly supportsMasking = true;
  private readonly act: ActivationDef;
  constructor(spec: LayerSpec, compat: Compat) {
    super(spec);
    this.act = activationDef(layerActivation(spec.config.activation, compat, new ConfigReader(spec.config, spec.className, spec.name)));
  }
  call(call: ValueCall): Flow[] {
    const { shape, data } = (call.args[0] as { tensor: Flow }).tensor.tensor;
    const last = shape.length ? shape[shape.length - 1] : 1;
    const rows = last === 0 ? 0 : data.length / last;
    const pre = new Float64Array(last);
    const post = new Float64Array(last);
    const out = newArray(this.dtype, data.length);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < last; j++) pre[j] = data[r * last + j];
      applyActivation(this.act, pre, post, 0, last);
      out.set(post, r * last);
    }
    return [{ tensor: { shape: [...shape], data: out }, mask: null }];
  }
}

export const activationKind: LayerKind = {
  className: 'Activation',
  analyze(r, call, ctx) {
    const input = onlyInput(r, call);
    layerActivation(r.config.activation, ctx.compat, r);
    return { outputShapes: [input], weights: [] };
  },
  create: (spec, _w, compat) => new ActivationLayer(spec, compat),
};
