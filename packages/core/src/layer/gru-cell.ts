import type { ForwardRequest, GruSpec, GruWeights } from '../backend/types.js';
import {
  cellToKerasConfig,
  checkComputeDType,
  kerasConfigToOptions,
  resolveCellConfig,
  type CellConfig,
  type FromConfigOptions,
  type GruCellOptions,
} from '../config.js';
import { formatShape, valueError } from '../errors.js';
import { shareInstanceof } from '../shared-instanceof.js';
import { arrayTooLarge } from '../limits.js';
import { SeedGenerator } from '../random.js';
import { GlorotUniform } from '../initializers.js';
import { referenceForward } from '../reference/forward.js';
import { arrayFor, ofDType, toTensor, type DType, type FloatArray, type Tensor, type TensorLike } from '../tensor.js';
import { dropoutActive, drawDropoutMask, expandRows, parseMasks } from './dropout.js';
import { uniqueName } from './names.js';
import type { LayerArray, OnlyKnownKeys } from './typed-options.js';
import { checkWeightSize, copyTensor, kernelRows, parseWeights, toGruWeights, weightShapes } from './weights.js';

export interface CellCallOptions {
  training?: boolean;
}

/** What `GRUCell.call` returns: Keras's `(h, [h])`, as `D`: the cell's typed array. */
export interface CellResult<D extends FloatArray = FloatArray> {
  output: Tensor<D>;
  states: [Tensor<D>];
}

/** The weights of a built cell, by Keras's names, as `D`: the layer's typed array. */
export interface CellWeights<D extends FloatArray = FloatArray> {
  kernel: Tensor<D>;
  recurrentKernel: Tensor<D>;
  bias: Tensor<D> | null;
}

/**
 * Keras's `GRUCell`: one step of the GRU, plus the weights, dropout masks and config that a `GRU`
 * layer wraps. Its math is the reference backend's, run for a single timestep.
 *
 * `O` is the options the cell was created with, as TypeScript sees them: results and weights are
 * typed from its `dtype` (Float64Array for 'float64'). `GRUCell` alone accepts any cell.
 */
export class GRUCell<O extends GruCellOptions = GruCellOptions> {
  readonly config: CellConfig;
  readonly name: string;
  /** Incremented whenever the weights change, so prepared backends know to refresh. */
  weightsVersion = 0;
  private weightList: Tensor[] | null = null;
  /** Built but not initialized yet: the initializers run when the weights are first needed. */
  private initPending = false;
  private inputDim: number | undefined;
  /** The shape `build` was called with (Keras's build_config), when known. */
  buildInputShape: (number | null)[] | undefined;
  private readonly seedGenerator: SeedGenerator;
  private dropoutMask: FloatArray[] | null = null;
  private view: { spec: GruSpec; weights: GruWeights } | undefined;
  private recurrentDropoutMask: FloatArray[] | null = null;

  /** The layer errors name: this cell, or the GRU layer wrapping it. */
  private readonly ownerName: string;

  constructor(options: O & OnlyKnownKeys<O, GruCellOptions>, resolved?: CellConfig, ownerName?: string) {
    this.config = resolved ?? resolveCellConfig(options);
    this.name = this.config.name ?? uniqueName('gru_cell');
    this.ownerName = ownerName ?? this.name;
    // The recurrent kernel's size is known now: a units no build could allocate is refused here.
    checkWeightSize(weightShapes(null, this.config.units, this.config.useBias, this.config.resetAfter), this.dtype, this.ownerName);
    this.seedGenerator = new SeedGenerator(this.config.seed);
  }

  /** Builds a cell from Keras's `get_config()` JSON (snake_case, as Keras writes it). */
  static fromConfig(config: Record<string, unknown>, options: FromConfigOptions = {}): GRUCell {
    const { options: opts, inputDim } = kerasConfigToOptions(config, options);
    const cell = new GRUCell(opts as unknown as GruCellOptions);
    if (inputDim !== undefined) cell.build(inputDim);
    return cell;
  }

  getConfig(): Record<string, unknown> {
    return cellToKerasConfig(this.config, this.name);
  }

  get units(): number {
    return this.config.units;
  }
  get stateSize(): number {
    return this.config.units;
  }
  get outputSize(): number {
    return this.config.units;
  }
  get built(): boolean {
    return this.weightList !== null || this.initPending;
  }
  /** The dtype weights, inputs and outputs use (the policy's variable dtype). */
  get dtype(): DType {
    return this.config.dtypePolicy.variable;
  }

