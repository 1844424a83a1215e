import { GruError, toTensor, type GRU, type Tensor, type TensorLike } from '@gru/core';
import type { ModelFormat, ModelSpec, ParsedModel, Shape } from './config/spec.js';
import { formatShape } from './errors.js';
import { type ModelLayer, weightTensor, type CallContext, type Flow } from './layers/base.js';
import { BidirectionalLayer } from './layers/bidirectional.js';
import { DenseLayer } from './layers/dense.js';
import { GruLayer } from './layers/gru.js';
import { DropoutLayer, EmbeddingLayer, MaskingLayer } from './layers/simple.js';

export interface PredictOptions {
  /** Run every GRU on this registered backend only (default: the model's, else the best available). */
  backend?: string;
}

const INT_DTYPES = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool']);

function createLayer(spec: ModelSpec['layers'][number], weights: (Float32Array | Float64Array)[], compat: ModelSpec['compat']): ModelLayer {
  const tensors = () => spec.weights.map((w, i) => weightTensor(weights[i], w.shape, spec.dtype));
  switch (spec.className) {
    case 'GRU':
      return new GruLayer(spec, weights, compat);
    case 'Bidirectional':
      return new BidirectionalLayer(spec, weights, compat);
    case 'Dense':
      return new DenseLayer(spec, tensors(), compat);
    case 'Embedding':
      return new EmbeddingLayer(spec, tensors());
    case 'Masking':
      return new MaskingLayer(spec);
    case 'Dropout':
      return new DropoutLayer(spec);
  }
}

/**
 * A Keras model loaded from a file: a linear chain of layers whose GRUs are @gru/core layers.
 * `predict` runs the whole model; `getGRU(name)` hands out a GRU to use on its own.
 */
export class KerasModel {
  readonly name: string;
  readonly format: ModelFormat;
  readonly kerasVersion: string;
  /** 'keras2' when the file came from Keras 2 (whose 'hard_sigmoid' is clip(0.2x + 0.5, 0, 1)). */
  readonly compat: ModelSpec['compat'];
  readonly inputShape: Shape;
  readonly inputDtype: string;
  readonly layers: readonly ModelLayer[];
  private readonly spec: ModelSpec;
  private readonly defaultBackend: string | undefined;

  constructor(parsed: ParsedModel, options: { backend?: string } = {}) {
    const { spec } = parsed;
    this.spec = spec;
    this.name = spec.name;
    this.format = parsed.format;
    this.kerasVersion = spec.kerasVersion;
    this.compat = spec.compat;
    this.inputShape = [...spec.input.shape];
    this.inputDtype = spec.input.dtype;
    this.layers = spec.layers.map((l, i) => createLayer(l, parsed.weights[i], spec.compat));
    this.defaultBackend = options.backend;
  }

