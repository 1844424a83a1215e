import type { Arg, CallOf, LayerSpec, NodeSpec, Shape, TensorKey } from '../config/spec.js';
import { ConfigReader, policyName } from '../config/values.js';
import { MAX_ARRAY_ELEMENTS } from '@gru/core';
import { formatShape, KerasFileError, LimitError, UnsupportedLayerError } from '../errors.js';
import { mib, raiseHint } from '../kernels/array-guard.js';
import { preview } from '../io/json.js';
import type { LoadLimits } from '../limits.js';
import { type Compat, isBool, type KindContext, type LayerKind } from '../layers/kind.js';
import { kindOf, supportedText } from '../layers/registry.js';
import type { RawGraph, RawLayer, RawRef } from './parse.js';
import { topologicalOrder } from './order.js';

export interface BuiltGraph {
  layers: LayerSpec[];
  nodes: NodeSpec[];
  outputs: TensorKey[];
  outputShapes: Shape[];
  parameterCount: number;
  /** Each nested model's outputs' shapes, per call (also those the model does not read). */
  nestedOutputShapes?: Record<string, Shape[][]>;
}

const inputKey = (i: number): TensorKey => `in:${i}`;
const nodeKey = (n: number, t: number): TensorKey => `n:${n}:${t}`;

/** The kind that runs an entry, or an UnsupportedLayerError naming its class. */
export function kindFor(e: RawLayer, where: string): LayerKind {
  const kind = kindOf(e.className, e.op);
  if (kind) return kind;
  if (e.op) {
    throw new UnsupportedLayerError(e.className, e.name, `${where}: layer '${e.name}' (${e.className}): the Keras op ${e.className} is not supported by gru.`);
  }
  throw new UnsupportedLayerError(
    e.className,
    e.name,
    `${where}: layer '${e.name}' (${e.className}): ${e.className} layers are not supported. gru runs ${supportedText()}.`,
  );
}

function layerDtype(r: ConfigReader, op: boolean): 'float32' | 'float64' {
  const name = policyName(r.config.dtype) ?? 'float32';
  if (name === 'float32' || name === 'float64') return name;
  // Ops record the dtype they compute in (bool for masks); gru keeps them as numbers.
  if (op) return 'float32';
  return r.unsupported(`dtype policy '${name}' is not supported: gru computes in float32 or float64 only, so it could not reproduce this layer's results.`);
}

function mapCall<A, B>(call: CallOf<A>, f: (a: A) => B): CallOf<B> {
  const args: Arg<B>[] = call.args.map((a) => ('tensor' in a ? { tensor: f(a.tensor) } : 'list' in a ? { list: a.list.map(f) } : { value: a.value }));
  const named: Record<string, B[]> = {};
  for (const [k, v] of Object.entries(call.named)) named[k] = v.map(f);
  return { args, named, mask: call.mask ? call.mask.map((m) => (m === null ? null : f(m))) : null, kwargs: { ...call.kwargs } };
}

const sameWeights = (a: LayerSpec['weights'], b: LayerSpec['weights']) =>
  a.length === b.length && a.every((w, i) => w.name === b[i].name && w.shape.length === b[i].shape.length && w.shape.every((d, j) => d === b[i].shape[j]));

/**
 * Checks a parsed graph and works out every call's shapes and every layer's weight shapes, in an
 * order where each call comes after what it reads. Layers called several times (shared layers)
 * must need the same weights at every call. Calls the outputs do not depend on are dropped.
 */
