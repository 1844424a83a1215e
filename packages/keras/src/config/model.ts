import { KerasFileError, LimitError, UnsupportedLayerError } from '../errors.js';
import { isObject, preview } from '../io/json.js';
import type { LoadLimits } from '../limits.js';
import { layerSpec } from './layers.js';
import { checkConfigIsSafe } from './safety.js';
import type { LayerSpec, ModelSpec, Shape } from './spec.js';
import { readShape } from './values.js';

type Compat = ModelSpec['compat'];

interface LayerEntry {
  className: string;
  config: Record<string, unknown>;
  raw: Record<string, unknown>;
}

/**
 * Which Keras wrote a file, from the version it records. Keras 1 files are refused: their GRU
 * weights are laid out differently and gru does not convert them.
 */
export function compatFor(kerasVersion: string | undefined, fallback: Compat | undefined, where: string): Compat {
  if (kerasVersion !== undefined) {
    if (/^3\./.test(kerasVersion)) return 'keras3';
    if (/^2\./.test(kerasVersion)) return 'keras2';
    if (/^1\./.test(kerasVersion)) {
      throw new KerasFileError(`${where} was written by Keras ${kerasVersion}; Keras 1 files are not supported (re-save the model with Keras 2 or 3).`);
    }
  }
  if (fallback) return fallback;
  throw new KerasFileError(
    `${where} records Keras version ${preview(kerasVersion)}, so it cannot tell Keras 2 semantics from Keras 3 (they differ, e.g. in 'hard_sigmoid'). ` +
      "Pass {compat: 'keras2'} or {compat: 'keras3'} to loadModel.",
  );
}

/** `{class_name, config}` as the file has it, also accepting a bare Sequential/Functional config. */
export function unwrapModelConfig(value: unknown, where: string): { className: string; config: Record<string, unknown>; whole: Record<string, unknown> } {
  if (!isObject(value)) throw new KerasFileError(`${where}: the model config must be a JSON object, found ${preview(value)}.`);
  if (typeof value.class_name === 'string' && isObject(value.config)) return { className: value.class_name, config: value.config, whole: value };
  if (Array.isArray(value.layers)) {
    return { className: 'input_layers' in value ? 'Functional' : 'Sequential', config: value, whole: value };
  }
  throw new KerasFileError(`${where}: expected a model config {class_name, config: {layers: [...]}}, found ${preview(value)}.`);
}

function readEntry(item: unknown, index: number, where: string): LayerEntry {
  if (!isObject(item) || typeof item.class_name !== 'string' || !isObject(item.config)) {
    throw new KerasFileError(`${where}: layer #${index} must be {class_name, config}, found ${preview(item)}.`);
  }
  return { className: item.class_name, config: item.config, raw: item };
}

function inputFromInputLayer(entry: LayerEntry, where: string): ModelSpec['input'] {
  const c = entry.config;
  const name = typeof c.name === 'string' ? c.name : 'input';
  let shape: Shape | undefined;
  if (c.batch_shape !== undefined && c.batch_shape !== null) shape = readShape(c.batch_shape, `${where}: InputLayer '${name}' batch_shape`);
  else if (c.batch_input_shape !== undefined && c.batch_input_shape !== null)
    shape = readShape(c.batch_input_shape, `${where}: InputLayer '${name}' batch_input_shape`);
  else if (c.shape !== undefined && c.shape !== null) shape = [null, ...readShape(c.shape, `${where}: InputLayer '${name}' shape`)];
  if (!shape) throw new KerasFileError(`${where}: InputLayer '${name}' records no input shape.`);
  if (c.sparse === true || c.ragged === true) {
    throw new UnsupportedLayerError('InputLayer', name, `${where}: InputLayer '${name}' takes sparse or ragged tensors, which gru does not support.`);
  }
  return { name, shape, dtype: typeof c.dtype === 'string' ? c.dtype : 'float32' };
}

