import type { Arg, CallOf, InputSpec, Shape } from '../config/spec.js';
import { readShape } from '../config/values.js';
import { KerasFileError, UnsupportedLayerError } from '../errors.js';
import { isObject, preview } from '../io/json.js';

/** A tensor as a config names it: output `tensor` of call `node` of layer `layer`. */
export interface RawRef {
  layer: string;
  node: number;
  tensor: number;
}

/** One entry of a config's `layers` list, with its calls. */
export interface RawLayer {
  className: string;
  name: string;
  config: Record<string, unknown>;
  raw: Record<string, unknown>;
  /** A Keras 3 op node (module `keras.src.ops.*`). */
  op: boolean;
  calls: CallOf<RawRef>[];
  /** Inlined from a nested model: the outermost one it belongs to (see inlineNested). */
  nestedIn?: string;
  /** Inlined from a nested model saved with `trainable: false` (at any level). */
  frozen?: boolean;
  /** Inlined from a nested model: for each call, which call of the outermost nested model made it. */
  nestedCalls?: number[];
}

/** A model config read into plain data: inputs, layers with their calls, outputs. */
export interface RawGraph {
  inputs: { layer: string; spec: InputSpec }[];
  /** Every layer and op but the InputLayers, in config order. */
  layers: RawLayer[];
  /** The outputs; `tensor: -1` means every output of the layer (a Sequential's last layer). */
  outputs: RawRef[];
  /** The layers Keras saves weights for, in `model.layers` order (a Functional's InputLayers included). */
  saveables: RawLayer[];
  /** A model built on a dict of inputs: its keys, sorted by code point, in `inputs` order (predict takes `{key: x}`). */
  inputKeys?: string[];
  /** A model returning a dict of outputs: its keys, sorted by code point, in `outputs` order. */
  outputKeys?: string[];
  /**
   * The outputs were read from a Functional config's `output_layers` (where Keras counts a nested
   * Functional's built-in node among its calls), not made up from a Sequential's last layer.
   */
  outputsFromConfig?: boolean;
  /** Each nested model (set by inlineNested): every call's outputs, followed to the tensors they are. */
  nestedReturns?: Map<string, RawRef[][]>;
}

const emptyCall = (): CallOf<RawRef> => ({ args: [], named: {}, mask: null, kwargs: {} });

/**
 * The Keras 3.15.1 layers whose get_config writes no `trainable` key (it does not call the base
 * Layer's): in a legacy .h5 record, where `module` is gone, they look like op nodes otherwise.
 * None of them shares its class name with a Keras op.
 */
const LAYERS_WITHOUT_TRAINABLE = new Set([
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'Discretization',
  'HashedCrossing',
  'Pipeline',
  'FeatureSpace',
]);

/**
 * Keras 3's legacy .h5 configs drop `module` (and `registered_name`), so an op node is told from a
 * layer, in a Keras 3 call record, by what Keras 3 writes for layers and never for an op: a
 * `trainable` key. The class name cannot tell them: Keras ops share names with layers (ops.reshape
 * is `Reshape`, ops.average `Average`, ops.softmax `Softmax`), whether or not gru runs the op.
 */
function recordsOp(item: Record<string, unknown>): boolean {
  const nodes = item.inbound_nodes;
  const keras3 = Array.isArray(nodes) && nodes.length > 0 && nodes.every((n) => isObject(n) && 'args' in n);
  if (!keras3 || item.class_name === 'InputLayer' || !isObject(item.config)) return false;
  if (LAYERS_WITHOUT_TRAINABLE.has(item.class_name as string)) return false;
  return !('trainable' in item.config);
}

function readEntry(item: unknown, index: number, where: string): RawLayer {
  if (!isObject(item) || typeof item.class_name !== 'string' || !isObject(item.config)) {
    throw new KerasFileError(`${where}: layer #${index} must be {class_name, config}, found ${preview(item)}.`);
  }
  const name = typeof item.name === 'string' ? item.name : item.config.name;
  if (typeof name !== 'string' || !name) throw new KerasFileError(`${where}: a ${item.class_name} layer config has no name: ${preview(item.config)}.`);
  const op = typeof item.module === 'string' ? /^keras\.src\.ops(\.|$)/.test(item.module) : recordsOp(item);
  return { className: item.class_name, name, config: item.config, raw: item, op, calls: [] };
}