  /** Output shapes (null = any size); two for a model ending in Bidirectional(merge_mode=None). */
  get outputShapes(): Shape[] {
    return this.layers.length ? this.layers[this.layers.length - 1].outputShapes.map((s) => [...s]) : [[...this.inputShape]];
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
   * Bidirectional by theirs ('forward_gru', 'backward_gru').
   */
  get grus(): Map<string, GRU> {
    const out = new Map<string, GRU>();
    for (const l of this.layers) {
      if (l instanceof GruLayer) out.set(l.name, l.gru);
      else if (l instanceof BidirectionalLayer) {
        out.set(l.forwardLayer.name, l.forwardLayer);
        out.set(l.backwardLayer.name, l.backwardLayer);
      }
    }
    return out;
  }

  getGRU(name: string): GRU {
    const grus = this.grus;
    const gru = grus.get(name);
    if (!gru) throw new GruError('ValueError', `No GRU named '${name}'. GRUs: ${[...grus.keys()].join(', ') || 'none'}.`);
    return gru;
  }

  /** Keras's `model.predict(x)` for a single-output model: x is `{shape, data}` or nested arrays. */
  async predict(x: TensorLike, options: PredictOptions = {}): Promise<Tensor> {
    return this.single(await this.predictOutputs(x, options));
  }

  /** `predict` on the synchronous path (GRUs run on backends that are loaded and synchronous). */
  predictSync(x: TensorLike, options: PredictOptions = {}): Tensor {
    return this.single(this.predictOutputsSync(x, options));
  }

  /** All outputs: one, or two for a model ending in Bidirectional(merge_mode=None). */
  async predictOutputs(x: TensorLike, options: PredictOptions = {}): Promise<Tensor[]> {
    const ctx = this.context(options);
    let flow = this.inputFlow(x);
    for (const layer of this.layers) flow = await layer.apply(flow, ctx);
    return outputsOf(flow);
  }

  predictOutputsSync(x: TensorLike, options: PredictOptions = {}): Tensor[] {
    const ctx = this.context(options);
    let flow = this.inputFlow(x);
    for (const layer of this.layers) flow = layer.applySync(flow, ctx);
    return outputsOf(flow);
  }

  /** Resets the state of stateful GRUs (Keras's `reset_states()`). */
  resetStates(): void {
    for (const gru of this.grus.values()) gru.resetStates();
  }

  /** Frees backend memory (native or GPU) held by the model's GRUs. The model stays usable. */
  dispose(): void {
    for (const l of this.layers) l.dispose();
  }

  /** A Keras-like one-line-per-layer summary. */
  summary(): string {
    const rows = [`Model: "${this.name}" (${this.spec.className}, Keras ${this.kerasVersion}, ${this.format})`];
    rows.push(`  input  ${formatShape(this.inputShape)} ${this.inputDtype}`);
    for (const l of this.layers) {
      const params = l.getWeights().reduce((n, w) => n + w.data.length, 0);
      rows.push(`  ${l.name} (${l.className})  -> ${l.outputShapes.map(formatShape).join(' + ')}  params: ${params}`);
    }
    rows.push(`Total params: ${this.parameterCount}`);
    return rows.join('\n');
  }

  private context(options: PredictOptions): CallContext {
    if (typeof options !== 'object' || options === null)
      throw new GruError('ValueError', `predict options must be an object such as {backend: 'cpu'}, received ${String(options)}.`);
    const unknown = Object.keys(options).filter((k) => k !== 'backend');
    if (unknown.length) throw new GruError('ValueError', `Unknown predict option(s): ${unknown.join(', ')}. Known options: backend.`);
    const backend = options.backend ?? this.defaultBackend;
    return backend === undefined ? {} : { backend };
  }

  private single(outputs: Tensor[]): Tensor {
    if (outputs.length !== 1) {
      throw new GruError('ValueError', `Model '${this.name}' has ${outputs.length} outputs; use predictOutputs() to get all of them.`);
    }
    return outputs[0];
  }

  /** Converts x as Keras converts inputs to the Input's dtype, and checks its shape against the model's. */
  private inputFlow(x: TensorLike): Flow {
    const t = toTensor(x, 'x', 'float64');
    const want = this.inputShape;
    if (t.shape.length !== want.length || t.shape.some((d, i) => want[i] !== null && want[i] !== d)) {
      throw new GruError('ValueError', `Model '${this.name}' expects input of shape ${formatShape(want)} (null: any size), received ${formatShape(t.shape)}.`);
    }
    const dtype = this.inputDtype;
    let data: Float32Array | Float64Array;
    if (dtype === 'float64') data = t.data;
    else if (INT_DTYPES.has(dtype)) {
      data = new Float64Array(t.data.length);
      for (let i = 0; i < data.length; i++) {
        const v = t.data[i];
        if (!Number.isFinite(v)) throw new GruError('ValueError', `Model '${this.name}' takes ${dtype} input; x holds ${v} at flat index ${i}.`);
        data[i] = Math.trunc(v);
      }
    } else data = Float32Array.from(t.data);
    return { tensor: { shape: t.shape, data }, mask: null };
  }
}

function outputsOf(flow: Flow): Tensor[] {
  return flow.second ? [flow.tensor, flow.second] : [flow.tensor];
}
