import { KerasFileError, LimitError, UnsupportedLayerError } from '../errors.js';
import { isObject, preview } from '../io/json.js';
import type { LoadLimits } from '../limits.js';
import { buildGraph } from '../graph/build.js';
import { inlineNested } from '../graph/nested.js';
import { parseFunctional, parseSequential, type RawGraph, type RawLayer } from '../graph/parse.js';
import { checkConfigIsSafe, SUBCLASSED_MODEL_HINT } from './safety.js';
import type { ModelSpec } from './spec.js';

type Compat = ModelSpec['compat'];

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
 * for repeats, in `model.layers` order (which for a Functional model includes its InputLayer
 * and leaves out op nodes).
 */
function keras3Groups(saveables: RawLayer[]): Map<RawLayer, string> {
  const used = new Map<string, number>();
  const out = new Map<RawLayer, string>();
  for (const e of saveables) {
    const base = toSnakeCase(e.className);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    out.set(e, `layers/${n === undefined ? base : `${base}_${n + 1}`}`);
  }
  return out;
}

/** Keras's preprocessing layers that take strings inside a model. */
const STRING_LAYERS = new Set(['TextVectorization', 'StringLookup', 'Hashing', 'HashedCrossing']);

/** Where a string input feeds a text preprocessing layer: name it, and the way out. */
function stringLayerHint(raw: RawGraph): string {
  const layer = raw.layers.find((l) => STRING_LAYERS.has(l.className));
  if (!layer) return '';
  return (
    ` Its layer '${layer.name}' (${layer.className}) turns strings into ids inside the model, which gru does not run: ` +
    'apply it outside (in Keras, save the model that starts from its output: keras.Model(ids_input, outputs)) and give gru the ids.'
  );
}

/** The graph a model class names: Keras's functional `Model` is a Functional graph. */
function modelKind(className: string): ModelSpec['className'] | undefined {
  if (className === 'Sequential') return 'Sequential';
  if (className === 'Functional' || className === 'Model') return 'Functional';
  return undefined;
}

/**
 * Turns a model config into a ModelSpec: checks it holds no code or custom objects, that it is a
 * Sequential or Functional graph of supported layers, and works out every call's shapes and
 * every layer's weight shapes, bounded by `limits`.
 */
export function modelSpec(modelConfig: unknown, kerasVersion: string, compat: Compat, limits: LoadLimits, where: string): ModelSpec {
  checkConfigIsSafe(modelConfig, where);
  const { className, config, whole } = unwrapModelConfig(modelConfig, where);
  const kind = modelKind(className);
  if (kind === undefined) {
    throw new UnsupportedLayerError(
      className,
      String(config.name ?? className),
      `${where}: model class '${className}' is not supported; gru loads Sequential and Functional models (${SUBCLASSED_MODEL_HINT})`,
    );
  }
  if (!Array.isArray(config.layers)) throw new KerasFileError(`${where}: the model config has no \`layers\` list.`);
  if (config.layers.length > limits.maxLayers) {
    throw new LimitError('maxLayers', `${where}: the model has ${config.layers.length} layers, over the limit of ${limits.maxLayers} (limits.maxLayers).`);
  }
  const raw: RawGraph = withContext(where, () => (kind === 'Sequential' ? parseSequential(config, where) : parseFunctional(config, where)));
  for (const input of raw.inputs) {
    if (!INPUT_DTYPES.has(input.spec.dtype)) {
      throw new UnsupportedLayerError(
        'InputLayer',
        input.spec.name,
        `${where}: input '${input.spec.name}' has dtype '${input.spec.dtype}'; gru takes float32, float64, integer or bool inputs.` + stringLayerHint(raw),
      );
    }
  }
  const groups = keras3Groups(raw.saveables);
  const flat = withContext(where, () => inlineNested(raw, groups, keras3Groups, where));
  if (flat.layers.length > limits.maxLayers) {
    throw new LimitError(
      'maxLayers',
      `${where}: the model has ${flat.layers.length} layers counting those of its nested models, over the limit of ${limits.maxLayers} (limits.maxLayers).`,
    );
  }
  const graph = withContext(where, () => buildGraph(flat, compat, limits, groups, where));
  if (kind === 'Sequential') {
    graph.nodes.forEach((n, i) => {
      const spec = graph.layers[n.layer];
      // Inside a nested model, layers pass whatever its own graph says.
      if (n.nested !== undefined) return;
      if (n.outputShapes.length > 1 && i !== graph.nodes.length - 1) {
        throw new UnsupportedLayerError(
          spec.className,
          spec.name,
          `${where}: layer '${spec.name}' returns ${n.outputShapes.length} tensors and is not the last layer of a Sequential model, which passes one tensor from layer to layer.`,
        );
      }
    });
  }
  const inputs = raw.inputs.map((i) => i.spec);
  return {
    name: typeof config.name === 'string' ? config.name : kind.toLowerCase(),
    className: kind,
    kerasVersion,
    compat,
    input: inputs[0],
    inputs,
    ...(raw.inputKeys ? { inputKeys: raw.inputKeys } : {}),
    ...(raw.outputKeys ? { outputKeys: raw.outputKeys } : {}),
    layers: graph.layers,
    nodes: graph.nodes,
    outputs: graph.outputs,
    outputShapes: graph.outputShapes,
    config: whole,
    parameterCount: graph.parameterCount,
    ...(graph.nestedOutputShapes ? { nestedOutputShapes: graph.nestedOutputShapes } : {}),
  };
}
