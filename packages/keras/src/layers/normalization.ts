import type { Shape, WeightSpec } from '../config/spec.js';
import type { ConfigReader } from '../config/values.js';
import { preview } from '../io/json.js';
import { batchNormalization } from '../kernels/batch-normalization.js';
import { layerNormalization } from '../kernels/layer-normalization.js';
import { normAxis } from '../ops/op-layer.js';
import type { Flow, ValueCall } from './base.js';
import { KernelLayer } from './kernel-layer.js';
import { type LayerKind, onlyInput } from './kind.js';

/** LayerNormalization and BatchNormalization (inference: moving statistics); masks pass on. */
export class NormalizationLayer extends KernelLayer {
  override readonly supportsMasking = true;
  call(call: ValueCall): Flow[] {
    const [x] = this.inputs(call);
    const c = this.config;
    const epsilon = typeof c.epsilon === 'number' ? c.epsilon : 1e-3;
    if (this.className === 'LayerNormalization') {
      const y = this.run(() =>
        layerNormalization(x, this.weight('gamma'), this.weight('beta'), {
          axis: (c.axis as number | number[]) ?? -1,
          epsilon,
          rms_scaling: c.rms_scaling === true,
        }),
      );
      return [{ tensor: y, mask: null }];
    }
    const weights = {
      gamma: this.weight('gamma'),
      beta: this.weight('beta'),
      moving_mean: this.weight('moving_mean') as NonNullable<ReturnType<typeof this.weight>>,
      moving_variance: this.weight('moving_variance') as NonNullable<ReturnType<typeof this.weight>>,
    };
    return [{ tensor: this.run(() => batchNormalization(x, weights, { axis: (c.axis as number) ?? -1, epsilon })), mask: null }];
  }
}

function axes(r: ConfigReader, rank: number): number[] {
  const a = r.config.axis ?? -1;
  const list = Array.isArray(a) ? a : [a];
  if (!list.length) r.fail(`\`axis\` must name at least one axis, found ${preview(a)}.`);
  return list.map((x) => normAxis(x, rank, (m) => r.fail(m)));
}

function knownDims(r: ConfigReader, input: Shape, at: number[]): number[] {
  return at.map((a) => {
    const d = input[a];
    if (typeof d !== 'number' || a === 0) r.fail(`normalizes axis ${a}, which must be a known, non-batch axis; input shape ${preview(input)}.`);
    return d as number;
  });
}

export const normalizationKinds: LayerKind[] = [
  {
    className: 'LayerNormalization',
    analyze(r, call) {
      const input = onlyInput(r, call);
      r.number('epsilon', 1e-3);
      const at = [...new Set(axes(r, input.length))].sort((a, b) => a - b);
      const size = knownDims(r, input, at).reduce((a, b) => a * b, 1);
      const rms = r.bool('rms_scaling', false);
      const weights: WeightSpec[] = [];
      if (r.bool('scale', true) || rms) weights.push({ name: 'gamma', shape: [size], keras3Path: `vars/${weights.length}` });
      if (r.bool('center', true) && !rms) weights.push({ name: 'beta', shape: [size], keras3Path: `vars/${weights.length}` });
      return { outputShapes: [input], weights };
    },
    create: (spec, weights) => new NormalizationLayer(spec, weights),
  },
  {
    className: 'BatchNormalization',
    analyze(r, call) {
      const input = onlyInput(r, call);
      r.number('epsilon', 1e-3);
      if (Array.isArray(r.config.axis)) r.unsupported('normalizes several axes; gru runs BatchNormalization over one axis.');
      const [C] = knownDims(r, input, axes(r, input.length));
      r.refuseIfSet('renorm', 'batch renormalization keeps more statistics');
      const weights: WeightSpec[] = [];
      if (r.bool('scale', true)) weights.push({ name: 'gamma', shape: [C], keras3Path: `vars/${weights.length}` });
      if (r.bool('center', true)) weights.push({ name: 'beta', shape: [C], keras3Path: `vars/${weights.length}` });
      weights.push({ name: 'moving_mean', shape: [C], keras3Path: `vars/${weights.length}` });
      weights.push({ name: 'moving_variance', shape: [C], keras3Path: `vars/${weights.length}` });
      return { outputShapes: [input], weights };
    },
    create: (spec, weights) => new NormalizationLayer(spec, weights),
  },
];