/** Sequential: an optional InputLayer, then the layers; the input shape comes from wherever Keras recorded it. */
function sequentialChain(config: Record<string, unknown>, where: string): { input: ModelSpec['input']; chain: LayerEntry[]; saveables: LayerEntry[] } {
  const items = config.layers as unknown[];
  const entries = items.map((item, i) => readEntry(item, i, where));
  let input: ModelSpec['input'] | undefined;
  let chain = entries;
  if (entries[0]?.className === 'InputLayer') {
    input = inputFromInputLayer(entries[0], where);
    chain = entries.slice(1);
  }
  if (chain.some((e) => e.className === 'InputLayer')) throw new KerasFileError(`${where}: an InputLayer may only come first in a Sequential model.`);
  if (!input && chain.length) {
    const first = chain[0];
    const c = first.config;
    const recorded =
      c.batch_input_shape ?? c.batch_shape ?? config.build_input_shape ?? (isObject(first.raw.build_config) ? first.raw.build_config.input_shape : undefined);
    if (recorded === undefined || recorded === null) {
      throw new KerasFileError(
        `${where}: the model records no input shape (no InputLayer, batch_input_shape or build_input_shape), so its weight shapes cannot be checked.`,
      );
    }
    input = { name: 'input', shape: readShape(recorded, `${where}: the recorded input shape`), dtype: typeof c.dtype === 'string' ? c.dtype : 'float32' };
  }
  if (!input) throw new KerasFileError(`${where}: the model has no layers.`);
  return { input, chain, saveables: chain };
}

/** An inbound tensor reference [layer, node, tensor] from a Keras 2 or Keras 3 functional config. */
interface Inbound {
  layer: string;
  node: number;
  tensor: number;
}

function readInbound(entry: LayerEntry, where: string): Inbound[] {
  const nodes = entry.raw.inbound_nodes;
  const name = String(entry.config.name ?? entry.raw.name);
  if (!Array.isArray(nodes)) throw new KerasFileError(`${where}: layer '${name}' has no inbound_nodes list.`);
  if (nodes.length === 0) return [];
  if (nodes.length > 1) {
    throw new UnsupportedLayerError(
      entry.className,
      name,
      `${where}: layer '${name}' is called ${nodes.length} times (shared layer); only linear models are supported.`,
    );
  }
  const node = nodes[0];
  const refs: Inbound[] = [];
  const notLinear = (why: string) =>
    new UnsupportedLayerError(entry.className, name, `${where}: layer '${name}' ${why}; only linear models (one input tensor per layer) are supported.`);
  if (Array.isArray(node)) {
    // Keras 2: [[layer, node, tensor, kwargs], ...]
    for (const ref of node) {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string')
        throw new KerasFileError(`${where}: layer '${name}' has a malformed inbound node ${preview(ref)}.`);
      if (isObject(ref[3]) && Object.keys(ref[3]).length) throw notLinear(`is called with arguments ${preview(ref[3])}`);
      refs.push({ layer: ref[0], node: Number(ref[1]), tensor: Number(ref[2]) });
    }
  } else if (isObject(node) && Array.isArray(node.args)) {
    // Keras 3: {args: [keras_tensor, ...], kwargs: {...}}
    for (const arg of node.args) {
      const history = isObject(arg) && isObject(arg.config) ? arg.config.keras_history : undefined;
      if (!Array.isArray(history) || typeof history[0] !== 'string') throw notLinear(`takes a non-tensor or nested argument ${preview(arg)}`);
      refs.push({ layer: history[0], node: Number(history[1]), tensor: Number(history[2]) });
    }
    const kwargs = isObject(node.kwargs) ? node.kwargs : {};
    for (const [k, v] of Object.entries(kwargs)) {
      if (v !== null && typeof v !== 'boolean') throw notLinear(`is called with ${k}=${preview(v)}`);
    }
  } else {
    throw new KerasFileError(`${where}: layer '${name}' has a malformed inbound node ${preview(node)}.`);
  }
  if (refs.length !== 1) throw notLinear(`takes ${refs.length} inputs`);
  if (refs[0].node !== 0 || refs[0].tensor !== 0) throw notLinear(`takes output #${refs[0].tensor} of node #${refs[0].node} of '${refs[0].layer}'`);
  return refs;
}

