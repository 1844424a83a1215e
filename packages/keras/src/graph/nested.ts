import type { Arg, CallOf } from '../config/spec.js';
import { KerasFileError, UnsupportedLayerError } from '../errors.js';
import { preview } from '../io/json.js';
import { parseFunctional, parseSequential, type RawGraph, type RawLayer, type RawRef } from './parse.js';

/** Deeper nesting than any real model has; it bounds the recursion on a hostile config. */
const MAX_DEPTH = 16;

/** A model used as a layer: a Sequential or Functional entry carrying its own layers list. */
export function isNestedModel(e: RawLayer): boolean {
  return !e.op && ['Sequential', 'Functional', 'Model'].includes(e.className) && Array.isArray(e.config.layers);
}

/** Each saveable layer's group in a Keras 3 weights file, below the model's own group. */
export type GroupsOf = (saveables: RawLayer[]) => Map<RawLayer, string>;

function mapRefs(call: CallOf<RawRef>, f: (r: RawRef) => RawRef): CallOf<RawRef> {
  const args: Arg<RawRef>[] = call.args.map((a) => ('tensor' in a ? { tensor: f(a.tensor) } : 'list' in a ? { list: a.list.map(f) } : { value: a.value }));
  const named: Record<string, RawRef[]> = {};
  for (const [k, v] of Object.entries(call.named)) named[k] = v.map(f);
  return { args, named, mask: call.mask ? call.mask.map((m) => (m === null ? null : f(m))) : null, kwargs: { ...call.kwargs } };
}

/** The tensors a call of a nested model hands its inputs, in the inner model's input order. */
function callInputs(e: RawLayer, call: CallOf<RawRef>, inputs: number, where: string): RawRef[] {
  const unsupported = (m: string): never => {
    throw new UnsupportedLayerError(e.className, e.name, `${where}: nested model '${e.name}' (${e.className}) ${m}`);
  };
  if (call.mask?.some((m) => m !== null)) unsupported('is called with an explicit mask=, which gru does not support for a nested model.');
  const named = Object.keys(call.named);
  if (named.length) unsupported(`is called with a tensor argument \`${named[0]}\`, which gru does not support for a nested model.`);
  for (const [k, v] of Object.entries(call.kwargs)) {
    if (k !== 'training') unsupported(`is called with ${k}=${preview(v)}, which gru does not support for a nested model.`);
  }
  const tensors = call.args.filter((a) => !('value' in a));
  if (tensors.length !== 1 || call.args.length !== 1) unsupported('is called with other than one tensor or one list of tensors.');
  const a = tensors[0];
  const refs = 'tensor' in a ? [a.tensor] : (a as { list: RawRef[] }).list;
  if (refs.length !== inputs) {
    throw new KerasFileError(`${where}: nested model '${e.name}' (${e.className}) takes ${inputs} input(s) and is called on ${refs.length}.`);
  }
  return refs;
}

/** The inner graph of a nested model entry, parsed as a model of its own. */
function parseInner(e: RawLayer, where: string): RawGraph {
  return e.className === 'Sequential' ? parseSequential(e.config, where) : parseFunctional(e.config, where);
}

/**
 * Replaces every nested model (a Sequential or Functional used as a layer) by its own layers, as
 * Keras runs it: each call of the nested model runs its inner graph on the call's tensors, masks
 * included (an Embedding(mask_zero) inside masks a GRU outside), and the nested model's outputs
 * are its inner graph's outputs, with their masks. Inner layers are named '<model>/<layer>'; a
 * nested model called n times makes each inner layer a shared layer called n times as often.
 *
 * `groups` maps each saveable layer of `raw` to its Keras 3 weights group; it gains the inlined
 * layers' groups ('layers/functional/layers/gru'). Inlined layers record in `nestedIn` the outermost
 * nested model they belong to: a legacy .h5 saves all of its weights as one layer's.
 */
