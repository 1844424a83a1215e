import { GruError, toTensor, type GRU, type Tensor, type TensorLike } from '@gru/core';
import type { InputSpec, ModelFormat, ModelSpec, ParsedModel, Shape } from './config/spec.js';
import { formatShape } from './errors.js';
import { GraphRunner } from './graph/run.js';
import { summarize } from './graph/summary.js';
import type { CallContext, Flow, ModelLayer } from './layers/base.js';
import { BidirectionalLayer } from './layers/bidirectional.js';
import { GruLayer } from './layers/gru.js';
import { kindOf } from './layers/registry.js';

export interface PredictOptions {
  /** Run every GRU on this registered backend only (default: the model's, else the best available). */
  backend?: string;
}

/** What `predict` takes: one input, a list in the model's input order, or an object keyed by input name. */
export type ModelInputs = TensorLike | TensorLike[] | Record<string, TensorLike>;

const INT_DTYPES = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool']);

/**
 * A Keras model loaded from a file: a graph of layers (Sequential or Functional) whose GRUs are
 * @gru/core layers. `predict` runs the whole model; `getGRU(name)` hands out a GRU to use on its own.
 */
export class KerasModel {
  readonly name: string;
  readonly format: ModelFormat;
  readonly kerasVersion: string;
  /** 'keras2' when the file came from Keras 2 (whose 'hard_sigmoid' is clip(0.2x + 0.5, 0, 1)). */
  readonly compat: ModelSpec['compat'];
  /** The first input's shape and dtype (see `inputs` for every input). */
  readonly inputShape: Shape;
  readonly inputDtype: string;
  readonly inputs: readonly InputSpec[];
  /**
   * For a model built on a dict of inputs (`keras.Model({"seq": a, "meta": b}, ...)`): its keys,
   * sorted as Python sorts strings (by code point), which is the order of `inputs` (and of Keras's
   * `model.inputs`). predict then takes `{seq: x1, meta: x2}`, as Keras's predict does.
   */
  readonly inputKeys: readonly string[] | undefined;
  /**
   * For a model returning a dict of outputs: its keys, sorted as Python sorts strings (by code
   * point; `'10' < '2' < 'Z' < 'a'`). That is the order of Keras's `model.outputs`, and of the dict
   * Keras 3.15.1's predict returns on jax (`model(x)`, and predict on numpy, keep the file's order).
   * `predictOutputs` returns the outputs in this order; `predictDict` keys them by these names.
   */
  readonly outputKeys: readonly string[] | undefined;
  /** The model's layers in Keras's `model.layers` order (InputLayers and op nodes left out). */
  readonly layers: readonly ModelLayer[];
  private readonly all: ModelLayer[];
  private readonly spec: ModelSpec;
  private readonly runner: GraphRunner;
  private readonly defaultBackend: string | undefined;

  /** `maxPredictBytes`: see `LoadLimits.maxPredictBytes` (default 1 GiB). */
  constructor(parsed: ParsedModel, options: { backend?: string; maxPredictBytes?: number } = {}) {
    const { spec } = parsed;
    this.spec = spec;
    this.name = spec.name;
    this.format = parsed.format;
    this.kerasVersion = spec.kerasVersion;
    this.compat = spec.compat;
    this.inputs = spec.inputs.map((i) => ({ name: i.name, shape: [...i.shape], dtype: i.dtype }));
    this.inputKeys = spec.inputKeys ? [...spec.inputKeys] : undefined;
    this.outputKeys = spec.outputKeys ? [...spec.outputKeys] : undefined;
    this.inputShape = [...spec.input.shape];
    this.inputDtype = spec.input.dtype;
    this.all = spec.layers.map((l, i) => (kindOf(l.className, l.op) as NonNullable<ReturnType<typeof kindOf>>).create(l, parsed.weights[i], spec.compat));
    this.layers = this.all.filter((_, i) => !spec.layers[i].op);
    this.runner = new GraphRunner(spec, this.all, options.maxPredictBytes);
    this.defaultBackend = options.backend;
    const stateful = [...this.grus].find(([, gru]) => gru.config.stateful);
    this.batchFixedBy = stateful ? `stateful GRU '${stateful[0]}' keeps one state per sample` : this.all.map((l) => l.fixedBatchReason()).find((r) => r);
  }

  /** Why inputs must have the batch size the model's input records; undefined: any batch size, as in Keras. */
  private readonly batchFixedBy: string | undefined;

  /** Output shapes (null = any size), one per output. */
  get outputShapes(): Shape[] {
    return this.spec.outputShapes.map((s) => [...s]);
  }

  get parameterCount(): number {
    return this.spec.parameterCount;
  }

  /** The model config exactly as the file had it (a copy). */
  getConfig(): Record<string, unknown> {
    return structuredClone(this.spec.config);
  }

  getLayer(name: string): ModelLayer {
    const layer = this.layers.find((l) => l.name === name);
    if (!layer) throw new GruError('ValueError', `No layer named '${name}'. Layers: ${this.layers.map((l) => l.name).join(', ') || 'none'}.`);
    return layer;
  }