function inputFromInputLayer(entry: RawLayer, where: string): InputSpec {
  const c = entry.config;
  const name = entry.name;
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

/** Sequential: an optional InputLayer, then the layers, each called on the previous one's output. */
export function parseSequential(config: Record<string, unknown>, where: string): RawGraph {
  const entries = (config.layers as unknown[]).map((item, i) => readEntry(item, i, where));
  let input: InputSpec | undefined;
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
  const names = new Set<string>([input.name]);
  let previous: RawRef = { layer: input.name, node: 0, tensor: 0 };
  for (const e of chain) {
    if (names.has(e.name)) throw new KerasFileError(`${where}: two layers are named '${e.name}'.`);
    names.add(e.name);
    e.calls.push({ ...emptyCall(), args: [{ tensor: previous }] });
    previous = { layer: e.name, node: 0, tensor: 0 };
  }
  const last = chain.length ? { layer: chain[chain.length - 1].name, node: 0, tensor: -1 } : { layer: input.name, node: 0, tensor: 0 };
  return { inputs: [{ layer: input.name, spec: input }], layers: chain, outputs: [last], saveables: chain };
}

function isKerasTensor(v: unknown): v is { config: { keras_history: unknown[] } } {
  return isObject(v) && v.class_name === '__keras_tensor__' && isObject(v.config) && Array.isArray(v.config.keras_history);
}

function historyRef(history: unknown[], fail: (m: string) => never): RawRef {
  const [layer, node, tensor] = history;
  if (typeof layer !== 'string' || !Number.isInteger(node) || !Number.isInteger(tensor) || (node as number) < 0 || (tensor as number) < 0) {
    fail(`refers to a tensor ${preview(history)} that is not [layer, node, tensor].`);
  }
  return { layer, node: node as number, tensor: tensor as number };
}

const isPlain = (v: unknown) => v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string';

/** A part of an index (`x[:, -1]`) as Keras 3 serializes it: an int, None, a slice or Ellipsis. */
const isIndexPart = (v: unknown) => isPlain(v) || (isObject(v) && (v.class_name === '__slice__' || v.class_name === '__ellipsis__') && isObject(v.config));

type Fail = (m: string) => never;

/**
 * One positional argument of a Keras 3 call: a tensor, a list of tensors, or a plain value (an
 * index such as `[slice, -1]` included; the op checks it). Anything else is a structure gru does
 * not run, which is not a sign of a corrupt file: `unsupported` says so.
 */
function keras3Arg(v: unknown, fail: Fail, unsupported: Fail): Arg<RawRef> {
  if (isKerasTensor(v)) return { tensor: historyRef(v.config.keras_history, fail) };
  if (Array.isArray(v)) {
    if (v.length && v.every(isKerasTensor)) return { list: v.map((t) => historyRef(t.config.keras_history, fail)) };
    if (v.every(isIndexPart)) return { value: v };
  }
  if (isIndexPart(v)) return { value: v };
  return unsupported(`takes an argument gru does not support (a nested structure): ${preview(v)}.`);
}

/** Keras 3: `{args: [...], kwargs: {...}}` with tensors as `__keras_tensor__` objects naming their history. */
function keras3Call(node: Record<string, unknown>, fail: Fail, unsupported: Fail): CallOf<RawRef> {
  const call = emptyCall();
  if (!Array.isArray(node.args)) fail(`has a malformed inbound node ${preview(node)}.`);
  call.args = (node.args as unknown[]).map((a) => keras3Arg(a, fail, unsupported));
  const kwargs = isObject(node.kwargs) ? node.kwargs : {};
  for (const [k, v] of Object.entries(kwargs)) {
    const refs = isKerasTensor(v) ? [v] : Array.isArray(v) && v.length && v.every((x) => x === null || isKerasTensor(x)) ? v : undefined;
    if (k === 'mask') {
      if (v === null) continue;
      if (!refs) fail(`is called with mask=${preview(v)}, which is not a tensor.`);
      call.mask = (refs as unknown[]).map((t) => (t === null ? null : historyRef((t as { config: { keras_history: unknown[] } }).config.keras_history, fail)));
    } else if (refs) {
      if (refs.some((t) => t === null)) fail(`is called with ${k}=${preview(v)}, a list holding None.`);
      call.named[k] = (refs as { config: { keras_history: unknown[] } }[]).map((t) => historyRef(t.config.keras_history, fail));
    } else if (isPlain(v)) call.kwargs[k] = v;
    else unsupported(`is called with ${k}=${preview(v)}, which gru does not support.`);
  }
  return call;
}

/** Keras 2: `[[layer, node, tensor, kwargs], ...]`: one entry is one tensor, several a list. */
function keras2Call(node: unknown[], fail: (m: string) => never): CallOf<RawRef> {
  const call = emptyCall();
  const refs: RawRef[] = [];
  for (const ref of node) {
    if (!Array.isArray(ref) || typeof ref[0] !== 'string') fail(`has a malformed inbound node ${preview(ref)}.`);
    refs.push(historyRef((ref as unknown[]).slice(0, 3), fail));
    const kwargs = (ref as unknown[])[3];
    if (isObject(kwargs)) {
      for (const [k, v] of Object.entries(kwargs)) {
        if (k === 'mask' && v === null) continue;
        if (!isPlain(v)) fail(`is called with ${k}=${preview(v)}, which gru cannot read.`);
        call.kwargs[k] = v;
      }
    }
  }
  if (refs.length === 0) fail('has an inbound node with no tensors.');
  call.args = refs.length === 1 ? [{ tensor: refs[0] }] : [{ list: refs }];
  return call;
}

/** Python's `sorted` on strings: by code point (JS's `<` compares UTF-16 units, which differs past U+FFFF). */
export function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * A model's `input_layers` / `output_layers`: one [layer, node, tensor] entry, a list of them, or
 * (Keras 3's `keras.Model({"a": x}, {"y": out})`) an object of them, whose keys come back sorted as
 * Python sorts them: the order of Keras's `model.inputs`/`model.outputs` (its tree utilities
 * flatten a dict by sorted key), and of the dict Keras 3.15.1's predict returns on jax. (The file's
 * own key order is not kept: JSON.parse puts integer-like keys first.)
 */
