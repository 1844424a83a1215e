import type { Arg, CallOf, ModelSpec, NodeSpec, TensorKey } from '../config/spec.js';
import { type CallContext, callMaskShapes, type Flow, layerFail, type ModelLayer, nonzeroMask, tensorArgs, type ValueCall, withMask } from '../layers/base.js';
import { formatShape } from '../errors.js';
import { ArrayGuard, mib, PredictLimitError, withArrayGuard } from '../kernels/array-guard.js';
import { ArrayTooLargeError } from '../kernels/common.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { keysOf } from './build.js';

type Values = Map<TensorKey, { flow: Flow; left: number }>;

/** The masks of a call's first argument (one, or one per list entry), or null when there are none. */
function firstArgMasks(call: ValueCall): (Uint8Array | null)[] | null {
  const a = call.args.find((x) => !('value' in x));
  if (!a) return null;
  const masks = 'tensor' in a ? [a.tensor.mask] : (a as { list: Flow[] }).list.map((f) => f.mask);
  return masks.some((m) => m !== null) ? masks : null;
}

/** How many tensor arguments a call has, as Keras counts them (a list is one argument). */
function tensorArgumentCount(call: ValueCall): number {
  return call.args.filter((a) => !('value' in a)).length + Object.keys(call.named).length;
}

/**
 * Runs a model's graph as Keras's `Functional._run_through_graph` does: calls in order, each with
 * its tensors and the masks that travel beside them. A layer gets the explicit `mask=` of its
 * call, else (Keras 3: when it has one tensor argument; Keras 2: always) the mask of its first
 * argument; a layer that supports masking gives its outputs `compute_mask`'s masks, any other
 * drops them. Each value is released after its last reader.
 *
 * The arrays a run makes (not the caller's inputs) are bounded by `maxPredictBytes`, all live ones
 * together: each array a synchronous call makes is checked before it is allocated (`ArrayGuard`),
 * and what each call leaves live is checked when it returns (async calls, which run a GRU on a
 * backend, are checked there only).
 */
export class GraphRunner {
  private readonly uses = new Map<TensorKey, number>();
  private peakValues = 0;

  /** The most values the last run held at once (inputs and layer outputs not yet read for the last time). */
  get peak(): number {
    return this.peakValues;
  }

  constructor(
    private readonly spec: ModelSpec,
    private readonly layers: ModelLayer[],
    private readonly maxPredictBytes: number = DEFAULT_LIMITS.maxPredictBytes,
  ) {
    for (const n of spec.nodes) if (n.layer >= 0) for (const k of keysOf(n.call)) this.count(k);
    for (const k of spec.outputs) this.count(k);
  }

  private count(k: TensorKey): void {
    this.uses.set(k, (this.uses.get(k) ?? 0) + 1);
  }

  runSync(inputs: Flow[], ctx: CallContext): Flow[] {
    const values = this.start(inputs);
    const guard = new ArrayGuard(this.maxPredictBytes, samplesOf(inputs));
    this.spec.nodes.forEach((node, i) => {
      if (node.layer < 0) return;
      const layer = this.layers[node.layer];
      const { call, callMask, previous, previousShape } = this.prepare(node, layer, values);
      guard.startCall();
      const out = namingLayer(layer, call, () => withArrayGuard(guard, () => layer.call(call, callMask, ctx)));
      this.finish(i, node, layer, call, { previous, previousShape }, out, values);
      this.checkLive(guard, layer, out, values, inputs);
    });
    return this.outputs(values, inputs);
  }

  async run(inputs: Flow[], ctx: CallContext): Promise<Flow[]> {
    const values = this.start(inputs);
    const guard = new ArrayGuard(this.maxPredictBytes, samplesOf(inputs));
    for (const [i, node] of this.spec.nodes.entries()) {
      if (node.layer < 0) continue;
      const layer = this.layers[node.layer];
      const { call, callMask, previous, previousShape } = this.prepare(node, layer, values);
      guard.startCall();
      let out: Flow[];
      try {
        out = layer.async ? await layer.callAsync(call, callMask, ctx) : withArrayGuard(guard, () => layer.call(call, callMask, ctx));
      } catch (err) {
        rethrowNamingLayer(layer, call, err);
      }
      this.finish(i, node, layer, call, { previous, previousShape }, out, values);
      this.checkLive(guard, layer, out, values, inputs);
    }
    return this.outputs(values, inputs);
  }

  /**
   * Counts the arrays the graph holds after a call (each once, the caller's inputs left out) into
   * `guard.live`, and fails naming the call when they are over the limit: arrays not made through
   * the guard (a GRU's on its backend) are bounded here. O(values held), never per element.
   */
  private checkLive(guard: ArrayGuard, layer: ModelLayer, out: Flow[], values: Values, inputs: Flow[]): void {
    const seen = new Set<ArrayLike<number>>(inputs.map((f) => f.tensor.data));
    let live = 0;
    for (const { flow } of values.values()) {
      const { data } = flow.tensor;
      if (seen.has(data)) continue;
      seen.add(data);
      live += (data as Float32Array).byteLength;
    }
    guard.live = live;
    if (live > guard.limit) {
      const shapes = out.map((f) => formatShape(f.tensor.shape)).join(', ');
      throw new PredictLimitError(
        `Layer '${layer.name}' (${layer.className}): its output of shape ${shapes} brings this predict's intermediate arrays to ${live} bytes (${mib(live)}), ` +
          `over ${guard.describe()}. ${guard.hint(live)}`,
      );
    }
  }