function endpoint(value: unknown, key: string, where: string): string {
  const list = Array.isArray(value) && Array.isArray(value[0]) ? value : [value];
  if (list.length !== 1 || !Array.isArray(list[0]) || typeof list[0][0] !== 'string') {
    throw new KerasFileError(
      `${where}: \`${key}\` must name exactly one layer; found ${preview(value)}. Only single-input, single-output models are supported.`,
    );
  }
  if (list[0][1] !== 0 || list[0][2] !== 0) throw new KerasFileError(`${where}: \`${key}\` must be the first output of its layer, found ${preview(list[0])}.`);
  return list[0][0] as string;
}

/** Functional: accepted when its graph is one chain from the input to the output. */
function functionalChain(config: Record<string, unknown>, where: string): { input: ModelSpec['input']; chain: LayerEntry[]; saveables: LayerEntry[] } {
  const entries = (config.layers as unknown[]).map((item, i) => readEntry(item, i, where));
  const byName = new Map<string, LayerEntry>();
  const consumers = new Map<string, string[]>();
  for (const e of entries) {
    const name = typeof e.raw.name === 'string' ? e.raw.name : e.config.name;
    if (typeof name !== 'string') throw new KerasFileError(`${where}: a ${e.className} layer has no name.`);
    if (byName.has(name)) throw new KerasFileError(`${where}: two layers are named '${name}'.`);
    byName.set(name, e);
  }
  for (const [name, e] of byName) {
    for (const ref of readInbound(e, where)) {
      if (!byName.has(ref.layer)) throw new KerasFileError(`${where}: layer '${name}' takes its input from '${ref.layer}', which is not in the model.`);
      consumers.set(ref.layer, [...(consumers.get(ref.layer) ?? []), name]);
    }
  }
  const inputName = endpoint(config.input_layers, 'input_layers', where);
  const outputName = endpoint(config.output_layers, 'output_layers', where);
  const inputEntry = byName.get(inputName);
  if (inputEntry?.className !== 'InputLayer') throw new KerasFileError(`${where}: input layer '${inputName}' is not an InputLayer in the model.`);
  const input = inputFromInputLayer(inputEntry, where);
  const chain: LayerEntry[] = [];
  let current = inputName;
  while (current !== outputName) {
    const next = consumers.get(current) ?? [];
    if (next.length !== 1) {
      throw new UnsupportedLayerError(
        byName.get(current)?.className ?? 'Layer',
        current,
        `${where}: the output of '${current}' goes to ${next.length ? next.map((n) => `'${n}'`).join(', ') : 'no layer'}; only linear models are supported.`,
      );
    }
    current = next[0];
    chain.push(byName.get(current) as LayerEntry);
    if (chain.length > entries.length) throw new KerasFileError(`${where}: the layer graph has a cycle.`);
  }
  const onChain = new Set([inputName, ...chain.map((e) => String(e.raw.name ?? e.config.name))]);
  const stray = [...byName.keys()].filter((n) => !onChain.has(n));
  if (stray.length) throw new KerasFileError(`${where}: layer(s) ${stray.map((n) => `'${n}'`).join(', ')} are not on the path from input to output.`);
  return { input, chain, saveables: entries };
}

/** Prefixes a layer's error with the file part it came from, keeping its class. */
function withContext<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KerasFileError && !err.message.startsWith(where)) err.message = `${where}: ${err.message}`;
    throw err;
  }
}

const INPUT_DTYPES = new Set(['float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool']);