export function inlineNested(raw: RawGraph, groups: Map<RawLayer, string>, groupsOf: GroupsOf, where: string, depth = 0): RawGraph {
  if (!raw.layers.some(isNestedModel)) return raw;
  if (depth >= MAX_DEPTH) {
    const e = raw.layers.find(isNestedModel) as RawLayer;
    throw new UnsupportedLayerError(
      e.className,
      e.name,
      `${where}: nested model '${e.name}' is nested more than ${MAX_DEPTH} models deep, which gru does not support.`,
    );
  }
  const names = new Set(raw.layers.map((e) => e.name));
  for (const inp of raw.inputs) names.add(inp.layer);
  /** For each nested entry, the refs each of its calls returns (before resolving through other nested entries). */
  const returns = new Map<string, RawRef[][]>();
  const layers: RawLayer[] = [];
  for (const e of raw.layers) {
    if (!isNestedModel(e)) {
      layers.push(e);
      continue;
    }
    const innerWhere = `${where}: nested model '${e.name}'`;
    const parsed = parseInner(e, innerWhere);
    if (parsed.inputKeys || parsed.outputKeys) {
      // Keras hands such a model a dict and flattens what it returns; gru has no sample of either.
      throw new UnsupportedLayerError(
        e.className,
        e.name,
        `${where}: nested model '${e.name}' (${e.className}) takes or returns a dict of tensors, which gru does not support for a nested model.`,
      );
    }
    const base = groups.get(e) ?? '';
    const innerGroups = new Map<RawLayer, string>();
    for (const [l, g] of groupsOf(parsed.saveables)) innerGroups.set(l, `${base}/${g}`);
    const inner = inlineNested(parsed, innerGroups, groupsOf, innerWhere, depth + 1);
    const prefix = `${e.name}/`;
    const perCall = new Map(inner.layers.map((l) => [l.name, l.calls.length]));
    const inputIndex = new Map(inner.inputs.map((inp, i) => [inp.layer, i]));
    const clones = inner.layers.map((l) => {
      const name = prefix + l.name;
      if (names.has(name)) throw new KerasFileError(`${where}: two layers are named '${name}' (one inside nested model '${e.name}').`);
      names.add(name);
      const clone: RawLayer = { ...l, name, calls: [], nestedIn: e.name, frozen: l.frozen || e.config.trainable === false, nestedCalls: [] };
      const g = innerGroups.get(l);
      if (g !== undefined) groups.set(clone, g);
      return clone;
    });
    const calls: RawRef[][] = [];
    e.calls.forEach((call, c) => {
      const args = callInputs(e, call, inner.inputs.length, where);
      const map = (ref: RawRef): RawRef => {
        const i = inputIndex.get(ref.layer);
        if (i !== undefined) return args[i];
        const n = perCall.get(ref.layer);
        // A reference to no inner layer is left for buildGraph to report, under its inner name.
        return n === undefined ? ref : { layer: prefix + ref.layer, node: c * n + ref.node, tensor: ref.tensor };
      };
      inner.layers.forEach((l, li) => {
        for (const lc of l.calls) {
          clones[li].calls.push(mapRefs(lc, map));
          clones[li].nestedCalls?.push(c);
        }
      });
      calls.push(inner.outputs.map(map));
    });
    returns.set(e.name, calls);
    layers.push(...clones);
  }

  // A Functional's output_layers count a nested Functional's built-in node (the one its own
  // construction made) among its calls, as Keras's functional_from_config subtracts again; a
  // nested Sequential has no such node, and neither layer calls' refs nor a Sequential's own
  // output (its last layer's call) count it.
  const functionals = new Set(raw.layers.filter((e) => isNestedModel(e) && e.className !== 'Sequential').map((e) => e.name));
  const outputRef = (r: RawRef): RawRef => (raw.outputsFromConfig && functionals.has(r.layer) ? { ...r, node: r.node - 1 } : r);

  /** A ref to a nested model's output, followed to the tensor it is (maybe another nested model's). */
  const resolveAll = (ref: RawRef, user: string): RawRef[] => {
    let refs = [ref];
    for (let hops = 0; refs.some((r) => returns.has(r.layer)); hops++) {
      if (hops > raw.layers.length + 1) throw new KerasFileError(`${where}: the nested models' outputs refer to each other in a cycle.`);
      refs = refs.flatMap((r) => {
        const calls = returns.get(r.layer);
        if (!calls) return [r];
        const outs = calls[r.node];
        if (!outs) throw new KerasFileError(`${where}: ${user} reads call #${r.node} of nested model '${r.layer}', which is called ${calls.length} time(s).`);
        if (r.tensor === -1) return outs;
        // A Sequential's output is every output of its last layer (tensor -1): pick one of them.
        if (outs.length === 1 && outs[0].tensor === -1) return [{ ...outs[0], tensor: r.tensor }];
        if (r.tensor >= outs.length)
          throw new KerasFileError(`${where}: ${user} reads output #${r.tensor} of nested model '${r.layer}', which returns ${outs.length}.`);
        return [outs[r.tensor]];
      });
    }
    return refs;
  };
  const resolve = (ref: RawRef, user: string): RawRef => {
    const refs = resolveAll(ref, user);
    if (refs.length !== 1 || refs[0].tensor === -1) {
      throw new UnsupportedLayerError(
        'Sequential',
        ref.layer,
        `${where}: ${user} reads every output of nested model '${ref.layer}', which gru does not support.`,
      );
    }
    return refs[0];
  };
  for (const l of layers) l.calls = l.calls.map((call) => mapRefs(call, (r) => resolve(r, `layer '${l.name}'`)));
  // Every output of every call, for summary() (Keras prints them all, read by the outer graph or
  // not). Only summary() reads these, so an output nothing else reads cannot fail the load here.
  const nestedReturns = new Map<string, RawRef[][]>();
  for (const [name, calls] of returns) {
    try {
      nestedReturns.set(
        name,
        calls.map((outs, c) => outs.flatMap((r) => resolveAll(r, `call #${c} of nested model '${name}'`))),
      );
    } catch {
      // summary() then shows the outputs the model reads.
    }
  }
  return {
    ...raw,
    nestedReturns,
    layers,
    outputs: raw.outputs.flatMap((r) => resolveAll(outputRef(r), 'the model output')),
    saveables: raw.saveables.flatMap((s) => (returns.has(s.name) ? layers.filter((l) => l.name.startsWith(`${s.name}/`) && !l.op) : [s])),
  };
}
