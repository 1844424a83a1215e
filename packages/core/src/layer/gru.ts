import { checkForwardResult, checkGradients } from '../backend/check-result.js';
import { selectAndLoad } from '../backend/loading.js';
import { selectBackend, type BackendChoice, type SkippedBackend } from '../backend/select.js';
import type { BackwardRequest, BoundForwardRequest, ForwardRequest, ForwardResult, GruCallInfo, GruGradients, GruSpec, GruWeights } from '../backend/types.js';
import {
  checkComputeDType,
  kerasConfigToOptions,
  layerToKerasConfig,
  resolveLayerConfig,
  type FromConfigOptions,
  type GruOptions,
  type LayerConfig,
} from '../config.js';
import { GruError, formatShape, valueError } from '../errors.js';
import { shareInstanceof } from '../shared-instanceof.js';
import { arrayTooLarge } from '../limits.js';
import { arrayFor, swapLeadingAxes, toTensor, type DType, type FloatArray, type Tensor, type TensorLike } from '../tensor.js';
import { broadcastState, GRUCell, isTensorList, multiplyRows, type CellWeights } from './gru-cell.js';
import { applyMaskedOutputConventions, classifyMask, parseMask } from './masking.js';
import { uniqueName } from './names.js';
import { PreparedCache, preparedGone, type PreparedEntry } from './prepared-cache.js';
import { bindBySync, GruStream, type GruStreamOptions, type StreamBinding } from './stream.js';
import { checkBackwardOptions } from './backward-options.js';
import type { LayerArray, OnlyKnownKeys, ReturnsState } from './typed-options.js';
import { weightShapes } from './weights.js';

export interface GruCallOptions {
  /** [batch, timesteps]: 1/true keeps a step, 0/false masks it. */
  mask?: TensorLike | null;
  /** Training mode: dropout applies (when configured). */
  training?: boolean;
  /** `[h0]` or `h0`, [batch, units] ([1, units] broadcasts, as in Keras). */
  initialState?: TensorLike | TensorLike[] | null;
  /**
   * Dropout masks to use instead of drawing them (what Keras keeps in `cell._dropout_mask`):
   * one [batch, features] tensor, or three (z, r, h) when recurrentDropout > 0 or implementation 1.
   */
  dropoutMask?: TensorLike | TensorLike[];
  /** Three [batch, units] recurrent dropout masks (z, r, h). */
  recurrentDropoutMask?: TensorLike[];
  /** Run on this backend only, overriding the layer's `backend` option. */
  backend?: string;
  /** Keep what `backward()` needs (default: the value of `training`). */
  keepForBackward?: boolean;
}

/**
 * Gradients from `backward()`, in the shapes of what they differentiate (Keras's layout for
 * weights), as `D`: the layer's typed array.
 */
export interface GruLayerGradients<D extends FloatArray = FloatArray, Inputs extends Tensor<D> | null = Tensor<D>> {
  /**
   * d loss / d inputs, shaped like the inputs of the forward call (timeMajor respected); null
   * when backward ran with `inputGradients: false`.
   */
  inputs: Inputs;
  /** d loss / d initial state, when the call had one (given, or a stateful layer's state); else null. */
  initialState: Tensor<D> | null;
  kernel: Tensor<D>;
  recurrentKernel: Tensor<D>;
  /** null when useBias is false. */
  bias: Tensor<D> | null;
}

export interface BackwardOptions {
  /**
   * Also differentiate the layer's regularization losses (`layer.losses`): the weight penalties'
   * gradients are added to the weight gradients and the activity penalty's (divided by the batch
   * size, as Keras does) to the output and state gradients. Default false.
   */
  includeRegularization?: boolean;
  /**
   * false: don't differentiate the inputs (the result's `inputs` is null), which saves the
   * backend the input-gradient GEMM and its buffers. For a first layer fed by the model's inputs,
   * whose input gradient nothing reads (what Keras's `fit` does for such a layer). Default true.
   */
  inputGradients?: boolean;
}

/** The type of `inputs` in the gradients of `backward(..., options)`: null only with `inputGradients: false`. */
export type InputGradientsOf<Opt extends BackwardOptions, D extends FloatArray> = [InputGradientsFlag<Opt>] extends [false]
  ? null
  : [InputGradientsFlag<Opt>] extends [true | undefined]
    ? Tensor<D>
    : Tensor<D> | null;

/**
 * The type of `inputGradients` in the options (undefined where they don't name it), taken member
 * by member of a union of option types (`keyof (A | B)` keeps only the keys both have).
 */
type InputGradientsFlag<Opt> = Opt extends unknown ? ('inputGradients' extends keyof Opt ? Opt['inputGradients' & keyof Opt] : undefined) : never;

const CALL_OPTIONS = ['mask', 'training', 'initialState', 'dropoutMask', 'recurrentDropoutMask', 'backend', 'keepForBackward'] as const;
const isCallOption = (key: string): boolean => (CALL_OPTIONS as readonly string[]).includes(key);

/** What a forward call kept for `backward()`. */
interface Trace {
  plan: CallPlan;
  prepared: PreparedEntry;
  saved: unknown;
  outputs: Tensor[];
  weightsVersion: number;
}

