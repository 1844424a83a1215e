import type { LayerSpec } from '../config/spec.js';
import { asDtype, ModelLayer, type Flow, type ValueCall } from './base.js';
import { type LayerKind, onlyInput } from './kind.js';

/**
 * Layers that are the identity at inference and pass the mask on: Dropout, SpatialDropout1D,
 * GaussianNoise, GaussianDropout, AlphaDropout (they only act with training=True),
 * ActivityRegularization (it only adds a loss), and Identity.
 */
export class DropoutLayer extends ModelLayer {
  readonly rate: number;
  override readonly supportsMasking = true;
  constructor(spec: LayerSpec) {
    super(spec);
    const r = spec.config.rate ?? spec.config.stddev;
    this.rate = typeof r === 'number' ? r : 0;
  }
  call(call: ValueCall): Flow[] {
    const x = (call.args[0] as { tensor: Flow }).tensor.tensor;
    return [{ tensor: asDtype(x, this.dtype), mask: null }];
  }
}

function identityKind(className: string, rateKey: string | null, max: number): LayerKind {
  return {
    className,
    analyze(r, call) {
      const input = onlyInput(r, call);
      if (rateKey) {
        const rate = r.number(rateKey, 0);
        if (rate < 0 || rate > max) r.fail(`\`${rateKey}\` must be between 0 and ${max}, found ${rate}.`);
      }
      if (className === 'SpatialDropout1D' && input.length !== 3)
        r.fail(`needs a rank-3 input (batch, timesteps, channels); its input shape is [${input.join(', ')}].`);
      return { outputShapes: [input], weights: [] };
    },
    create: (spec) => new DropoutLayer(spec),
  };
}

export const identityKinds: LayerKind[] = [
  identityKind('Dropout', 'rate', 1),
  identityKind('SpatialDropout1D', 'rate', 1),
  identityKind('GaussianNoise', 'stddev', Number.MAX_VALUE),
  identityKind('GaussianDropout', 'rate', 1),
  identityKind('AlphaDropout', 'rate', 1),
  identityKind('ActivityRegularization', null, 0),
  identityKind('Identity', null, 0),
];