  /**
   * Every GRU of the model by its Keras name: GRU layers by their own name, and the two inside a
   * Bidirectional by theirs ('forward_gru', 'backward_gru'), wrapped ones included.
   */
  get grus(): Map<string, GRU> {
    const out = new Map<string, GRU>();
    const visit = (l: ModelLayer) => {
      if (l instanceof GruLayer) out.set(l.name, l.gru);
      else if (l instanceof BidirectionalLayer) {
        out.set(l.forwardLayer.name, l.forwardLayer);
        out.set(l.backwardLayer.name, l.backwardLayer);
      } else if ('inner' in l && l.inner) visit(l.inner as ModelLayer);
    };
    this.layers.forEach(visit);
    return out;
  }

  getGRU(name: string): GRU {
    const grus = this.grus;
    const gru = grus.get(name);
    if (!gru) throw new GruError('ValueError', `No GRU named '${name}'. GRUs: ${[...grus.keys()].join(', ') || 'none'}.`);
    return gru;
  }

  /** Keras's `model.predict(x)` for a single-output model: x is `{shape, data}` or nested arrays (a list or `{name: x}` for several inputs). */
  async predict(x: ModelInputs, options: PredictOptions = {}): Promise<Tensor> {
    return this.single(await this.predictOutputs(x, options));
  }

  /** `predict` on the synchronous path (GRUs run on backends that are loaded and synchronous). */
  predictSync(x: ModelInputs, options: PredictOptions = {}): Tensor {
    return this.single(this.predictOutputsSync(x, options));
  }

  /**
   * Keras's `model.predict(x)` for a model returning a dict of outputs: the same dict, keyed as the
   * model's `outputKeys`, each key an own property (`__proto__` and `constructor` included). Iterate
   * `outputKeys` for their order: JavaScript lists integer-like keys of an object first.
   */
  async predictDict(x: ModelInputs, options: PredictOptions = {}): Promise<Record<string, Tensor>> {
    return this.keyed(await this.predictOutputs(x, options));
  }

  /** `predictDict` on the synchronous path. */
  predictDictSync(x: ModelInputs, options: PredictOptions = {}): Record<string, Tensor> {
    return this.keyed(this.predictOutputsSync(x, options));
  }

  /** Every output, in the model's output order (for a dict of outputs, the order of `outputKeys`). */
  async predictOutputs(x: ModelInputs, options: PredictOptions = {}): Promise<Tensor[]> {
    const ctx = this.context(options);
    return (await this.runner.run(this.inputFlows(x), ctx)).map((f) => f.tensor);
  }

  predictOutputsSync(x: ModelInputs, options: PredictOptions = {}): Tensor[] {
    const ctx = this.context(options);
    return this.runner.runSync(this.inputFlows(x), ctx).map((f) => f.tensor);
  }

  /** Resets the state of stateful GRUs (Keras's `reset_states()`). */
  resetStates(): void {
    for (const gru of this.grus.values()) gru.resetStates();
  }

  /** Frees backend memory (native or GPU) held by the model's GRUs. The model stays usable. */
  dispose(): void {
    for (const l of this.all) l.dispose();
  }

  /** The model's summary as Keras prints it: layer (type), output shape, params, connected to. */
  summary(): string {
    return summarize(this.spec);
  }

  private context(options: PredictOptions): CallContext {
    if (typeof options !== 'object' || options === null)
      throw new GruError('ValueError', `predict options must be an object such as {backend: 'cpu'}, received ${String(options)}.`);
    const unknown = Object.keys(options).filter((k) => k !== 'backend');
    if (unknown.length) throw new GruError('ValueError', `Unknown predict option(s): ${unknown.join(', ')}. Known options: backend.`);
    const backend = options.backend ?? this.defaultBackend;
    return backend === undefined ? {} : { backend };
  }

  private keyed(outputs: Tensor[]): Record<string, Tensor> {
    const keys = this.spec.outputKeys;
    if (!keys) {
      throw new GruError('ValueError', `Model '${this.name}' returns a list of outputs, not a dict; use predictOutputs() (or predict() for one output).`);
    }
    // Not `out[k] = ...`: a `__proto__` key would set the prototype instead of making a property.
    return Object.fromEntries(keys.map((k, i) => [k, outputs[i]]));
  }

  private single(outputs: Tensor[]): Tensor {
    if (this.spec.outputKeys) {
      throw new GruError(
        'ValueError',
        `Model '${this.name}' returns a dict of outputs (${this.spec.outputKeys.map((k) => `'${k}'`).join(', ')}); use predictDict() to get them keyed as Keras's predict returns them, or predictOutputs() for a list in that order.`,
      );
    }
    if (outputs.length !== 1) {
      throw new GruError('ValueError', `Model '${this.name}' has ${outputs.length} outputs; use predictOutputs() to get all of them.`);
    }
    return outputs[0];
  }