/**
 * The result of a GRU call, plus which backend ran it and why the others did not. `D` is the
 * layer's typed array (Float64Array for `dtype: 'float64'`); `WithState` is the layer's
 * `returnState` (`boolean` where it is not known): `state` is a Tensor when it is true.
 */
export interface GruResult<D extends FloatArray = FloatArray, WithState extends boolean = boolean> {
  /** [batch, timesteps, units] (returnSequences; [timesteps, batch, units] when timeMajor) or [batch, units]. */
  output: Tensor<D>;
  /** The final state [batch, units] with `returnState: true`; undefined without. */
  state: WithState extends true ? Tensor<D> : undefined;
  /** Exactly what Keras returns: `[output]`, or `[output, state]` with `returnState`. */
  outputs: [WithState] extends [true] ? [Tensor<D>, Tensor<D>] : [WithState] extends [false] ? [Tensor<D>] : Tensor<D>[];
  /** The backend that ran the call. */
  backend: string;
  /** Every other registered backend, with the reason it was not used. */
  skipped: SkippedBackend[];
}

/** What a call of a layer created with options `O` returns. */
export type GruResultOf<O> = GruResult<LayerArray<O>, ReturnsState<O>>;

/** A validated call, ready for a backend: everything it needs, taken when the call was made. */
interface CallPlan {
  /** Order of the call among this layer's calls (the last one made sets trace and losses). */
  seq: number;
  spec: GruSpec;
  /** The weights when the call was made (core never writes weight arrays in place) and their version. */
  weights: GruWeights;
  weightsVersion: number;
  /** Whether the caller gave the initial state (else a stateful layer supplies its own). */
  givenState: boolean;
  /** The stateful layer's reset count when the call was made: a reset since then wins over this call's state. */
  stateEpoch: number;
  /** A stateful call's final state (a copy), once it ran. */
  finalState?: FloatArray;
  request: ForwardRequest;
  info: GruCallInfo;
  batch: number;
  timesteps: number;
  mask?: Uint8Array;
  backendName?: string;
  /** The shared input dropout mask folded into x (its gradient must be applied to dx). */
  sharedDropoutMask?: FloatArray;
  /** Shape of the initial state as given ([1, units] broadcasts), or undefined when none. */
  initialStateShape?: number[];
  features: number;
}

/**
 * Keras's `GRU` layer. Core decides every Keras rule here (validation, masks, dropout, state,
 * output conventions); a backend runs the whole time loop in one call.
 *
 * `O` is the options the layer was created with, as TypeScript sees them: results, weights and
 * states are typed from its `dtype` and `returnState` (see GruResult). `GRU` alone accepts any layer.
 */
export class GRU<O extends GruOptions = GruOptions> {
  readonly config: LayerConfig;
  readonly name: string;
  readonly cell: GRUCell;
  private statefulState: FloatArray | null = null;
  private statefulBatch: number | undefined;
  private activityLosses: number[] = [];
  private readonly prepared = new PreparedCache();
  /** The state a stateful layer's pending async calls will leave, in call order (undefined when none is pending). */
  private pendingState: Promise<FloatArray | null> | undefined;
  private stateEpoch = 0;
  private callSeq = 0;
  private settledSeq = 0;
  /** How the last call chose its backend. */
  lastChoice: BackendChoice | undefined;
  private trace: Trace | undefined;

  constructor(options: O & OnlyKnownKeys<O, GruOptions>) {
    this.config = resolveLayerConfig(options);
    this.name = this.config.name ?? uniqueName('gru');
    // Keras names the wrapped cell 'gru_cell' explicitly, which does not consume an auto name.
    this.cell = new GRUCell({ units: this.config.units }, { ...this.config, name: 'gru_cell' }, this.name);
  }

  /** Builds a layer from Keras's `get_config()` JSON (snake_case, nested objects as Keras serializes them). */
  static fromConfig(config: Record<string, unknown>, options: FromConfigOptions = {}): GRU {
    const { options: opts, inputDim } = kerasConfigToOptions(config, options);
    const layer = new GRU(opts as unknown as GruOptions);
    if (inputDim !== undefined) layer.build([null, null, inputDim]);
    return layer;
  }

  /** Keras's `get_config()`: JSON that `keras.layers.GRU.from_config` accepts. */
  getConfig(): Record<string, unknown> {
    return layerToKerasConfig(this.config, this.name);
  }

  get units(): number {
    return this.config.units;
  }
  get dtype(): DType {
    return this.cell.dtype;
  }
  get built(): boolean {
    return this.cell.built;
  }

  /** Creates the weights. `inputShape` is `[batch, timesteps, features]` (batch and timesteps may be null). */
  build(inputShape: readonly (number | null)[]): void {
    if (!Array.isArray(inputShape) || inputShape.length !== 3) {
      throw valueError(`GRU.build expects an input shape (batch, timesteps, features); received ${JSON.stringify(inputShape)}.`);
    }
    const built = this.cell.built;
    this.cell.build(inputShape);
    if (!built) this.cell.buildInputShape = [...inputShape];
    const batch = inputShape[this.config.timeMajor ? 1 : 0];
    if (this.config.stateful && typeof batch === 'number') {
      // Keras 3 creates the state variables (zeros) when a stateful layer is built.
      this.statefulBatch ??= batch;
      this.statefulState ??= arrayFor(this.dtype, batch * this.units);
    }
  }