export function buildGraph(raw: RawGraph, compat: Compat, limits: LoadLimits, keras3Groups: Map<RawLayer, string>, where: string): BuiltGraph {
  const kinds = raw.layers.map((e) => kindFor(e, where));
  const ctx: KindContext = { compat, kindOf: (c) => kindOf(c) };
  const index = new Map(raw.layers.map((e, i) => [e.name, i]));
  const inputIndex = new Map(raw.inputs.map((inp, i) => [inp.layer, i]));
  const order = topologicalOrder(raw, where);
  const nodeOf = new Map<string, number>();
  const shapes = new Map<TensorKey, Shape>(raw.inputs.map((inp, i) => [inputKey(i), inp.spec.shape]));
  const outputsOf = new Map<string, number>();
  const specs: (LayerSpec | undefined)[] = raw.layers.map(() => undefined);
  const nodes: NodeSpec[] = [];
  let parameters = 0;

  const keyOf = (ref: RawRef, user: string): TensorKey => {
    const inp = inputIndex.get(ref.layer);
    if (inp !== undefined) {
      if (ref.node !== 0 || ref.tensor !== 0)
        throw new KerasFileError(`${where}: ${user} reads output #${ref.tensor} of call #${ref.node} of input '${ref.layer}', which has one.`);
      return inputKey(inp);
    }
    const n = nodeOf.get(`${ref.layer}#${ref.node}`);
    if (n === undefined) throw new KerasFileError(`${where}: ${user} reads call #${ref.node} of '${ref.layer}', which the model does not have.`);
    const count = outputsOf.get(`${ref.layer}#${ref.node}`) as number;
    if (ref.tensor >= count) {
      throw new KerasFileError(`${where}: ${user} reads output #${ref.tensor} of '${ref.layer}', which returns ${count} tensor(s).`);
    }
    return nodeKey(n, ref.tensor);
  };

  for (const { layer: li, call: ci } of order) {
    const e = raw.layers[li];
    const kind = kinds[li];
    const r = new ConfigReader(e.config, e.className, e.name);
    const user = `layer '${e.name}' (${e.className})`;
    const call = mapCall(e.calls[ci], (ref) => keyOf(ref, user));
    for (const [k, v] of Object.entries(call.kwargs)) {
      const check = k === 'training' ? isBool : kind.kwargs?.[k];
      if (check === undefined) return r.unsupported(`is called with ${k}=${preview(v)}, which gru does not support for ${e.className}.`);
      if (!check(v)) r.fail(`is called with ${k}=${preview(v)}, which is not a value gru accepts.`);
    }
    for (const k of Object.keys(call.named)) {
      if (!kind.namedTensors?.includes(k)) r.unsupported(`is called with a tensor argument \`${k}\`, which gru does not support for ${e.className}.`);
    }
    const inputShapes = mapCall(call, (k) => shapes.get(k) as Shape);
    const dtype = layerDtype(r, e.op);
    const analysis = kind.analyze(r, inputShapes, ctx);
    const first = inputShapes.args.find((a) => !('value' in a));
    const firstShape = first ? ('tensor' in first ? first.tensor : (first as { list: Shape[] }).list[0]) : [];
    analysis.outputShapes.forEach((s) => checkOutputShape(s, dtype, limits, `${where}: ${user}`));
    const existing = specs[li];
    if (existing) {
      if (!sameWeights(existing.weights, analysis.weights)) {
        r.fail(`is called ${e.calls.length} times with inputs that need different weights (${preview(existing.inputShape)} and ${preview(firstShape)}).`);
      }
    } else {
      for (const w of analysis.weights) {
        parameters += w.shape.reduce((a, b) => a * b, 1);
        if (parameters > limits.maxParameters) {
          throw new LimitError(
            'maxParameters',
            `${where}: the model declares more than ${limits.maxParameters} weight values (limits.maxParameters); layer '${e.name}' needs ${w.name} of shape ${preview(w.shape)}.`,
          );
        }
      }
      specs[li] = {
        className: e.className,
        name: e.name,
        ...(e.op ? { op: true } : {}),
        config: e.config,
        ...(analysis.inner ? { inner: analysis.inner } : {}),
        ...(analysis.wrapped ? { wrapped: analysis.wrapped } : {}),
        dtype,
        inputShape: firstShape,
        outputShapes: analysis.outputShapes,
        weights: analysis.weights,
        keras3Group: keras3Groups.get(e) ?? '',
        ...(e.nestedIn !== undefined ? { nestedIn: e.nestedIn } : {}),
        ...(e.frozen ? { frozen: true } : {}),
      };
    }
    nodeOf.set(`${e.name}#${ci}`, nodes.length);
    outputsOf.set(`${e.name}#${ci}`, analysis.outputShapes.length);
    analysis.outputShapes.forEach((s, t) => shapes.set(nodeKey(nodes.length, t), s));
    const nested = e.nestedIn !== undefined ? { nested: { model: e.nestedIn, call: e.nestedCalls?.[ci] ?? 0 } } : {};
    nodes.push({ layer: li, call, inputShapes, outputShapes: analysis.outputShapes, ...nested });
  }

  const outputs: TensorKey[] = [];
  for (const ref of raw.outputs) {
    if (ref.tensor === -1) {
      const n = index.has(ref.layer) ? nodeOf.get(`${ref.layer}#${ref.node}`) : undefined;
      if (n === undefined) outputs.push(keyOf({ ...ref, tensor: 0 }, 'the model output'));
      else nodes[n].outputShapes.forEach((_, t) => outputs.push(nodeKey(n, t)));
    } else outputs.push(keyOf(ref, 'the model output'));
  }
  for (const [li, s] of specs.entries()) {
    if (!s) throw new KerasFileError(`${where}: layer '${raw.layers[li].name}' is never called, so its weight shapes cannot be checked.`);
  }
  // Before pruning: a nested model's output the outer graph never reads is still one of its outputs.
  const shapesOf = (ref: RawRef, user: string): Shape[] => {
    const n = ref.tensor === -1 ? nodeOf.get(`${ref.layer}#${ref.node}`) : undefined;
    if (n !== undefined) return nodes[n].outputShapes;
    return [shapes.get(keyOf(ref.tensor === -1 ? { ...ref, tensor: 0 } : ref, user)) as Shape];
  };
  const nestedOutputShapes: Record<string, Shape[][]> = {};
  for (const [name, calls] of raw.nestedReturns ?? []) {
    try {
      nestedOutputShapes[name] = calls.map((refs) => refs.flatMap((r) => shapesOf(r, `nested model '${name}'`)));
    } catch {
      // Only summary() reads these; the model's own references were checked above.
    }
  }
  return {
    layers: specs as LayerSpec[],
    nodes: prune(nodes, outputs),
    outputs,
    outputShapes: outputs.map((k) => shapes.get(k) as Shape),
    parameterCount: parameters,
    ...(Object.keys(nestedOutputShapes).length ? { nestedOutputShapes } : {}),
  };
}