function endpoints(value: unknown, key: string, where: string): { refs: RawRef[]; keys?: string[] } {
  const keyed = isObject(value) && !Array.isArray(value);
  const keys = keyed ? Object.keys(value).sort(byCodePoint) : undefined;
  const list = keys ? keys.map((k) => (value as Record<string, unknown>)[k]) : Array.isArray(value) && Array.isArray(value[0]) ? value : [value];
  if (!list.length) throw new KerasFileError(`${where}: \`${key}\` names no layer.`);
  const refs = list.map((item) => {
    if (!Array.isArray(item) || typeof item[0] !== 'string')
      throw new KerasFileError(`${where}: \`${key}\` must list [layer, node, tensor] entries, found ${preview(value)}.`);
    return historyRef(item, (m) => {
      throw new KerasFileError(`${where}: \`${key}\` ${m}`);
    });
  });
  return keys ? { refs, keys } : { refs };
}

/** Functional (Keras 2 or 3): layers with their inbound nodes, inputs and outputs by reference. */
export function parseFunctional(config: Record<string, unknown>, where: string): RawGraph {
  const entries = (config.layers as unknown[]).map((item, i) => readEntry(item, i, where));
  const byName = new Map<string, RawLayer>();
  for (const e of entries) {
    if (byName.has(e.name)) throw new KerasFileError(`${where}: two layers are named '${e.name}'.`);
    byName.set(e.name, e);
  }
  for (const e of entries) {
    const fail = (m: string): never => {
      throw new KerasFileError(`${where}: layer '${e.name}' (${e.className}) ${m}`);
    };
    const unsupported = (m: string): never => {
      throw new UnsupportedLayerError(e.className, e.name, `${where}: layer '${e.name}' (${e.className}) ${m}`);
    };
    const nodes = e.raw.inbound_nodes;
    if (!Array.isArray(nodes)) throw new KerasFileError(`${where}: layer '${e.name}' has no inbound_nodes list.`);
    for (const node of nodes) {
      if (Array.isArray(node)) e.calls.push(keras2Call(node, fail));
      else if (isObject(node)) e.calls.push(keras3Call(node, fail, unsupported));
      else fail(`has a malformed inbound node ${preview(node)}.`);
    }
  }
  const inputEnds = endpoints(config.input_layers, 'input_layers', where);
  const inputs = inputEnds.refs.map((ref) => {
    const entry = byName.get(ref.layer);
    if (entry?.className !== 'InputLayer') throw new KerasFileError(`${where}: input layer '${ref.layer}' is not an InputLayer in the model.`);
    return { layer: ref.layer, spec: inputFromInputLayer(entry, where) };
  });
  const outputEnds = endpoints(config.output_layers, 'output_layers', where);
  const layers = entries.filter((e) => e.className !== 'InputLayer');
  return {
    inputs,
    layers,
    outputs: outputEnds.refs,
    outputsFromConfig: true,
    saveables: entries.filter((e) => !e.op),
    ...(inputEnds.keys ? { inputKeys: inputEnds.keys } : {}),
    ...(outputEnds.keys ? { outputKeys: outputEnds.keys } : {}),
  };
}