  /** The input shape the layer accepts: [batch, timesteps, features] (or [timesteps, batch, features]). */
  get inputShape(): (number | null)[] {
    const batch = this.statefulBatch ?? null;
    const features = this.cell.inputSize ?? null;
    return this.config.timeMajor ? [null, batch, features] : [batch, null, features];
  }

  /** The output shape(s) for the layer's input shape (see computeOutputShape). */
  get outputShape(): (number | null)[] | (number | null)[][] {
    return this.computeOutputShape(this.inputShape);
  }

  /** Keras's `compute_output_shape`: the output shape, or [output, state] shapes with returnState. */
  computeOutputShape(inputShape: readonly (number | null)[]): (number | null)[] | (number | null)[][] {
    if (!Array.isArray(inputShape) || inputShape.length !== 3) {
      throw valueError(`computeOutputShape expects a rank-3 input shape; received ${JSON.stringify(inputShape)}.`);
    }
    const c = this.config;
    const [a, b] = inputShape;
    const batch = c.timeMajor ? b : a;
    const time = c.timeMajor ? a : b;
    const output = c.returnSequences ? (c.timeMajor ? [time, batch, c.units] : [batch, time, c.units]) : [batch, c.units];
    return c.returnState ? [output, [batch, c.units]] : output;
  }

  /**
   * The live weights (no copy): read them, never write them. Calls in flight and prepared
   * backends hold these arrays; change weights with `setWeights()` (getWeights() gives copies).
   */
  get kernel(): Tensor<LayerArray<O>> {
    return this.cell.kernel as Tensor<LayerArray<O>>;
  }
  get recurrentKernel(): Tensor<LayerArray<O>> {
    return this.cell.recurrentKernel as Tensor<LayerArray<O>>;
  }
  get bias(): Tensor<LayerArray<O>> | null {
    return this.cell.bias as Tensor<LayerArray<O>> | null;
  }

  /** Copies of the weights, in Keras's order: kernel, recurrentKernel, then bias (when useBias). */
  getWeights(): Tensor<LayerArray<O>>[] {
    return this.cell.getWeights() as Tensor<LayerArray<O>>[];
  }

  setWeights(weights: readonly TensorLike[] | { kernel: TensorLike; recurrentKernel: TensorLike; bias?: TensorLike | null }): void {
    this.cell.setWeights(weights, this.name);
  }

  /** Weights by name. */
  get weights(): CellWeights<LayerArray<O>> {
    return { kernel: this.kernel, recurrentKernel: this.recurrentKernel, bias: this.bias };
  }

  /** Keras's `layer.losses`: the activity penalty of the last call (per output), then kernel, recurrent, bias penalties. */
  get losses(): number[] {
    return [...this.activityLosses, ...this.cell.losses];
  }

  applyConstraints(): void {
    this.cell.applyConstraints();
  }

  getInitialState(batchSize: number): Tensor<LayerArray<O>>[] {
    return this.cell.getInitialState(batchSize) as Tensor<LayerArray<O>>[];
  }

  /**
   * A copy of the stateful layer's state, `[h]` with h `[batch, units]`. null when the layer is
   * not stateful, and before its batch size is known (its first call, or `build()` with a batch
   * size), as in Keras; check before indexing: `gru.states?.[0]`.
   */
  get states(): Tensor<LayerArray<O>>[] | null {
    if (!this.config.stateful || this.statefulState === null || this.statefulBatch === undefined) return null;
    return [{ shape: [this.statefulBatch, this.units], data: this.statefulState.slice() as LayerArray<O> }];
  }

  /**
   * Resets a stateful layer's state to zeros, or sets it to `states` (`[h]` or `h`, [batch, units]),
   * which tf.keras 2 allowed and Keras 3 does with `layer.states[0].assign(h)`. No-op when not stateful.
   */
  resetStates(states?: TensorLike | TensorLike[]): void {
    if (!this.config.stateful) return;
    if (states === undefined || states === null) {
      if (this.statefulBatch !== undefined) this.statefulState = arrayFor(this.dtype, this.statefulBatch * this.units);
      this.restartStateChain();
      return;
    }
    const list = isTensorList(states) ? states : [states as TensorLike];
    const t = toTensor(list[0], 'states', this.dtype);
    const batch = this.statefulBatch ?? t.shape[0];
    if (t.shape.length !== 2 || t.shape[0] !== batch || t.shape[1] !== this.units) {
      throw valueError(`Layer '${this.name}': resetStates expects a state of shape ${formatShape([batch, this.units])}, received ${formatShape(t.shape)}.`);
    }
    this.statefulBatch = batch;
    this.statefulState = t.data;
    this.restartStateChain();
  }

  /** As in call order: calls made after a reset start from the reset state, and earlier ones no longer write theirs. */
  private restartStateChain(): void {
    this.stateEpoch++;
    this.pendingState = undefined;
  }

  /** Keras 3's name for resetStates() without values. */
  resetState(): void {
    this.resetStates();
  }

