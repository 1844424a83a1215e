import { GRU } from '@gru/core';
import type { Shape, WeightSpec } from '../config/spec.js';
import type { ConfigReader } from '../config/values.js';
import { describeThrown, KerasFileError, UnsupportedLayerError } from '../errors.js';
import { preview } from '../io/json.js';
import { type Compat, lastDim } from './kind.js';

/** Keys a layer config may carry to record its input shape. gru reads shapes, then builds from the weights. */
const INPUT_SHAPE_KEYS = ['batch_input_shape', 'batch_shape', 'input_shape', 'input_dim'];

export interface GruSettings {
  units: number;
  useBias: boolean;
  resetAfter: boolean;
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
  /** The config handed to core's GRU.fromConfig. */
  config: Record<string, unknown>;
}

/**
 * The GRU config core is given: without the recorded input shape (so core does not draw initial
 * weights that the file's weights replace at once), and with `reset_after: false` for Keras 2
 * configs that predate the key (Keras < 2.1.5, whose GRU always reset before).
 */
export function coreGruConfig(config: Record<string, unknown>, compat: Compat): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!INPUT_SHAPE_KEYS.includes(k)) out[k] = v;
  if (compat === 'keras2' && !('reset_after' in out)) out.reset_after = false;
  return out;
}

/** Validates a GRU config with core's own constructor, so gru's rules and defaults decide. */
export function gruSettings(config: Record<string, unknown>, compat: Compat, where: string): GruSettings {
  const coreConfig = coreGruConfig(config, compat);
  let layer: GRU;
  try {
    layer = GRU.fromConfig(coreConfig, { compat });
  } catch (err) {
    throw new KerasFileError(`${where}: its GRU config is not valid: ${describeThrown(err)}`, { cause: err });
  }
  const c = layer.config;
  const name = layer.name;
  if (c.timeMajor) {
    throw new UnsupportedLayerError(
      'GRU',
      name,
      `${where}: time_major=True is not supported in a loaded model; use the GRU layer from @gru/core directly for time-major data.`,
    );
  }
  const policy = c.dtypePolicy;
  if (policy.compute !== 'float32' && policy.compute !== 'float64') {
    throw new UnsupportedLayerError(
      'GRU',
      name,
      `${where}: dtype policy '${policy.name}' computes in ${policy.compute}; gru computes in float32 or float64 only.`,
    );
  }
  return {
    units: c.units,
    useBias: c.useBias,
    resetAfter: c.resetAfter,
    returnSequences: c.returnSequences,
    returnState: c.returnState,
    goBackwards: c.goBackwards,
    stateful: c.stateful,
    config: coreConfig,
  };
}

export function gruWeights(s: GruSettings, inputDim: number, path: string, prefix: string): WeightSpec[] {
  const G = 3 * s.units;
  const weights: WeightSpec[] = [
    { name: `${prefix}kernel`, shape: [inputDim, G], keras3Path: `${path}/0` },
    { name: `${prefix}recurrent_kernel`, shape: [s.units, G], keras3Path: `${path}/1` },
  ];
  if (s.useBias) weights.push({ name: `${prefix}bias`, shape: s.resetAfter ? [2, G] : [G], keras3Path: `${path}/2` });
  return weights;
}

/** Output shape and weights of one GRU on a (batch, timesteps, features) input. */
export function gruShapes(s: GruSettings, inputShape: Shape, r: ConfigReader, path: string, prefix: string) {
  if (inputShape.length !== 3) r.fail(`needs a rank-3 input (batch, timesteps, features); its input shape is ${preview(inputShape)}.`);
  const inputDim = lastDim(r, inputShape, 3);
  const [batch, time] = inputShape;
  return {
    output: (s.returnSequences ? [batch, time, s.units] : [batch, s.units]) as Shape,
    state: [batch, s.units] as Shape,
    weights: gruWeights(s, inputDim, path, prefix),
  };
}

/** Checks initial states given to a GRU of `units`: each (batch, units). */
export function checkStates(r: ConfigReader, states: Shape[], units: number[], batch: number | null): void {
  if (states.length !== units.length) r.fail(`takes ${units.length} initial state tensor(s), but is called with ${states.length}.`);
  states.forEach((s, i) => {
    const okBatch = s[0] === null || batch === null || s[0] === batch || s[0] === 1;
    if (s.length !== 2 || s[1] !== units[i] || !okBatch) {
      r.fail(`initial state #${i} must have shape (batch, ${units[i]}), found ${preview(s)}.`);
    }
  });
}