/** Keras's `naming.to_snake_case`, which names each layer's group in a Keras 3 weights file. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * Keras 3 saves a model's layers under `layers/<snake_case class name>`, numbered `_1`, `_2`
 * for repeats, in `model.layers` order (which for a Functional model includes its InputLayer).
 */
function keras3Groups(saveables: LayerEntry[]): Map<LayerEntry, string> {
  const used = new Map<string, number>();
  const out = new Map<LayerEntry, string>();
  for (const e of saveables) {
    const base = toSnakeCase(e.className);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    out.set(e, `layers/${n === undefined ? base : `${base}_${n + 1}`}`);
  }
  return out;
}

/**
 * Turns a model config into a ModelSpec: checks it holds no code or custom objects, that it is a
 * linear Sequential or Functional model of supported layers, and works out every layer's shapes
 * and weight shapes, bounded by `limits`.
 */
export function modelSpec(modelConfig: unknown, kerasVersion: string, compat: Compat, limits: LoadLimits, where: string): ModelSpec {
  checkConfigIsSafe(modelConfig, where);
  const { className, config, whole } = unwrapModelConfig(modelConfig, where);
  if (!Array.isArray(config.layers)) throw new KerasFileError(`${where}: the model config has no \`layers\` list.`);
  if (config.layers.length > limits.maxLayers) {
    throw new LimitError('maxLayers', `${where}: the model has ${config.layers.length} layers, over the limit of ${limits.maxLayers} (limits.maxLayers).`);
  }
  let parsed: ReturnType<typeof sequentialChain>;
  let kind: ModelSpec['className'];
  if (className === 'Sequential') {
    parsed = sequentialChain(config, where);
    kind = 'Sequential';
  } else if (className === 'Functional' || className === 'Model') {
    parsed = functionalChain(config, where);
    kind = 'Functional';
  } else {
    throw new UnsupportedLayerError(
      className,
      String(config.name ?? className),
      `${where}: model class '${className}' is not supported; gru loads Sequential and Functional models.`,
    );
  }
  if (!INPUT_DTYPES.has(parsed.input.dtype)) {
    throw new UnsupportedLayerError(
      'InputLayer',
      parsed.input.name,
      `${where}: input '${parsed.input.name}' has dtype '${parsed.input.dtype}'; gru takes float32, float64, integer or bool inputs.`,
    );
  }
  const groups = keras3Groups(parsed.saveables);
  const names = new Set<string>([parsed.input.name]);
  const layers: LayerSpec[] = [];
  let shape = parsed.input.shape;
  let parameters = 0;
  parsed.chain.forEach((entry, i) => {
    const spec = withContext(where, () => layerSpec(entry.className, entry.config, shape, compat));
    if (names.has(spec.name)) throw new KerasFileError(`${where}: two layers are named '${spec.name}'.`);
    names.add(spec.name);
    if (spec.outputShapes.length > 1 && i !== parsed.chain.length - 1) {
      throw new UnsupportedLayerError(
        spec.className,
        spec.name,
        `${where}: layer '${spec.name}' returns ${spec.outputShapes.length} tensors (merge_mode=None) and is not the last layer; only linear models are supported.`,
      );
    }
    for (const w of spec.weights) {
      parameters += w.shape.reduce((a, b) => a * b, 1);
      if (parameters > limits.maxParameters) {
        throw new LimitError(
          'maxParameters',
          `${where}: the model declares more than ${limits.maxParameters} weight values (limits.maxParameters); layer '${spec.name}' needs ${w.name} of shape ${preview(w.shape)}.`,
        );
      }
    }
    layers.push({ ...spec, keras3Group: groups.get(entry) as string });
    shape = spec.outputShapes[0];
  });
  return {
    name: typeof config.name === 'string' ? config.name : kind.toLowerCase(),
    className: kind,
    kerasVersion,
    compat,
    input: parsed.input,
    layers,
    config: whole,
    parameterCount: parameters,
  };
}