  /** The inputs in model order, from one input, a list, or an object keyed by input name. */
  private inputFlows(x: ModelInputs): Flow[] {
    const inputs = this.spec.inputs;
    const keys = this.spec.inputKeys;
    const names = keys ?? inputs.map((i) => i.name);
    const isDict = x !== null && typeof x === 'object' && !Array.isArray(x) && !('shape' in x && 'data' in x);
    if (keys && !isDict) {
      // Keras reads a list given for a dict of inputs in sorted-key order, not the model's: a trap; the keys say which is which.
      throw new GruError(
        'ValueError',
        `Model '${this.name}' was built on a dict of inputs; pass an object keyed ${keys.map((k) => `'${k}'`).join(', ')}, received ${Array.isArray(x) ? `a list of ${x.length}` : 'one tensor'}.`,
      );
    }
    if (isDict) {
      const given = Object.keys(x);
      const extra = given.filter((k) => !names.includes(k));
      const missing = names.filter((n) => !given.includes(n));
      if (extra.length || missing.length) {
        throw new GruError(
          'ValueError',
          `Model '${this.name}' takes inputs ${names.map((n) => `'${n}'`).join(', ')}; received keys ${given.map((n) => `'${n}'`).join(', ') || 'none'}.`,
        );
      }
      return sameBatch(
        inputs.map((inp, i) => this.inputFlow((x as Record<string, TensorLike>)[names[i]], inp, `x['${names[i]}']`)),
        names,
      );
    }
    if (inputs.length === 1) {
      // A list of {shape, data} tensors is a list of inputs (Keras accepts [x] for one input);
      // a nested array of numbers is one tensor.
      if (!isTensorList(x)) return [this.inputFlow(x as TensorLike, inputs[0], 'x')];
      if (x.length !== 1) {
        throw new GruError('ValueError', `Layer "${this.name}" expects 1 input(s), but it received ${x.length} input tensors.`);
      }
      return [this.inputFlow(x[0], inputs[0], 'x[0]')];
    }
    if (!Array.isArray(x) || x.length !== inputs.length) {
      throw new GruError(
        'ValueError',
        `Model '${this.name}' has ${inputs.length} inputs (${names.join(', ')}); pass a list of ${inputs.length} tensors or an object keyed by input name, received ${Array.isArray(x) ? `a list of ${x.length}` : typeof x}.`,
      );
    }
    return sameBatch(
      inputs.map((inp, i) => this.inputFlow((x as TensorLike[])[i], inp, `x[${i}]`)),
      names,
    );
  }

  /** Converts x as Keras converts inputs to the Input's dtype, and checks its shape against the model's. */
  private inputFlow(x: TensorLike, input: InputSpec, what: string): Flow {
    const t = toTensor(x, what, 'float64');
    // Keras checks inputs without their batch size (functional input specs drop it), so a batch
    // size recorded by fit(batch_size=4) or Input(batch_shape=...) binds only where a layer needs it.
    const fixed = this.batchFixedBy;
    const want = fixed ? input.shape : [null, ...input.shape.slice(1)];
    const which = this.spec.inputs.length > 1 ? `input '${input.name}'` : 'input';
    if (t.shape.length !== want.length || t.shape.some((d, i) => want[i] !== null && want[i] !== d)) {
      const why = fixed && t.shape.length === want.length && t.shape[0] !== want[0] ? `; the batch size is fixed: ${fixed}` : '';
      throw new GruError(
        'ValueError',
        `Model '${this.name}' expects ${which} of shape ${formatShape(want)} (null: any size${why}), received ${formatShape(t.shape)}.`,
      );
    }
    const dtype = input.dtype;
    let data: Float32Array | Float64Array;
    if (dtype === 'float64') data = t.data;
    else if (INT_DTYPES.has(dtype)) {
      data = new Float64Array(t.data.length);
      for (let i = 0; i < data.length; i++) {
        const v = t.data[i];
        if (!Number.isFinite(v)) throw new GruError('ValueError', `Model '${this.name}' takes ${dtype} input; ${what} holds ${v} at flat index ${i}.`);
        data[i] = dtype === 'bool' ? (v !== 0 ? 1 : 0) : Math.trunc(v);
      }
    } else data = Float32Array.from(t.data);
    return { tensor: { shape: t.shape, data }, mask: null };
  }
}

/** True for a non-empty list whose items are {shape, data} tensors (not a nested array of numbers). */
function isTensorList(x: ModelInputs): x is TensorLike[] {
  return Array.isArray(x) && x.length > 0 && x.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e) && 'shape' in e);
}

/**
 * Keras's `predict` refuses inputs with different numbers of samples before any layer runs;
 * without this check a later layer (a merge, an initial state) fails with a message about itself.
 */
function sameBatch(flows: Flow[], names: string[]): Flow[] {
  const sizes = flows.map((f) => f.tensor.shape[0]);
  if (sizes.some((n) => n !== sizes[0])) {
    throw new GruError(
      'ValueError',
      `Data cardinality is ambiguous. Make sure all arrays contain the same number of samples. 'x' sizes: ${sizes.join(', ')} (inputs ${names.map((n) => `'${n}'`).join(', ')}).`,
    );
  }
  return flows;
}