  /**
   * Runs the layer on a whole sequence (Keras's `layer(inputs, ...)`), on the best backend that
   * supports the call. Everything the call reads (inputs, mask, initial state, dropout masks,
   * weights) is taken when it is made: changing them, or `setWeights()`, before the promise
   * settles does not affect it. Calls on a stateful layer run in call order, each from the state
   * the previous one left.
   */
  forward(inputs: TensorLike, options: GruCallOptions = {}): Promise<GruResultOf<O>> {
    let plan: CallPlan;
    try {
      plan = this.plan(inputs, options, false);
    } catch (err) {
      return Promise.reject(err);
    }
    return (this.config.stateful ? this.runStateful(plan) : this.run(plan)) as Promise<GruResultOf<O>>;
  }

  /** The synchronous forward, on backends that are loaded and run synchronously (reference, cpu, wasm). */
  forwardSync(inputs: TensorLike, options: GruCallOptions = {}): GruResultOf<O> {
    if (this.config.stateful && this.pendingState) {
      throw valueError(
        `Layer '${this.name}' is stateful and has async calls in flight: await them before calling forwardSync, which needs the state they leave.`,
      );
    }
    const plan = this.plan(inputs, options, true);
    const choice = selectBackend(plan.spec, plan.info, this.preferences(plan, true));
    const lease = this.prepared.acquireSync(choice.backend, plan.spec, plan.weights, plan.weightsVersion);
    try {
      const result = (lease.prepared.forwardSync as (r: ForwardRequest) => ForwardResult)(plan.request);
      return this.finish(plan, result, choice, lease.entry) as GruResultOf<O>;
    } finally {
      lease.release();
    }
  }

