import type { LayerSpec } from '../config/spec.js';
import { ModelLayer, newArray, type Flow, type ValueCall } from './base.js';
import { type LayerKind, onlyInput } from './kind.js';

/**
 * Keras's Masking: a position whose features all equal `mask_value` is masked, and its
 * features are set to 0 (`ops.where(mask, x, 0)`).
 */
export class MaskingLayer extends ModelLayer {
  readonly maskValue: number;
  override readonly supportsMasking = true;
  constructor(spec: LayerSpec) {
    super(spec);
    this.maskValue = typeof spec.config.mask_value === 'number' ? spec.config.mask_value : 0;
  }
  call(call: ValueCall): Flow[] {
    const { shape, data } = (call.args[0] as { tensor: Flow }).tensor.tensor;
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
    return [{ tensor: { shape: [...shape], data: out }, mask }];
  }
}

export const maskingKind: LayerKind = {
  className: 'Masking',
  analyze(r, call) {
    const input = onlyInput(r, call);
    r.number('mask_value', 0);
    return { outputShapes: [input], weights: [] };
  },
  create: (spec) => new MaskingLayer(spec),
};