  /**
   * Creates the weights. `inputShape` is `[..., features]` or the feature count. The initializers
   * run when the weights are first needed, so a cell given its weights by `setWeights()` right
   * after (as a model loader does) never pays for them (an orthogonal recurrent kernel is
   * O(units^3)). Refuses weights no typed array can hold now, and weights past `maxWeightBytes`
   * (see setResourceLimits) when they would be initialized, before allocating.
   */
  build(inputShape: readonly (number | null)[] | number): void {
    const inputDim = typeof inputShape === 'number' ? inputShape : inputShape[inputShape.length - 1];
    if (!this.built) this.buildInputShape = typeof inputShape === 'number' ? [null, inputShape] : [...inputShape];
    if (typeof inputDim !== 'number' || !Number.isInteger(inputDim) || inputDim < 0) {
      throw valueError(`GRUCell.build: the last axis of the input shape must be a known non-negative integer, received ${JSON.stringify(inputShape)}.`);
    }
    if (this.built) {
      if (inputDim !== this.inputDim) {
        throw valueError(`Layer '${this.name}' was built for ${this.inputDim} input features; it cannot be rebuilt for ${inputDim}.`);
      }
      return;
    }
    const c = this.config;
    checkWeightSize(weightShapes(inputDim, c.units, c.useBias, c.resetAfter), this.dtype, this.ownerName);
    this.inputDim = inputDim;
    this.initPending = true;
    this.weightsVersion++;
  }

  private initialize(): Tensor[] {
    const c = this.config;
    const inits = [c.kernelInitializer, c.recurrentInitializer, c.biasInitializer];
    const shapes = weightShapes(this.inputDim as number, c.units, c.useBias, c.resetAfter);
    checkWeightSize(shapes, this.dtype, this.ownerName, true);
    const list = shapes.map((shape, i) => ({
      shape,
      // A None initializer: Keras's add_weight starts float weights as glorot_uniform.
      data: (inits[i] ?? new GlorotUniform()).generate(shape, this.dtype),
    }));
    this.weightList = list;
    this.initPending = false;
    return list;
  }

  /** Input feature count (after build). */
  get inputSize(): number | undefined {
    return this.inputDim;
  }

  private requireBuilt(): Tensor[] {
    if (this.initPending) return this.initialize();
    if (!this.weightList) {
      throw valueError(`Layer '${this.name}' has no weights yet: call it on an input, call build(inputShape), or setWeights() first.`);
    }
    return this.weightList;
  }

  /**
   * The live weights (no copy): read them, never write them. Calls in flight and prepared
   * backends hold these arrays; change weights with `setWeights()` (getWeights() gives copies).
   */
  get kernel(): Tensor<LayerArray<O>> {
    return this.requireBuilt()[0] as Tensor<LayerArray<O>>;
  }
  get recurrentKernel(): Tensor<LayerArray<O>> {
    return this.requireBuilt()[1] as Tensor<LayerArray<O>>;
  }
  get bias(): Tensor<LayerArray<O>> | null {
    return (this.requireBuilt()[2] ?? null) as Tensor<LayerArray<O>> | null;
  }

  /** Keras's `get_weights()`: copies of kernel, recurrent_kernel and (if used) bias. */
  getWeights(): Tensor<LayerArray<O>>[] {
    return (this.built ? this.requireBuilt().map(copyTensor) : []) as Tensor<LayerArray<O>>[];
  }

  /**
   * Keras's `set_weights()`. Accepts the list or `{kernel, recurrentKernel, bias}`. An unbuilt
   * cell is built from the kernel's first dimension.
   */
  setWeights(
    weights: readonly TensorLike[] | { kernel: TensorLike; recurrentKernel: TensorLike; bias?: TensorLike | null },
    /** The layer name errors mention (a GRU passes its own; Keras names the layer set_weights was called on). */
    layerName = this.name,
  ): void {
    const c = this.config;
    // An unbuilt cell takes its input size from the kernel; the shapes are then checked as usual.
    const inputDim = this.inputDim ?? kernelRows(weights);
    if (this.inputDim === undefined && inputDim !== undefined) checkWeightSize(weightShapes(inputDim, c.units, c.useBias, c.resetAfter), this.dtype, layerName);
    const parsed = parseWeights(weights, weightShapes(inputDim ?? null, c.units, c.useBias, c.resetAfter), layerName, this.dtype);
    this.inputDim = parsed[0].shape[0];
    this.weightList = parsed;
    this.initPending = false;
    this.weightsVersion++;
  }

  /** The kernel-facing description of this cell (after build): a fresh object the caller may change. */
  spec(): GruSpec {
    return { ...this.callView().spec };
  }