  /**
   * A stateful layer fed one timestep at a time: `stream.step(x)` is `forwardSync(x [batch, 1,
   * features])` (inference, no mask), continuing from and updating the layer's state, with the
   * call checked and its buffers laid out once here, so a step allocates nothing. See GruStream.
   */
  stream(options: GruStreamOptions = {}): GruStream<LayerArray<O>> {
    const c = this.config;
    if (typeof options !== 'object' || options === null) {
      throw valueError(`GRU.stream options must be an object such as {backend, batch, features}; received ${String(options)}.`);
    }
    const known = ['backend', 'batch', 'features'];
    const unknown = Object.keys(options).filter((k) => !known.includes(k));
    if (unknown.length) throw valueError(`Unknown GRU.stream option(s): ${unknown.join(', ')}. Known options: ${known.join(', ')}.`);
    if (!c.stateful) {
      throw valueError(`Layer '${this.name}' is not stateful: a stream carries the state from step to step, so create the layer with stateful: true.`);
    }
    const positive = (v: unknown, name: string) => {
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) {
        throw valueError(`GRU.stream option \`${name}\` must be a positive integer; received ${String(v)}.`);
      }
      return v as number | undefined;
    };
    const batchOption = positive(options.batch, 'batch');
    const featuresOption = positive(options.features, 'features');
    const batch = this.statefulBatch ?? batchOption;
    if (batch === undefined) {
      throw valueError(`Layer '${this.name}' has no batch size yet: pass stream({batch}), or build the layer with one (build([batch, null, features])).`);
    }
    if (batchOption !== undefined && batchOption !== batch) {
      throw valueError(`Layer '${this.name}' is stateful with batch size ${batch}; stream({batch: ${batchOption}}) cannot change it.`);
    }
    if (!this.cell.built) {
      if (featuresOption === undefined) throw valueError(`Layer '${this.name}' is not built: pass stream({features}), or build it first.`);
      this.build(c.timeMajor ? [null, batch, featuresOption] : [batch, null, featuresOption]);
    }
    const features = this.cell.inputSize as number;
    if (featuresOption !== undefined && featuresOption !== features) {
      throw valueError(`Layer '${this.name}' takes ${features} input features; stream({features: ${featuresOption}}) does not match.`);
    }
    checkComputeDType(c.dtypePolicy, `Layer '${this.name}'`);
    this.checkOutputSize(batch, 1);
    this.statefulBatch ??= batch;
    this.statefulState ??= arrayFor(this.dtype, batch * this.units);
    const info: GruCallInfo = {
      batch,
      timesteps: 1,
      mask: 'none',
      initialState: true,
      goBackwards: false,
      returnSequences: false,
      inputDropoutPerGate: false,
      recurrentDropout: false,
      recurrentDropoutRate: c.recurrentDropout,
      training: false,
      backward: false,
      unroll: c.unroll,
    };
    const choice = selectBackend(this.cell.callView().spec, info, { backend: options.backend ?? c.backend, useCudnn: c.useCudnn, sync: true, backward: false });
    const backend = choice.backend;
    return new GruStream<LayerArray<O>>({
      name: this.name,
      dtype: this.dtype,
      units: this.units,
      features,
      batch,
      backend: backend.name,
      state: () => this.statefulState,
      setState: (s) => {
        this.statefulState = s;
      },
      busy: () =>
        this.pendingState ? 'it is stateful and has async calls in flight: await them before stepping, as a step needs the state they leave.' : undefined,
      weightsVersion: () => this.cell.weightsVersion,
      bind: (request: BoundForwardRequest): StreamBinding => {
        const view = this.cell.callView();
        const lease = this.prepared.acquireSync(backend, view.spec, view.weights, this.cell.weightsVersion);
        try {
          const p = lease.prepared;
          const call = p.bindForward ? p.bindForward(request) : bindBySync(p, request);
          return {
            call,
            // Retired (new weights, layer disposed) or gone under it (its backend disposed and loaded again).
            stale: () => lease.entry.retired || preparedGone(lease.prepared),
            release: () => {
              call.dispose();
              lease.release();
            },
          };
        } catch (err) {
          lease.release();
          throw err;
        }
      },
    });
  }

  /** Frees what backends prepared for this layer (native or GPU memory), after the calls in flight. The layer stays usable. */
  dispose(): void {
    this.prepared.dispose();
  }

  private async run(plan: CallPlan): Promise<GruResult> {
    // Neither is a promise once the backend is loaded and prepared: a small call awaits only the backend.
    const selected = selectAndLoad(plan.spec, plan.info, this.preferences(plan, false));
    const choice = selected instanceof Promise ? await selected : selected;
    const acquired = this.prepared.acquire(choice.backend, plan.spec, plan.weights, plan.weightsVersion);
    const lease = acquired instanceof Promise ? await acquired : acquired;
    try {
      const result = await lease.prepared.forward(plan.request);
      return this.finish(plan, result, choice, lease.entry);
    } finally {
      lease.release();
    }
  }

  /** Keras runs a stateful layer's calls one after another: each waits for the state the previous one leaves. */
  private async runStateful(plan: CallPlan): Promise<GruResult> {
    const previous = this.pendingState;
    let settle!: (state: FloatArray | null) => void;
    const after = new Promise<FloatArray | null>((resolve) => (settle = resolve));
    this.pendingState = after;
    let state = plan.request.initialState ?? null;
    try {
      if (previous) {
        const left = await previous;
        if (!plan.givenState && left !== null) {
          state = left;
          plan.request.initialState = left;
        }
      }
      const result = await this.run(plan);
      state = plan.finalState ?? state;
      return result;
    } finally {
      settle(state);
      if (this.pendingState === after) this.pendingState = undefined;
    }
  }

  private preferences(plan: CallPlan, sync: boolean) {
    return { backend: plan.backendName, useCudnn: this.config.useCudnn, sync, backward: plan.info.backward };
  }

  /** Keras resets the cell's cached dropout masks after every call. */
  private endCall(): void {
    this.cell.resetDropoutMask();
    this.cell.resetRecurrentDropoutMask();
  }

  /**
   * Validates the inputs and options, builds the layer if needed, and draws dropout masks.
   * `sync` calls may borrow the caller's input array (nothing runs before they return); async
   * ones copy what they keep.
   */
  private plan(inputs: TensorLike, options: GruCallOptions, sync: boolean): CallPlan {
    try {
      return this.planCall(inputs, options, sync);
    } finally {
      // Keras resets the cell's cached dropout masks after every call; the plan holds this call's.
      this.endCall();
    }
  }

  private planCall(inputs: TensorLike, options: GruCallOptions, sync: boolean): CallPlan {
    const c = this.config;
    if (typeof options !== 'object' || options === null) {
      throw valueError(`GRU call options must be an object such as {mask, training, initialState}; received ${String(options)}.`);
    }
    const keys = Object.keys(options);
    // The list and the message only when a key is unknown: this runs on every call.
    if (keys.length && !keys.every(isCallOption)) {
      const unknown = keys.filter((k) => !isCallOption(k));
      throw valueError(`Unknown GRU call option(s): ${unknown.join(', ')}. Known options: ${CALL_OPTIONS.join(', ')}.`);
    }
    checkComputeDType(c.dtypePolicy, `Layer '${this.name}'`);
    const dtype = this.dtype;
    const x0 = toTensor(inputs, 'inputs', dtype, { borrow: true }); // read only: never written
    if (x0.shape.length !== 3) {
      throw valueError(
        `Input 0 with name 'None' of layer '${this.name}' is incompatible with the layer: expected ndim=3, found ndim=${x0.shape.length}. Full shape received: ${formatShape(x0.shape)}`,
      );
    }
    const [d0, d1, features] = x0.shape;
    const [batch, timesteps] = c.timeMajor ? [d1, d0] : [d0, d1];
    const x = c.timeMajor ? swapLeadingAxes(x0.data, d0, d1, features) : x0.data;
    if (!this.cell.built) this.build([batch, timesteps, features]);
    if (features !== this.cell.inputSize) {
      throw valueError(
        `Input 0 of layer '${this.name}' is incompatible with the layer: expected axis -1 of input shape to have value ${this.cell.inputSize}, ` +
          `but received input with shape ${formatShape(x0.shape)}`,
      );
    }
    if (timesteps === 0) {
      throw new GruError(
        'IndexError',
        `Layer '${this.name}' received an input with 0 timesteps (shape ${formatShape(x0.shape)}); a GRU needs at least one step.`,
      );
    }
    this.checkOutputSize(batch, timesteps);
    if (c.stateful) {
      this.statefulBatch ??= batch;
      if (batch !== this.statefulBatch) {
        throw valueError(
          'If an RNN is stateful, the batch size of the input sequences must be the same as the batch size of the initial state. \n' +
            `- Expected batch size: ${this.statefulBatch}\n- Received batch size: ${batch}`,
        );
      }
    }
    // A time-major layer takes a time-major mask [timesteps, batch], as Keras's rnn() does.
    const mask = options.mask === undefined || options.mask === null ? undefined : parseMask(options.mask, batch, timesteps, this.name, c.timeMajor);
    const { data: initialState, shape: initialStateShape } = this.initialStateFor(options.initialState, batch);
    const training = options.training === true;
    const keep = options.keepForBackward ?? training;
    if (options.dropoutMask !== undefined) this.cell.setDropoutMask(options.dropoutMask, batch);
    if (options.recurrentDropoutMask !== undefined) this.cell.setRecurrentDropoutMask(options.recurrentDropoutMask, batch);
    // Keras draws the recurrent masks from the state's shape: a [1, units] initial state gives
    // [1, units] masks, broadcast over the batch.
    const masks = this.cell.callMasks(batch, training, initialStateShape?.[0] ?? batch);
    let xs = masks.shared ? multiplyRows(x, masks.shared, batch, timesteps, features) : x;
    // An async call must not see later writes to the caller's array, nor its transfer; neither
    // must a later backward() (which reads what its forward call kept).
    const mustCopy = !sync || keep;
    if (mustCopy && xs === (inputs as { data?: unknown }).data) xs = xs.slice();
    // Cached masks may be the user's (getDropoutMaskForCell hands them out): copies, for the same reason.
    const copyMasks = <T extends readonly FloatArray[] | undefined>(m: T): T => (!mustCopy || !m ? m : (m.map((a) => a.slice()) as unknown as T));
    const request: ForwardRequest = {
      x: xs,
      batch,
      timesteps,
      initialState,
      mask,
      goBackwards: c.goBackwards,
      returnSequences: c.returnSequences,
      inputDropoutMasks: copyMasks(masks.perGate),
      recurrentDropoutMasks: copyMasks(masks.recurrent),
      keepForBackward: keep,
    };
    const info: GruCallInfo = {
      batch,
      timesteps,
      mask: classifyMask(mask, batch, timesteps),
      initialState: initialState !== undefined,
      goBackwards: c.goBackwards,
      returnSequences: c.returnSequences,
      inputDropoutPerGate: masks.perGate !== undefined,
      recurrentDropout: masks.recurrent !== undefined,
      recurrentDropoutRate: c.recurrentDropout,
      training,
      backward: keep,
      unroll: c.unroll,
    };
    const view = this.cell.callView();
    return {
      seq: ++this.callSeq,
      spec: view.spec,
      weights: view.weights,
      weightsVersion: this.cell.weightsVersion,
      givenState: options.initialState !== undefined && options.initialState !== null,
      stateEpoch: this.stateEpoch,
      request,
      info,
      batch,
      timesteps,
      mask,
      features,
      backendName: options.backend ?? c.backend,
      sharedDropoutMask: masks.shared,
      initialStateShape,
    };
  }

  /** Refuses a call whose output or state no typed array can hold, before anything is allocated for it. */
  private checkOutputSize(batch: number, timesteps: number): void {
    const c = this.config;
    const bytesPer = this.dtype === 'float64' ? 8 : 4;
    const sizes = () => `batch ${batch}, timesteps ${timesteps}, units ${this.units}`;
    const tooLarge =
      arrayTooLarge(() => `the output (${sizes()})`, c.returnSequences ? batch * timesteps * this.units : batch * this.units, bytesPer) ??
      arrayTooLarge(() => `the state (${sizes()})`, batch * this.units, bytesPer);
    if (tooLarge) throw valueError(`Layer '${this.name}' cannot run this call: ${tooLarge}.`);
  }

  private initialStateFor(given: GruCallOptions['initialState'], batch: number): { data?: FloatArray; shape?: number[] } {
    if (given !== undefined && given !== null) {
      const list = isTensorList(given) ? given : [given as TensorLike];
      if (list.length !== 1) {
        throw valueError(`Layer '${this.name}' has 1 state (units=${this.units}), but received ${list.length} initial state tensors.`);
      }
      const t = toTensor(list[0], 'initialState', this.dtype);
      return { data: broadcastState(t, batch, this.units, `Layer '${this.name}'`), shape: t.shape };
    }
    if (this.config.stateful) {
      this.statefulState ??= arrayFor(this.dtype, batch * this.units);
      return { data: this.statefulState, shape: [batch, this.units] };
    }
    return {};
  }

  /** Applies Keras's output conventions, keeps stateful state, and shapes the result. */
  private finish(plan: CallPlan, result: ForwardResult, choice: BackendChoice, prepared: PreparedEntry): GruResult {
    const c = this.config;
    const { batch, timesteps } = plan;
    const H = this.units;
    // A backend's bug (wrong array type or length, a missing field) must not become a silently
    // converted or mis-shaped result: the error names the backend and the field.
    const checked = checkForwardResult(choice.backend.name, plan.spec, plan.request, result);
    let out = checked.output;
    const lastState = checked.lastState;
    if (plan.mask) {
      applyMaskedOutputConventions(out, plan.mask, {
        batch,
        timesteps,
        units: H,
        goBackwards: c.goBackwards,
        returnSequences: c.returnSequences,
        unroll: c.unroll,
        zeroOutputForMask: c.zeroOutputForMask,
        compat: c.compat,
      });
    }
    if (c.stateful) {
      plan.finalState = lastState.slice();
      if (plan.stateEpoch === this.stateEpoch) this.statefulState = plan.finalState;
    }
    let outShape = c.returnSequences ? [batch, timesteps, H] : [batch, H];
    if (c.returnSequences && c.timeMajor) {
      out = swapLeadingAxes(out, batch, timesteps, H);
      outShape = [timesteps, batch, H];
    }
    const output: Tensor = { shape: outShape, data: out };
    const state: Tensor | undefined = c.returnState ? { shape: [batch, H], data: lastState } : undefined;
    const outputs = state ? [output, state] : [output];
    const reply = { output, state, outputs, backend: choice.backend.name, skipped: choice.skipped };
    // Calls may settle out of order: what the layer remembers is the last call made, as in Keras.
    if (plan.seq < this.settledSeq) return reply;
    this.settledSeq = plan.seq;
    this.activityLosses = c.activityRegularizer
      ? outputs.map((t) => (batch === 0 ? 0 : (c.activityRegularizer as NonNullable<LayerConfig['activityRegularizer']>).penalty(t.data, t.shape) / batch))
      : [];
    this.lastChoice = choice;
    this.trace = plan.info.backward
      ? { plan, prepared, saved: result.saved, outputs: outputs.map((t) => ({ shape: t.shape, data: t.data.slice() })), weightsVersion: plan.weightsVersion }
      : undefined;
    return reply;
  }

  /**
   * Gradients of a loss through the last forward call made with `training: true` (or
   * `keepForBackward: true`), given d loss / d output (shaped like `output`) and, with
   * `returnState`, d loss / d state. Runs on the backend that ran the forward call.
   */
  async backward<const Opt extends BackwardOptions & OnlyKnownKeys<Opt, BackwardOptions> = Record<never, never>>(
    dOutput: TensorLike,
    dState?: TensorLike | null,
    options?: Opt,
  ): Promise<GruLayerGradients<LayerArray<O>, InputGradientsOf<Opt, LayerArray<O>>>> {
    const opts = options ?? ({} as Opt);
    // Validated and copied now: later writes to dOutput/dState, or setWeights(), do not reach this call.
    const { trace, request } = this.backwardRequest(dOutput, dState, opts);
    const lease = this.holdPrepared(trace);
    try {
      if (!lease.prepared.backward) throw valueError(`Backend '${trace.prepared.backend.name}' does not implement backward.`);
      return this.shapeGradients(trace, await lease.prepared.backward(trace.saved, request), opts);
    } finally {
      lease.release();
    }
  }

  /** The synchronous backward, where the backend that ran the forward call has one (reference). */
  backwardSync<const Opt extends BackwardOptions & OnlyKnownKeys<Opt, BackwardOptions> = Record<never, never>>(
    dOutput: TensorLike,
    dState?: TensorLike | null,
    options?: Opt,
  ): GruLayerGradients<LayerArray<O>, InputGradientsOf<Opt, LayerArray<O>>> {
    const opts = options ?? ({} as Opt);
    const { trace, request } = this.backwardRequest(dOutput, dState, opts);
    const lease = this.holdPrepared(trace);
    try {
      if (!lease.prepared.backwardSync) {
        throw valueError(`Backend '${trace.prepared.backend.name}' has no synchronous backward; use the async backward().`);
      }
      return this.shapeGradients(trace, lease.prepared.backwardSync(trace.saved, request), opts);
    } finally {
      lease.release();
    }
  }

  /** The forward call's prepared layer, kept from being updated or disposed while backward runs on it. */
  private holdPrepared(trace: Trace) {
    const lease = this.prepared.hold(trace.prepared);
    if (!lease)
      throw valueError(`Layer '${this.name}': the layer (or the backend it ran on) was disposed since the forward call; run forward again before backward().`);
    return lease;
  }

  /** Validates dOutput/dState against the kept call and maps them to the backend's layout. */
  private backwardRequest(dOutputLike: TensorLike, dStateLike: TensorLike | null | undefined, options: BackwardOptions) {
    checkBackwardOptions(options);
    const trace = this.trace;
    if (!trace) {
      throw valueError(`Layer '${this.name}': backward() needs a preceding forward call with training: true (or keepForBackward: true).`);
    }
    if (trace.weightsVersion !== this.cell.weightsVersion) {
      throw valueError(`Layer '${this.name}': the weights changed since the forward call; run forward again before backward().`);
    }
    const c = this.config;
    const { batch, timesteps } = trace.plan;
    const [outTensor, stateTensor] = trace.outputs;
    const dOut = toTensor(dOutputLike, 'dOutput', this.dtype);
    if (dOut.shape.length !== outTensor.shape.length || dOut.shape.some((d, i) => d !== outTensor.shape[i])) {
      throw valueError(`Argument \`dOutput\` must have the output's shape ${formatShape(outTensor.shape)}, received ${formatShape(dOut.shape)}.`);
    }
    let dLastState: FloatArray | undefined;
    if (dStateLike !== undefined && dStateLike !== null) {
      // Without returnState the call returned no state: a gradient for it belongs to nothing, and
      // adding it to the last step's would change every gradient silently.
      if (!c.returnState) {
        throw valueError(
          `Argument \`dState\` must be left out (or null): layer '${this.name}' has returnState: false, so its call returned no state to take a gradient for; received ${describeGiven(dStateLike)}.`,
        );
      }
      const ds = toTensor(dStateLike, 'dState', this.dtype);
      if (ds.shape.length !== 2 || ds.shape[0] !== batch || ds.shape[1] !== this.units) {
        throw valueError(`Argument \`dState\` must have the state's shape ${formatShape([batch, this.units])}, received ${formatShape(ds.shape)}.`);
      }
      dLastState = ds.data;
    }
    const activity = options.includeRegularization ? c.activityRegularizer : null;
    if (activity && batch > 0) {
      const gOut = activity.gradient(outTensor.data, outTensor.shape);
      for (let i = 0; i < dOut.data.length; i++) dOut.data[i] += gOut[i] / batch;
      if (stateTensor) {
        const gState = activity.gradient(stateTensor.data, stateTensor.shape);
        // In the layer's dtype, like every other array handed to a backend.
        const summed = arrayFor(this.dtype, batch * this.units);
        for (let i = 0; i < summed.length; i++) summed[i] = (dLastState ? dLastState[i] : 0) + gState[i] / batch;
        dLastState = summed;
      }
    }
    let d = c.returnSequences && c.timeMajor ? swapLeadingAxes(dOut.data, timesteps, batch, this.units) : dOut.data;
    if (trace.plan.mask) {
      // Positions Keras's conventions set to zero do not depend on the state: their gradient is 0.
      d = d.slice();
      applyMaskedOutputConventions(d, trace.plan.mask, {
        batch,
        timesteps,
        units: this.units,
        goBackwards: c.goBackwards,
        returnSequences: c.returnSequences,
        unroll: c.unroll,
        zeroOutputForMask: c.zeroOutputForMask,
        compat: c.compat,
      });
    }
    const inputGradients = options.inputGradients ?? true;
    const request: BackwardRequest = { dOutput: d, dLastState };
    if (!inputGradients) request.inputGradients = false;
    return { trace, request };
  }

  /** `inputs` is null exactly when `options.inputGradients` is false (what InputGradientsOf types). */
  private shapeGradients<Opt extends BackwardOptions>(
    trace: Trace,
    gradients: GruGradients,
    options: Opt,
  ): GruLayerGradients<LayerArray<O>, InputGradientsOf<Opt, LayerArray<O>>> {
    const c = this.config;
    const inputGradients = options.inputGradients !== false;
    // The layer's types promise its dtype's arrays, whatever a backend hands back.
    const g: GruGradients = checkGradients(trace.prepared.backend.name, trace.plan.spec, trace.plan, gradients, inputGradients);
    const { batch, timesteps, features, sharedDropoutMask, initialStateShape } = trace.plan;
    let inputs: Tensor | null = null;
    if (inputGradients) {
      let dx = sharedDropoutMask ? multiplyRows(g.dx, sharedDropoutMask, batch, timesteps, features) : g.dx;
      if (c.timeMajor) dx = swapLeadingAxes(dx, batch, timesteps, features);
      inputs = { shape: c.timeMajor ? [timesteps, batch, features] : [batch, timesteps, features], data: dx };
    }
    const shapes = weightShapes(features, this.units, c.useBias, c.resetAfter);
    const weightGrads = [g.dKernel, g.dRecurrentKernel, g.dBias].slice(0, shapes.length) as FloatArray[];
    if (options.includeRegularization) {
      const regs = [c.kernelRegularizer, c.recurrentRegularizer, c.biasRegularizer];
      // The forward call's weights (backward refuses when they changed since): no copy needed.
      const current = [trace.plan.weights.kernel, trace.plan.weights.recurrentKernel, trace.plan.weights.bias].map((data, i) => ({
        data: data as FloatArray,
        shape: shapes[i],
      }));
      weightGrads.forEach((wg, i) => {
        const r = regs[i];
        if (!r) return;
        const rg = r.gradient(current[i].data, current[i].shape);
        for (let k = 0; k < wg.length; k++) wg[k] += rg[k];
      });
    }
    let initialState: Tensor | null = null;
    if (initialStateShape) {
      let data = g.dInitialState;
      if (initialStateShape[0] === 1 && batch !== 1) {
        // A [1, units] state was broadcast over the batch: its gradient is the sum over rows.
        const summed = arrayFor(this.dtype, this.units);
        for (let b = 0; b < batch; b++) for (let j = 0; j < this.units; j++) summed[j] += data[b * this.units + j];
        data = summed;
      }
      initialState = { shape: [...initialStateShape], data };
    }
    return {
      inputs,
      initialState,
      kernel: { shape: shapes[0], data: weightGrads[0] },
      recurrentKernel: { shape: shapes[1], data: weightGrads[1] },
      bias: shapes[2] ? { shape: shapes[2], data: weightGrads[2] } : null,
    } as GruLayerGradients<LayerArray<O>, InputGradientsOf<Opt, LayerArray<O>>>;
  }
}
// serializeLayer, and a user's `instanceof GRU`, see a GRU made by the other build (ESM or CJS) as one.
shareInstanceof(GRU, '@gru/core/GRU');

/** A given gradient, for a message: its shape where it is a tensor. */
function describeGiven(value: TensorLike): string {
  try {
    return `one of shape ${formatShape(toTensor(value, 'dState', 'float64').shape)}`;
  } catch {
    return 'one';
  }
}
