import type { ActivationId } from '../activations.js';
import type { DType, FloatArray } from '../tensor.js';

/**
 * The version of the backend interface below. A backend states the version it implements in
 * `specVersion`; core refuses to register one it does not understand. Bump on breaking changes.
 */
export const GRU_BACKEND_SPEC_VERSION: 1 = 1;

/** What a layer is, as far as a kernel cares. Fixed for a prepared layer. */
export interface GruSpec {
  units: number;
  inputDim: number;
  /** Keras activation names (`tanh`, `sigmoid`, `hard_sigmoid`, ...), or `keras2_hard_sigmoid`. */
  activation: ActivationId;
  recurrentActivation: ActivationId;
  useBias: boolean;
  resetAfter: boolean;
  /** Precision of inputs, weights, outputs and state. */
  dtype: DType;
}

/**
 * Weights in Keras's layout, flat row-major. Core never writes these arrays in place (new weights
 * come as new arrays), so a backend may keep references to them: `kernel [inputDim, 3*units]`,
 * `recurrentKernel [units, 3*units]`, gate blocks z, r, h; `bias [3*units]` (resetAfter false)
 * or `[2, 3*units]` (input bias row, then recurrent bias row); null when useBias is false.
 */
export interface GruWeights {
  kernel: FloatArray;
  recurrentKernel: FloatArray;
  bias: FloatArray | null;
}

/** What a call asks of a backend, for `supports()` and selection. */
export interface GruCallInfo {
  batch: number;
  timesteps: number;
  /** `none`, masks that keep a prefix of each row (`right-padded`, cuDNN can run these), or `any`. */
  mask: 'none' | 'right-padded' | 'any';
  initialState: boolean;
  goBackwards: boolean;
  returnSequences: boolean;
  /** Three per-gate input dropout masks are passed (Keras's implementation 1, training only). */
  inputDropoutPerGate: boolean;
  /** Three per-gate recurrent dropout masks are passed (training with recurrentDropout > 0). */
  recurrentDropout: boolean;
  /** The layer's configured recurrent dropout rate (Keras's cuDNN rule looks at it even in inference). */
  recurrentDropoutRate: number;
  training: boolean;
  /** The caller will ask for gradients of this call. */
  backward: boolean;
  /** Keras's `unroll`; only cuDNN eligibility looks at it (the math is the same). */
  unroll: boolean;
}

/**
 * One whole-sequence forward call. Semantics (core relies on them):
 * - steps run t = 0..T-1, or T-1..0 when `goBackwards`; the mask is indexed by the original t;
 * - at a masked step the state is carried unchanged and the step's output is that carried state;
 * - `output` is [batch, timesteps, units] in processing order when `returnSequences`, else the
 *   last processed step's output [batch, units]; `lastState` is [batch, units].
 * Core applies Keras's output conventions (zero_output_for_mask, unroll) afterwards.
 */
export interface ForwardRequest {
  /**
   * [batch, timesteps, inputDim], batch-major. A single shared input dropout mask is already
   * applied. Read it, never write it. From `forwardSync` (without keepForBackward) it may be the
   * caller's own array, valid only during the call; `forward` gets arrays no one else holds (the
   * layer copies at call time), which the backend may read until its promise settles.
   */
  x: FloatArray;
  batch: number;
  timesteps: number;
  /** [batch, units]; zeros when absent. */
  initialState?: FloatArray;
  /** [batch, timesteps], 1 = keep, 0 = masked. */
  mask?: Uint8Array;
  goBackwards: boolean;
  returnSequences: boolean;
  /** Per-gate (z, r, h) multipliers for the input, each [batch, inputDim]. */
  inputDropoutMasks?: readonly [FloatArray, FloatArray, FloatArray];
  /** Per-gate (z, r, h) multipliers for the previous state, each [batch, units]. */
  recurrentDropoutMasks?: readonly [FloatArray, FloatArray, FloatArray];
  /** Keep what `backward` needs in `saved`. */
  keepForBackward?: boolean;
}

/**
 * A forward request whose outputs go into arrays the caller supplies, for `bindForward`. The same
 * semantics as ForwardRequest; `keepForBackward` must be absent or false. `output` and `lastState`
 * must not share memory with each other or with the inputs.
 */
export interface BoundForwardRequest extends ForwardRequest {
  /** Filled by every run: [batch, timesteps, units] (returnSequences) or [batch, units]. */
  output: FloatArray;
  /** Filled by every run: [batch, units]. */
  lastState: FloatArray;
}