  /** Weights as flat arrays in Keras's layout (the arrays are shared, not copied: backends must not write to them). */
  gruWeights(): GruWeights {
    return { ...this.callView().weights };
  }

  /**
   * spec() and gruWeights() as one frozen pair, shared by every call and made again only when a
   * weight array is replaced: every call reads both, and they change only with the weights.
   * For the layer's own call path; users get copies from spec() and gruWeights().
   * @internal
   */
  callView(): { readonly spec: GruSpec; readonly weights: GruWeights } {
    const list = this.requireBuilt();
    const v = this.view;
    if (v && v.weights.kernel === list[0].data && v.weights.recurrentKernel === list[1].data && v.weights.bias === (list[2]?.data ?? null)) return v;
    const c = this.config;
    const spec: GruSpec = Object.freeze({
      units: c.units,
      inputDim: this.inputDim as number,
      activation: c.activation,
      recurrentActivation: c.recurrentActivation,
      useBias: c.useBias,
      resetAfter: c.resetAfter,
      dtype: this.dtype,
    });
    this.view = { spec, weights: Object.freeze(toGruWeights(list)) };
    return this.view;
  }

  /** Keras's `get_initial_state(batch_size)`: one zero state `[batch, units]`. */
  getInitialState(batchSize: number): Tensor<LayerArray<O>>[] {
    if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 0) {
      throw valueError(`getInitialState expects \`batch_size\` to be a non-negative integer, received ${String(batchSize)}.`);
    }
    const tooLarge = arrayTooLarge(`the state (batch ${batchSize}, units ${this.units})`, batchSize * this.units, this.dtype === 'float64' ? 8 : 4);
    if (tooLarge) throw valueError(`Layer '${this.name}' cannot create its initial state: ${tooLarge}.`);
    return [{ shape: [batchSize, this.units], data: arrayFor(this.dtype, batchSize * this.units) as LayerArray<O> }];
  }

  /** Weight regularization penalties (kernel, recurrent kernel, bias), as in Keras's `layer.losses`. */
  get losses(): number[] {
    if (!this.built) return [];
    const c = this.config;
    const regs = [c.kernelRegularizer, c.recurrentRegularizer, c.biasRegularizer];
    const out: number[] = [];
    this.requireBuilt().forEach((w, i) => {
      const r = regs[i];
      if (r) out.push(r.penalty(w.data, w.shape));
    });
    return out;
  }

  /** Applies kernel/recurrent/bias constraints to the weights, as Keras's optimizer does after an update. */
  applyConstraints(): void {
    const list = this.requireBuilt();
    const c = this.config;
    const cons = [c.kernelConstraint, c.recurrentConstraint, c.biasConstraint];
    let changed = false;
    list.forEach((w, i) => {
      const con = cons[i];
      if (con) {
        w.data = con.apply(w.data, w.shape);
        changed = true;
      }
    });
    if (changed) this.weightsVersion++;
  }

  // ---- dropout masks (Keras 3's DropoutRNNCell, plus tf.keras's names) ----

  /** The number of input masks Keras draws: 3 (one per gate) for implementation 1, else 1. */
  get dropoutMaskCount(): 1 | 3 {
    return this.config.implementation === 1 ? 3 : 1;
  }

  /** Keras 3 `get_dropout_mask(step_input)`: the cached input mask(s) [batch, features], drawn on first use. */
  getDropoutMask(batch: number): FloatArray[] | null {
    // A mask cached by the tf.keras API with another count or batch is not this call's mask.
    if (this.dropoutMask && !fits(this.dropoutMask, this.dropoutMaskCount, batch, this.requireInputDim())) this.dropoutMask = null;
    if (this.dropoutMask === null && this.config.dropout > 0) {
      this.dropoutMask = this.drawMasks(batch, this.requireInputDim(), this.config.dropout, this.dropoutMaskCount);
    }
    return this.dropoutMask;
  }

  /**
   * Keras 3 `get_recurrent_dropout_mask(step_input)`: three cached masks, drawn with the shape of
   * the state they multiply, [stateRows, units]: a [1, units] initial state gives [1, units]
   * masks, which broadcast over the batch.
   */
  getRecurrentDropoutMask(batch: number, stateRows: number = batch): FloatArray[] | null {
    if (this.recurrentDropoutMask && !fits(this.recurrentDropoutMask, 3, batch, this.units)) this.recurrentDropoutMask = null;
    if (this.recurrentDropoutMask === null && this.config.recurrentDropout > 0) {
      this.recurrentDropoutMask = this.drawMasks(stateRows, this.units, this.config.recurrentDropout, 3);
    }
    return this.recurrentDropoutMask;
  }

  /**
   * tf.keras `get_dropout_mask_for_cell(inputs, training, count)`: null without dropout; all-ones
   * masks outside training; otherwise `count` seeded masks, cached until `resetDropoutMask()`.
   */
  getDropoutMaskForCell(inputs: TensorLike, training: boolean, count = 1): Tensor | Tensor[] | null {
    return this.maskForCell(inputs, training, count, this.config.dropout, 'dropoutMask');
  }

  /** tf.keras `get_recurrent_dropout_mask_for_cell(inputs, training, count)`, for a state-shaped input. */
  getRecurrentDropoutMaskForCell(inputs: TensorLike, training: boolean, count = 1): Tensor | Tensor[] | null {
    return this.maskForCell(inputs, training, count, this.config.recurrentDropout, 'recurrentDropoutMask');
  }

  private maskForCell(
    inputs: TensorLike,
    training: boolean,
    count: number,
    rate: number,
    slot: 'dropoutMask' | 'recurrentDropoutMask',
  ): Tensor | Tensor[] | null {
    if (rate === 0) return null;
    const t = toTensor(inputs, 'inputs', this.dtype);
    const [rows, cols] = [t.shape[0], t.shape[t.shape.length - 1]];
    let masks: FloatArray[];
    if (!training) {
      masks = Array.from({ length: count }, () => arrayFor(this.dtype, rows * cols).fill(1));
    } else {
      const cached = this[slot];
      masks = cached && cached.length === count && cached[0].length === rows * cols ? cached : this.drawMasks(rows, cols, rate, count);
      this[slot] = masks;
    }
    const tensors = masks.map((data) => ({ shape: [rows, cols], data }));
    return count === 1 ? tensors[0] : tensors;
  }

  resetDropoutMask(): void {
    this.dropoutMask = null;
  }
  resetRecurrentDropoutMask(): void {
    this.recurrentDropoutMask = null;
  }

  /**
   * Supplies the input dropout mask(s) to use instead of drawing them, as tests do with Keras's
   * `cell._dropout_mask`: one [batch, features] tensor, or three for implementation 1.
   */
  setDropoutMask(masks: TensorLike | TensorLike[], batch: number): void {
    this.dropoutMask = parseMasks(masks, this.dropoutMaskCount, batch, this.requireInputDim(), 'dropoutMask', this.dtype);
  }

  /**
   * Supplies the three recurrent dropout masks (Keras's `cell._recurrent_dropout_mask`), each
   * [batch, units] or [1, units] (broadcast over the batch, as Keras's multiply does).
   */
  setRecurrentDropoutMask(masks: TensorLike[], batch: number): void {
    this.recurrentDropoutMask = parseMasks(masks, 3, batch, this.units, 'recurrentDropoutMask', this.dtype);
  }

  private drawMasks(rows: number, cols: number, rate: number, count: number): FloatArray[] {
    return Array.from({ length: count }, () => drawDropoutMask(this.seedGenerator, rows, cols, rate, this.dtype));
  }

  private requireInputDim(): number {
    this.requireBuilt();
    return this.inputDim as number;
  }

  /**
   * Masks for one training call, or undefined: the shared input mask is returned apart because
   * callers fold it into the inputs (Keras's implementation 2 multiplies before the matmul).
   * `stateRows` is the first dimension of the state the recurrent masks are drawn from (1 for a
   * [1, units] initial state). Every mask returned is expanded to [batch, ...], so backends see
   * one row per batch entry whatever Keras broadcast.
   */
  callMasks(
    batch: number,
    training: boolean,
    stateRows: number = batch,
  ): { shared?: FloatArray; perGate?: [FloatArray, FloatArray, FloatArray]; recurrent?: [FloatArray, FloatArray, FloatArray] } {
    const out: ReturnType<GRUCell['callMasks']> = {};
    const expand = (masks: FloatArray[], cols: number) => masks.map((m) => expandRows(m, batch, cols));
    if (dropoutActive(this.config.dropout, training)) {
      const masks = expand(this.getDropoutMask(batch) as FloatArray[], this.requireInputDim());
      if (masks.length === 3) out.perGate = masks as [FloatArray, FloatArray, FloatArray];
      else out.shared = masks[0];
    }
    if (dropoutActive(this.config.recurrentDropout, training)) {
      out.recurrent = expand(this.getRecurrentDropoutMask(batch, stateRows) as FloatArray[], this.units) as [FloatArray, FloatArray, FloatArray];
    }
    return out;
  }

  /**
   * Keras's `GRUCell.call(inputs, states, training)`: one step for a batch. `states` is `[h]` or
   * a bare `h` ([batch, units]; a [1, units] state broadcasts over the batch, as in Keras).
   */
  call(inputs: TensorLike, states: TensorLike | TensorLike[], options: CellCallOptions = {}): CellResult<LayerArray<O>> {
    const request = this.stepRequest(inputs, states, options);
    const view = this.callView();
    const result = referenceForward(view.spec, view.weights, request);
    return this.stepResult(request, result.output, result.lastState);
  }

  /**
   * The backend request for one `call` step (a one-timestep sequence), validated, with dropout
   * masks folded in as Keras applies them. Lets a backend run exactly what `call` runs.
   */
  stepRequest(inputs: TensorLike, states: TensorLike | TensorLike[], options: CellCallOptions = {}): ForwardRequest {
    checkComputeDType(this.config.dtypePolicy, `GRUCell '${this.name}'`);
    const x = toTensor(inputs, 'inputs', this.dtype);
    if (x.shape.length !== 2) {
      throw valueError(`GRUCell '${this.name}' expects inputs of shape (batch, features); received shape ${formatShape(x.shape)}.`);
    }
    const [batch, features] = x.shape;
    this.build(features);
    if (features !== this.inputDim) {
      throw valueError(
        `Input of GRUCell '${this.name}' must have ${this.inputDim} features (its kernel has ${this.inputDim} rows); received shape ${formatShape(x.shape)}.`,
      );
    }
    const stateList = isTensorList(states) ? states : [states as TensorLike];
    if (stateList.length !== 1) {
      throw valueError(`GRUCell '${this.name}' has one state; received ${stateList.length} state tensors.`);
    }
    const state = toTensor(stateList[0], 'states[0]', this.dtype);
    const h = broadcastState(state, batch, this.units, `GRUCell '${this.name}'`);
    const masks = this.callMasks(batch, options.training === true, state.shape[0]);
    return {
      x: masks.shared ? multiplyRows(x.data, masks.shared, batch, 1, features) : x.data,
      batch,
      timesteps: 1,
      initialState: h,
      goBackwards: false,
      returnSequences: false,
      inputDropoutMasks: masks.perGate,
      recurrentDropoutMasks: masks.recurrent,
    };
  }

  /** Shapes a one-step backend result as `call` returns it (in the cell's dtype, whatever the backend returned). */
  stepResult(request: ForwardRequest, output: FloatArray, state: FloatArray): CellResult<LayerArray<O>> {
    const shape = [request.batch, this.units];
    const data = (a: FloatArray) => ofDType(a, this.dtype) as LayerArray<O>;
    return { output: { shape, data: data(output) }, states: [{ shape: [...shape], data: data(state) }] };
  }
}
// `instanceof GRUCell` holds for a cell made by the other build (ESM or CJS) of @gru/core.
shareInstanceof(GRUCell, '@gru/core/GRUCell');

