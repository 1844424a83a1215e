import { activationDef, GRU, resolveActivation, type KerasCompat } from '@gru/core';
import { describeThrown, KerasFileError, UnsupportedLayerError } from '../errors.js';
import { isObject, preview } from '../io/json.js';
import type { LayerClass, LayerSpec, Shape, WeightSpec } from './spec.js';
import { ConfigReader, policyName } from './values.js';

export const SUPPORTED_LAYERS: readonly LayerClass[] = ['Embedding', 'Masking', 'Dropout', 'GRU', 'Bidirectional', 'Dense'];
const SUPPORTED_TEXT = 'InputLayer, Masking, Embedding, GRU, Bidirectional(GRU), Dropout and Dense';

type Compat = Extract<KerasCompat, 'keras3' | 'keras2'>;
type PartialSpec = Omit<LayerSpec, 'keras3Group'>;

/** Keys a layer config may carry to record its input shape. gru reads shapes, then builds from the weights. */
const INPUT_SHAPE_KEYS = ['batch_input_shape', 'batch_shape', 'input_shape', 'input_dim'];

/**
 * Validates one layer config and works out its output shape and the exact weight shapes it
 * needs, from its config and its input shape alone. Anything gru does not run is refused here,
 * by class name, before any weight is read.
 */
export function layerSpec(className: string, config: Record<string, unknown>, inputShape: Shape, compat: Compat): PartialSpec {
  const name = typeof config.name === 'string' && config.name ? config.name : undefined;
  if (!name) throw new KerasFileError(`A ${className} layer config has no name: ${preview(config)}.`);
  const r = new ConfigReader(config, className, name);
  if (!(SUPPORTED_LAYERS as readonly string[]).includes(className)) {
    throw new UnsupportedLayerError(className, name, `${r.where}: ${className} layers are not supported. gru runs ${SUPPORTED_TEXT}.`);
  }
  const dtype = layerDtype(r);
  const base = { className: className as LayerClass, name, config, dtype, inputShape };
  switch (className as LayerClass) {
    case 'Embedding':
      return { ...base, ...embedding(r, inputShape) };
    case 'Masking':
      r.number('mask_value', 0);
      return { ...base, outputShapes: [inputShape], weights: [] };
    case 'Dropout': {
      const rate = r.number('rate', 0);
      if (rate < 0 || rate > 1) r.fail(`\`rate\` must be between 0 and 1, found ${rate}.`);
      return { ...base, outputShapes: [inputShape], weights: [] };
    }
    case 'Dense':
      return { ...base, ...dense(r, inputShape, compat) };
    case 'GRU': {
      const settings = gruSettings(config, compat, r.where);
      return { ...base, ...gruShapes(settings, inputShape, r, 'cell/vars', '') };
    }
    case 'Bidirectional':
      return { ...base, ...bidirectional(r, inputShape, compat) };
  }
}

function layerDtype(r: ConfigReader): 'float32' | 'float64' {
  const name = policyName(r.config.dtype) ?? 'float32';
  if (name === 'float32' || name === 'float64') return name;
  return r.unsupported(`dtype policy '${name}' is not supported: gru computes in float32 or float64 only, so it could not reproduce this layer's results.`);
}

function lastDim(r: ConfigReader, inputShape: Shape, minRank: number): number {
  const d = inputShape[inputShape.length - 1];
  if (inputShape.length < minRank || typeof d !== 'number' || d <= 0) {
    r.fail(`needs an input of rank >= ${minRank} with a known, positive last dimension; its input shape is ${preview(inputShape)}.`);
  }
  return d;
}

function embedding(r: ConfigReader, inputShape: Shape) {
  r.refuseIfSet('quantization_config', 'quantized embeddings are stored in another layout');
  r.refuseIfSet('lora_rank', 'LoRA adapters add weights gru does not apply');
  r.refuseIfSet('sparse', 'sparse outputs are not supported');
  const inputDim = r.positiveInt('input_dim');
  const outputDim = r.positiveInt('output_dim');
  r.bool('mask_zero', false);
  if (inputShape.length < 1) r.fail(`needs an input of rank >= 1; its input shape is ${preview(inputShape)}.`);
  return {
    outputShapes: [[...inputShape, outputDim]],
    weights: [{ name: 'embeddings', shape: [inputDim, outputDim], keras3Path: 'vars/0' }],
  };
}

function dense(r: ConfigReader, inputShape: Shape, compat: Compat) {
  r.refuseIfSet('quantization_config', 'quantized kernels are stored in another layout');
  r.refuseIfSet('lora_rank', 'LoRA adapters add weights gru does not apply');
  const units = r.positiveInt('units');
  const useBias = r.bool('use_bias', true);
  denseActivation(r.config.activation, compat, r);
  const inputDim = lastDim(r, inputShape, 2);
  const weights: WeightSpec[] = [{ name: 'kernel', shape: [inputDim, units], keras3Path: 'vars/0' }];
  if (useBias) weights.push({ name: 'bias', shape: [units], keras3Path: 'vars/1' });
  return { outputShapes: [[...inputShape.slice(0, -1), units]], weights };
}

/** Dense's activation through core's table (Keras 2 files get Keras 2's 'hard_sigmoid'). */
export function denseActivation(identifier: unknown, compat: Compat, r: ConfigReader): string {
  let id: string;
  try {
    id = resolveActivation(identifier ?? 'linear', compat);
  } catch (err) {
    return r.unsupported(`activation ${preview(identifier)} is not a built-in Keras activation (${describeThrown(err)}).`);
  }
  const def = activationDef(id);
  if (!def.f && !def.row) r.unsupported(`activation '${def.name}' cannot be applied by a Dense layer: ${def.unusable}.`);
  return id;
}