  private start(inputs: Flow[]): Values {
    this.peakValues = 0;
    const values: Values = new Map();
    inputs.forEach((flow, i) => {
      const left = this.uses.get(`in:${i}`) ?? 0;
      if (left) values.set(`in:${i}`, { flow, left });
    });
    this.peakValues = values.size;
    return values;
  }

  private prepare(node: NodeSpec, layer: ModelLayer, values: Values) {
    const take = (k: TensorKey): Flow => {
      const v = values.get(k) as { flow: Flow; left: number };
      if (--v.left === 0) values.delete(k);
      return v.flow;
    };
    const call: CallOf<Flow> = {
      args: node.call.args.map((a): Arg<Flow> => ('tensor' in a ? { tensor: take(a.tensor) } : 'list' in a ? { list: a.list.map(take) } : { value: a.value })),
      named: Object.fromEntries(Object.entries(node.call.named).map(([k, v]) => [k, v.map(take)])),
      mask: node.call.mask ? node.call.mask.map((m) => (m === null ? null : take(m))) : null,
      kwargs: node.call.kwargs,
    };
    const given = call.mask?.some((m) => m !== null) ? (call.mask as (Flow | null)[]) : null;
    // The layer reads a mask= its own way (Softmax keeps values > 0.5); the mask it passes on is
    // the tensor as given, which the layers after it read as bool (nonzero).
    const explicit = given?.map((m) => (m ? nonzeroMask(m.tensor) : null)) ?? null;
    const read = given?.map((m) => (m ? layer.readMask(m.tensor) : null)) ?? null;
    const first = firstArgMasks(call);
    const implicit = this.spec.compat === 'keras2' || tensorArgumentCount(call) === 1 ? first : null;
    // Masks go on flat: their shapes are checked here, where they are still known (a (batch, steps)
    // mask of other steps than the input's would otherwise be read as (batch, steps, k)).
    layer.checkCallMasks(layerFail(layer), call, implicit !== null);
    const previousShape = callMaskShapes(call, true)[0] ?? null;
    return { call, callMask: read ?? implicit, previous: explicit ?? first, previousShape };
  }

  private finish(
    index: number,
    node: NodeSpec,
    layer: ModelLayer,
    call: ValueCall,
    { previous, previousShape }: { previous: (Uint8Array | null)[] | null; previousShape: readonly number[] | null },
    out: Flow[],
    values: Values,
  ): void {
    let flows = out;
    if (!layer.supportsMasking) flows = out.map((f) => (f.mask ? { tensor: f.tensor, mask: null } : f));
    else if (out.some((f) => f.mask === null)) {
      const masks = layer.computeMask(call, previous, out.length);
      flows = out.map((f, t) => (f.mask === null && masks[t] ? withMask(f.tensor, masks[t], layer.computeMaskShape(previousShape, t, call)) : f));
    }
    node.outputShapes.forEach((_, t) => {
      const k = `n:${index}:${t}`;
      const left = this.uses.get(k) ?? 0;
      if (left) values.set(k, { flow: flows[t], left });
    });
    this.peakValues = Math.max(this.peakValues, values.size);
  }

  /**
   * The model's outputs. One tensor listed twice, or passed through unchanged from an input
   * (identity layers hand their input on), is copied: the caller owns each output's data, and
   * writing to one output must not change another, nor the input it came from.
   */
  private outputs(values: Values, inputs: Flow[]): Flow[] {
    const owned = new Set<ArrayLike<number>>(inputs.map((f) => f.tensor.data));
    return this.spec.outputs.map((k) => {
      const v = values.get(k) as { flow: Flow; left: number };
      if (--v.left === 0) values.delete(k);
      const { tensor } = v.flow;
      if (!owned.has(tensor.data)) {
        owned.add(tensor.data);
        return v.flow;
      }
      // The copy keeps the mask's shape (a (batch, time, steps) mask would be read as another).
      return { ...v.flow, tensor: { shape: [...tensor.shape], data: tensor.data.slice() }, mask: v.flow.mask?.slice() ?? null };
    });
  }
}

/** Rethrows `err`; an array too large for the call, or over the predict's bound, says which layer's call it was. */
function rethrowNamingLayer(layer: ModelLayer, call: ValueCall, err: unknown): never {
  if (err instanceof ArrayTooLargeError) layerFail(layer)(err.message);
  if (err instanceof PredictLimitError) {
    const shapes = tensorArgs(call).map((f) => formatShape(f.tensor.shape));
    throw new PredictLimitError(`Layer '${layer.name}' (${layer.className}), called on shape ${shapes.join(', ') || '(none)'}: ${err.message}`);
  }
  throw err;
}

function namingLayer<T>(layer: ModelLayer, call: ValueCall, f: () => T): T {
  try {
    return f();
  } catch (err) {
    rethrowNamingLayer(layer, call, err);
  }
}

/** The batch of a predict: the inputs' first axis (they share it), at least 1. */
function samplesOf(inputs: Flow[]): number {
  let samples = 1;
  for (const f of inputs) samples = Math.max(samples, f.tensor.shape[0] ?? 1);
  return samples;
}