/** A list of tensors (`[h]`), as opposed to one tensor given as a nested array. */
export function isTensorList(states: unknown): states is TensorLike[] {
  return Array.isArray(states) && states.length > 0 && states.every((s) => typeof s === 'object' && s !== null && (!Array.isArray(s) || Array.isArray(s[0])));
}

/** Cached masks usable for [rows, cols]: `count` of them, each [rows, cols] or [1, cols] (broadcast). */
function fits(masks: FloatArray[], count: number, rows: number, cols: number): boolean {
  return masks.length === count && masks.every((m) => m.length === rows * cols || m.length === cols);
}

/** x [batch, timesteps, features] times a [batch, features] mask that repeats over the timesteps. */
export function multiplyRows(x: FloatArray, mask: FloatArray, batch: number, timesteps: number, features: number): FloatArray {
  const out = x.slice();
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < timesteps; t++) {
      const off = (b * timesteps + t) * features;
      for (let d = 0; d < features; d++) out[off + d] *= mask[b * features + d];
    }
  }
  return out;
}

/** Checks an initial state [batch, units] (or [1, units], broadcast as Keras does). */
export function broadcastState(t: Tensor, batch: number, units: number, owner: string): FloatArray {
  if (t.shape.length !== 2 || t.shape[1] !== units || (t.shape[0] !== batch && t.shape[0] !== 1)) {
    throw valueError(`${owner}: the initial state must have shape ${formatShape([batch, units])} (batch, units); received ${formatShape(t.shape)}.`);
  }
  return expandRows(t.data, batch, units);
}