export interface GruSettings {
  units: number;
  useBias: boolean;
  resetAfter: boolean;
  returnSequences: boolean;
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
  if (c.returnState) {
    throw new UnsupportedLayerError(
      'GRU',
      name,
      `${where}: return_state=True is not supported in a loaded model (the layer would pass a list to the next layer).`,
    );
  }
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
    goBackwards: c.goBackwards,
    stateful: c.stateful,
    config: coreConfig,
  };
}

function gruWeights(s: GruSettings, inputDim: number, path: string, prefix: string): WeightSpec[] {
  const G = 3 * s.units;
  const weights: WeightSpec[] = [
    { name: `${prefix}kernel`, shape: [inputDim, G], keras3Path: `${path}/0` },
    { name: `${prefix}recurrent_kernel`, shape: [s.units, G], keras3Path: `${path}/1` },
  ];
  if (s.useBias) weights.push({ name: `${prefix}bias`, shape: s.resetAfter ? [2, G] : [G], keras3Path: `${path}/2` });
  return weights;
}

function gruShapes(s: GruSettings, inputShape: Shape, r: ConfigReader, path: string, prefix: string) {
  if (inputShape.length !== 3) r.fail(`needs a rank-3 input (batch, timesteps, features); its input shape is ${preview(inputShape)}.`);
  const inputDim = lastDim(r, inputShape, 3);
  const [batch, time] = inputShape;
  return {
    outputShapes: [s.returnSequences ? [batch, time, s.units] : [batch, s.units]],
    weights: gruWeights(s, inputDim, path, prefix),
  };
}

const MERGE_MODES = ['concat', 'sum', 'mul', 'ave'];

function innerGru(value: unknown, r: ConfigReader, key: string): Record<string, unknown> {
  if (!isObject(value) || typeof value.class_name !== 'string' || !isObject(value.config)) {
    r.fail(`\`${key}\` must be a serialized layer {class_name, config}, found ${preview(value)}.`);
  }
  if (value.class_name !== 'GRU') {
    throw new UnsupportedLayerError(
      `Bidirectional(${value.class_name})`,
      r.layerName,
      `${r.where}: wraps a ${value.class_name}; gru runs Bidirectional(GRU) only.`,
    );
  }
  return { ...value.config };
}

const withoutPrefix = (name: unknown, prefix: string) => (typeof name === 'string' && name.startsWith(prefix) ? name.slice(prefix.length) : String(name));

/**
 * Keras's Bidirectional rebuilds its two layers from `layer` (and `backward_layer` when given):
 * the forward copy is renamed 'forward_<name>', the default backward copy is renamed
 * 'backward_<name>' with go_backwards set (Keras 3) or flipped (Keras 2), and both get
 * zero_output_for_mask = return_sequences. The same is done here.
 */
export function bidirectionalConfigs(config: Record<string, unknown>, compat: Compat, r: ConfigReader) {
  const layer = innerGru(config.layer, r, 'layer');
  const forward: Record<string, unknown> = { ...layer, name: `forward_${withoutPrefix(layer.name, 'forward_')}` };
  let backward: Record<string, unknown>;
  if (config.backward_layer !== undefined && config.backward_layer !== null) {
    backward = innerGru(config.backward_layer, r, 'backward_layer');
  } else {
    backward = {
      ...layer,
      go_backwards: compat === 'keras3' ? true : !(layer.go_backwards === true),
      name: `backward_${withoutPrefix(layer.name, 'backward_')}`,
    };
  }
  for (const c of [forward, backward]) c.zero_output_for_mask = c.return_sequences === true;
  return { forward, backward };
}

function bidirectional(r: ConfigReader, inputShape: Shape, compat: Compat) {
  const mergeMode = r.config.merge_mode === undefined ? 'concat' : r.config.merge_mode;
  if (mergeMode !== null && !MERGE_MODES.includes(mergeMode as string)) {
    r.fail(`\`merge_mode\` must be one of concat, sum, mul, ave or null, found ${preview(mergeMode)}.`);
  }
  const inner = bidirectionalConfigs(r.config, compat, r);
  const fwd = gruSettings(inner.forward, compat, `${r.where} forward layer`);
  const bwd = gruSettings(inner.backward, compat, `${r.where} backward layer`);
  if (fwd.goBackwards === bwd.goBackwards) {
    r.fail(`its forward and backward layers must differ in go_backwards (both are ${fwd.goBackwards}).`);
  }
  for (const key of ['stateful', 'returnSequences'] as const) {
    if (fwd[key] !== bwd[key]) r.fail(`its forward and backward layers must agree on ${key} (${fwd[key]} vs ${bwd[key]}).`);
  }
  if (mergeMode !== 'concat' && mergeMode !== null && fwd.units !== bwd.units) {
    r.fail(`merge_mode '${String(mergeMode)}' needs forward and backward layers of equal units (${fwd.units} vs ${bwd.units}).`);
  }
  const f = gruShapes(fwd, inputShape, r, 'forward_layer/cell/vars', 'forward/');
  const b = gruShapes(bwd, inputShape, r, 'backward_layer/cell/vars', 'backward/');
  const [batch, time] = inputShape;
  const width = mergeMode === 'concat' ? fwd.units + bwd.units : fwd.units;
  const one: Shape = fwd.returnSequences ? [batch, time, width] : [batch, width];
  return {
    inner: { forward: fwd.config, backward: bwd.config },
    outputShapes: mergeMode === null ? [f.outputShapes[0], b.outputShapes[0]] : [one],
    weights: [...f.weights, ...b.weights],
  };
}