/** A forward call checked once, run again and again on the current contents of its arrays. */
export interface BoundForward {
  /**
   * Runs the bound request synchronously, reading its input arrays as they are now and writing
   * `output` and `lastState`. Throws when the prepared layer was disposed or an array was
   * detached or resized since binding.
   */
  run(): void;
  /** Releases what the backend holds for this call; run() then throws. Idempotent. */
  dispose(): void;
}

/**
 * Arrays of the spec's dtype (Float32Array for float32, Float64Array for float64), fresh for each
 * call (a later call must not change them); core checks their type and length and names the
 * field it rejects.
 */
export interface ForwardResult {
  output: FloatArray;
  lastState: FloatArray;
  /** Opaque to core; handed back to `backward`. */
  saved?: unknown;
}

export interface BackwardRequest {
  /** Gradient of the loss w.r.t. `output` (same shape as the forward `output`). */
  dOutput: FloatArray;
  /** Gradient w.r.t. `lastState`, when the state was used. */
  dLastState?: FloatArray;
  /**
   * false: the caller drops `dx` (a first layer fed by the model's inputs), so the backend may
   * skip computing it (the dx GEMM and its buffers) and return `dx` as an empty array. A backend
   * may ignore this and return the full `dx`; core drops it either way. Default true.
   */
  inputGradients?: boolean;
}

/** Gradients w.r.t. the forward request's x, initialState and the weights (Keras layout). */
export interface GruGradients {
  /** [batch, timesteps, inputDim]; may be empty (length 0) when the request had `inputGradients: false`. */
  dx: FloatArray;
  dInitialState: FloatArray;
  dKernel: FloatArray;
  dRecurrentKernel: FloatArray;
  dBias: FloatArray | null;
}

/** A layer's weights converted for one backend (packed panels, GPU buffers, cuDNN layout...). */
export interface PreparedGru {
  readonly spec: GruSpec;
  forward(request: ForwardRequest): Promise<ForwardResult>;
  /** Present where the backend can run without awaiting (reference, cpu, wasm). */
  forwardSync?(request: ForwardRequest): ForwardResult;
  /**
   * Checks a request once and returns a call that reruns it without checking or allocating again
   * (streaming: one step per run, see `GRU.stream()`). Optional: core falls back to
   * `forwardSync` and copies. Each run uses the prepared layer's current weights.
   */
  bindForward?(request: BoundForwardRequest): BoundForward;
  backward?(saved: unknown, request: BackwardRequest): Promise<GruGradients>;
  backwardSync?(saved: unknown, request: BackwardRequest): GruGradients;
  /** Replaces the weights (same spec) without re-preparing. */
  setWeights(weights: GruWeights): void | Promise<void>;
  /** Frees native/GPU memory now; the object is unusable afterwards. Idempotent. */
  dispose(): void;
  /**
   * True once this prepared layer can no longer run: it was disposed, or what it runs on is gone
   * (the backend was disposed and freed its module; the GPU device was lost). A layer then prepares
   * its weights again, on the backend as it is now, instead of failing every call. Optional: a
   * prepared layer that lives until its own dispose() (its backend's dispose leaves it working)
   * needs none. Must not throw (one that throws is taken as true).
   */
  isDisposed?(): boolean;
}

export interface GruBackend {
  /**
   * The interface version this backend implements: GRU_BACKEND_SPEC_VERSION of the @gru/core it
   * was built against. Typed as that constant, so a backend written for another version fails to
   * compile against this one.
   */
  readonly specVersion: typeof GRU_BACKEND_SPEC_VERSION;
  readonly name: string;
  /** Higher runs first; negative means only when asked for by name. */
  readonly priority: number;
  /** True for backends that implement Keras's cuDNN path (they follow `useCudnn`). */
  readonly cudnn?: boolean;
  /** Loads addons, wasm, adapters or devices; rejects with a clear reason when unavailable. */
  load(): Promise<void>;
  /** Whether `load()` has completed successfully (sync selection only uses loaded backends). */
  isLoaded(): boolean;
  /** True, or the reason this backend cannot run the call. Callable before `load()`. */
  supports(spec: GruSpec, call: GruCallInfo): true | string;
  /** Whether `backward` is implemented (true), or why not. */
  supportsBackward?(spec: GruSpec): true | string;
  prepare(spec: GruSpec, weights: GruWeights): Promise<PreparedGru>;
  prepareSync?(spec: GruSpec, weights: GruWeights): PreparedGru;
  /** Bytes of native or device memory this backend holds now (leak checks in conformance). */
  memoryInUse?(): number;
  /** Releases everything the backend loaded. */
  dispose?(): void;
}