/**
 * Fails unless `shape` (an output shape inference gave) is made of sizes, and one sample of it
 * fits `limits.maxPredictBytes` and one typed array: a few layers that each multiply a size
 * (UpSampling1D, RepeatVector, ZeroPadding1D) can otherwise ask for more than any predict could
 * hold, or for sizes past 2^53 that are no longer integers. Unknown sizes count as 1.
 */
function checkOutputShape(shape: Shape, dtype: 'float32' | 'float64', limits: LoadLimits, who: string): void {
  let values = 1;
  for (const d of shape.slice(1)) {
    if (d === null) continue;
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new LimitError('maxPredictBytes', `${who}: its output shape ${formatShape(shape)} has a size that is not an integer below 2^53.`);
    }
    values *= d;
  }
  const bytes = values * (dtype === 'float64' ? 8 : 4);
  if (values > MAX_ARRAY_ELEMENTS || bytes > limits.maxPredictBytes) {
    throw new LimitError(
      'maxPredictBytes',
      `${who}: its output shape ${formatShape(shape)} needs ${values} values (${mib(bytes)}) for one sample, ` +
        (values > MAX_ARRAY_ELEMENTS
          ? `beyond the ${MAX_ARRAY_ELEMENTS} values one typed array may hold.`
          : `over the ${limits.maxPredictBytes} bytes (${mib(limits.maxPredictBytes)}) allowed by limits.maxPredictBytes. ${raiseHint(bytes)}`),
    );
  }
}

/** Keeps the calls the outputs depend on (Keras runs only those), renumbering tensor keys. */
function prune(nodes: NodeSpec[], outputs: TensorKey[]): NodeSpec[] {
  const needed = new Set<number>();
  // An explicit stack, not recursion: a long chain of calls must not overflow the call stack.
  const pending = [...outputs];
  for (let k = pending.pop(); k !== undefined; k = pending.pop()) {
    if (!k.startsWith('n:')) continue;
    const n = Number(k.split(':')[1]);
    if (needed.has(n)) continue;
    needed.add(n);
    pending.push(...keysOf(nodes[n].call));
  }
  if (needed.size === nodes.length) return nodes;
  // Keys name nodes by index: keep the indices and leave unneeded calls out by marking them.
  return nodes.map((n, i) => (needed.has(i) ? n : { ...n, layer: -1 }));
}

/** Every tensor a call reads. */
export function keysOf(call: CallOf<TensorKey>): TensorKey[] {
  const out: TensorKey[] = [];
  for (const a of call.args) {
    if ('tensor' in a) out.push(a.tensor);
    else if ('list' in a) out.push(...a.list);
  }
  for (const v of Object.values(call.named)) out.push(...v);
  for (const m of call.mask ?? []) if (m !== null) out.push(m);
  return out;
}
