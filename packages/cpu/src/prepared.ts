import {
  asFloats,
  checkBackwardRequest,
  checkForwardRequest,
  checkObject,
  checkWeights,
  type BackwardRequest,
  type BoundForward,
  type BoundForwardRequest,
  type ForwardRequest,
  type ForwardResult,
  GruError,
  type GruGradients,
  MAX_ARRAY_ELEMENTS,
  type GruSpec,
  type GruWeights,
  type PreparedGru,
  readBackwardRequest,
  readRequest,
  readWeights,
} from '@gru/core';
import { FIRST_ROWWISE_ID, NATIVE_ACTIVATIONS } from './activations.js';
import type { NativeBinding, NativeLayer, NativeSaved } from './native.js';

/** What a prepared layer needs from its backend at call time (read per call: options can change). */
export interface CallSettings {
  threads(): number;
  /** Calls with fewer multiply-adds than this run synchronously inside forward(). */
  syncBelowMacs(): number;
  /** The fewest multiply-adds per recurrence step worth a thread. */
  minStepMacsPerThread(): number;
}

// Core's engine copy when needed: `instanceof` misses another realm's arrays, and Float32Array.from
// would consult a subclass's @@iterator (values nobody checked).
const f32 = (a: ArrayBufferView) => asFloats(a, 'float32') as Float32Array;

/** Whether one typed array can hold `n` elements. */
const fitsArray = (n: number) => Number.isSafeInteger(n) && n >= 0 && n <= MAX_ARRAY_ELEMENTS;

/** The counts and returnSequences of a call kept for backward (the native handle lacks returnSequences), so core checks backward's gradients. */
type KeptCall = Pick<ForwardRequest, 'batch' | 'timesteps' | 'returnSequences'>;

/**
 * The weights read once and checked (core's check: either float type, converted here; a plain
 * array of anything would have become NaN), as the addon takes them; `where` (prepare,
 * setWeights) names the call in errors. The addon checks the lengths again before packing.
 */
export function nativeWeights(spec: GruSpec, given: GruWeights, where: string): [Float32Array, Float32Array, Float32Array | null] {
  const weights = readWeights(given);
  checkWeights(spec, weights, `cpu ${where}`, { anyFloat: true });
  return [f32(weights.kernel), f32(weights.recurrentKernel), weights.bias ? f32(weights.bias) : null];
}

/** Multiply-adds of a call: the projection for every step plus one recurrent GEMM per step. */
export function callMacs(spec: GruSpec, batch: number, timesteps: number): number {
  return batch * timesteps * 3 * spec.units * (spec.inputDim + spec.units);
}

/**
 * A layer's weights packed in native memory for the detected instruction set. `forward` runs on a
 * libuv worker thread (the event loop stays free) except for calls too small to be worth the
 * thread hop (see `syncBelowMacs`), which run inline; `forwardSync` always runs inline. Both use
 * the backend's thread pool. With `keepForBackward` the result's `saved` holds (natively) what
 * `backward` needs; the garbage collector frees it. Native memory of the weights is freed by
 * `dispose()`, or by the garbage collector if the object is dropped without it.
 */
export class CpuPreparedGru implements PreparedGru {
  constructor(
    readonly spec: GruSpec,
    private readonly native: NativeLayer,
    private readonly settings: CallSettings,
    private readonly Bound: NativeBinding['Bound'],
  ) {}

  /** This layer's calls kept for backward (another layer's `saved` is the addon's to refuse). */
  private readonly kept = new WeakMap<object, KeptCall>();

  /** A forward call's result (`saved` only where kept, remembered for backward). */
  private remember(output: Float32Array, lastState: Float32Array, saved: NativeSaved | undefined, req: ForwardRequest): ForwardResult {
    if (saved === undefined) return { output, lastState };
    this.kept.set(saved, { batch: req.batch, timesteps: req.timesteps, returnSequences: req.returnSequences === true });
    return { output, lastState, saved };
  }

  /** The instruction set the weights were packed for. */
  get isa(): string {
    return this.native.isa;
  }

  /** Bytes of native memory the packed weights take (0 once disposed). */
  get bytes(): number {
    return this.native.bytes;
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Threads a call with this batch uses (fewer than configured when a step is too small to split). */
  threadsFor(batch: number): number {
    return this.native.threadsFor(batch, this.settings.threads(), this.settings.minStepMacsPerThread());
  }

  forwardSync(request: ForwardRequest): ForwardResult {
    return this.runSync(this.toNative(request));
  }

  forward(request: ForwardRequest): Promise<ForwardResult> {
    try {
      const r = this.toNative(request);
      const s = this.settings;
      if (callMacs(this.spec, r.batch, r.timesteps) < s.syncBelowMacs()) return Promise.resolve(this.runSync(r));
      // The request's fields as arguments (addon interface 6), in NativeRequestArgs's order.
      return this.native
        .forward(
          r.x as Float32Array,
          r.batch,
          r.timesteps,
          r.goBackwards === true,
          r.returnSequences === true,
          r.initialState as Float32Array | undefined,
          r.mask,
          r.inputDropoutMasks as readonly Float32Array[] | undefined,
          r.recurrentDropoutMasks as readonly Float32Array[] | undefined,
          r.keepForBackward === true,
          s.threads(),
          s.minStepMacsPerThread(),
        )
        .then((result) => this.remember(result[0], result[1], result[2], r));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The checked request run on this thread (the addon's forwardSync), into fresh arrays made here. */
  private runSync(r: ForwardRequest): ForwardResult {
    const s = this.settings;
    const state = r.batch * this.spec.units;
    const outLen = r.returnSequences === true ? state * r.timesteps : state;
    // Past what one typed array may hold, the addon refuses the call by its sizes (with its own
    // message) before it looks at the arrays: it is handed empty ones.
    const fits = fitsArray(outLen) && fitsArray(state);
    let output: Float32Array;
    let lastState: Float32Array;
    try {
      output = new Float32Array(fits ? outLen : 0);
      lastState = new Float32Array(fits ? state : 0);
    } catch (err) {
      // In the addon's words (as forward's own allocation says it), not V8's bare "Array buffer allocation failed".
      throw new RangeError(`gru cpu backend: forwardSync: out of memory while allocating the outputs (${outLen} + ${state} floats): ${(err as Error).message}`);
    }
    // The request's fields as arguments (addon interface 6), in NativeRequestArgs's order; absent
    // booleans are false, as in core. Spelled out here, in forward() and in bindForward() rather
    // than spread from one shared tuple: the tuple and the spread cost ~2,100 instructions per
    // call (callgrind, S4 forwardSync: 39.0k -> 41.1k), 5% of the whole call.
    const saved = this.native.forwardSync(
      r.x as Float32Array,
      r.batch,
      r.timesteps,
      r.goBackwards === true,
      r.returnSequences === true,
      r.initialState as Float32Array | undefined,
      r.mask,
      r.inputDropoutMasks as readonly Float32Array[] | undefined,
      r.recurrentDropoutMasks as readonly Float32Array[] | undefined,
      r.keepForBackward === true,
      output,
      lastState,
      s.threads(),
      s.minStepMacsPerThread(),
    );
    return this.remember(output, lastState, saved, r);
  }

  /**
   * Checks the request once (and that `output` and `lastState` share no memory with the inputs);
   * each `run()` then reruns it on this thread on the arrays' current contents, with no checks
   * beyond the arrays still being the same memory, and no allocation. Runs use the weights
   * current at the time (setWeights applies), and throw once the layer is disposed.
   */
  bindForward(request: BoundForwardRequest): BoundForward {
    const s = this.settings;
    let threads = s.threads();
    let minStepMacs = s.minStepMacsPerThread();
    const r = this.toNative(request, true) as BoundForwardRequest;
    const bound = new this.Bound(
      this.native,
      r.x as Float32Array,
      r.batch,
      r.timesteps,
      r.goBackwards === true,
      r.returnSequences === true,
      r.initialState as Float32Array | undefined,
      r.mask,
      r.inputDropoutMasks as readonly Float32Array[] | undefined,
      r.recurrentDropoutMasks as readonly Float32Array[] | undefined,
      r.keepForBackward === true,
      r.output as Float32Array,
      r.lastState as Float32Array,
      threads,
      minStepMacs,
    );
    return {
      run: () => {
        // The backend's threads may be changed at any time; the native call is told only then,
        // so a run passes no arguments.
        if (s.threads() !== threads || s.minStepMacsPerThread() !== minStepMacs) {
          threads = s.threads();
          minStepMacs = s.minStepMacsPerThread();
          bound.configure(threads, minStepMacs);
        }
        bound.run();
      },
      dispose: () => bound.dispose(),
    };
  }

  backwardSync(saved: unknown, request: BackwardRequest): GruGradients {
    const [dOutput, dLastState, inputGradients] = this.gradientsIn(saved, request, 'cpu backwardSync');
    const s = this.settings;
    return this.native.backwardSync(saved as NativeSaved, dOutput, dLastState, s.threads(), s.minStepMacsPerThread(), inputGradients);
  }

  backward(saved: unknown, request: BackwardRequest): Promise<GruGradients> {
    try {
      const [dOutput, dLastState, inputGradients] = this.gradientsIn(saved, request, 'cpu backward');
      const s = this.settings;
      const shape = saved as { batch?: unknown; timesteps?: unknown } | null;
      // Backward is about three forward passes of work.
      if (
        shape &&
        typeof shape.batch === 'number' &&
        typeof shape.timesteps === 'number' &&
        3 * callMacs(this.spec, shape.batch, shape.timesteps) < s.syncBelowMacs()
      ) {
        return Promise.resolve(this.native.backwardSync(saved as NativeSaved, dOutput, dLastState, s.threads(), s.minStepMacsPerThread(), inputGradients));
      }
      return this.native.backward(saved as NativeSaved, dOutput, dLastState, s.threads(), s.minStepMacsPerThread(), inputGradients);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  setWeights(weights: GruWeights): void {
    const [kernel, recurrentKernel, bias] = nativeWeights(this.spec, weights, 'setWeights');
    this.native.setWeights(kernel, recurrentKernel, bias);
  }

  dispose(): void {
    this.native.dispose();
  }

  /**
   * The request read once (core's readRequest), for the addon to check: the wrapper's own use of
   * batch and timesteps and the addon's checks then see the same values, whatever getters answer.
   */
  private toNative(r: ForwardRequest, bound = false): ForwardRequest {
    const req = readRequest(r, bound);
    // Core's check, in every backend's words; the addon checks every field again (types, detached
    // buffers, lengths) before it touches memory. The caller passes the fields as the addon's
    // arguments (absent booleans as false, as in core).
    checkForwardRequest(this.spec, req, bound ? 'cpu bindForward' : 'cpu forward', { bound });
    return req;
  }

  private gradientsIn(saved: unknown, request: BackwardRequest, where: string): [Float32Array, Float32Array | undefined, BackwardRequest['inputGradients']] {
    // cpuSupports declines gradients for these; a direct caller gets the same reason.
    const rowwise = [this.spec.activation, this.spec.recurrentActivation].find((id) => NATIVE_ACTIVATIONS.indexOf(id) >= FIRST_ROWWISE_ID);
    if (rowwise !== undefined) {
      throw new GruError(
        'ValueError',
        `The cpu backend has no backward pass for the row-wise activation '${rowwise}'; train this layer on the reference backend`,
      );
    }
    const r = readBackwardRequest(request);
    const call = typeof saved === 'object' && saved !== null ? this.kept.get(saved) : undefined;
    // A `saved` this layer did not return is the addon's to refuse (it names what it expects); the
    // addon checks the gradients' lengths again either way.
    if (call) checkBackwardRequest(this.spec, call, r, where);
    else checkObject(r, 'request', '{dOutput, dLastState?, inputGradients?}', where);
    // Gradients may arrive as Float64Array (a float64 loss); the layer computes in float32.
    const convert = (a: unknown) => (ArrayBuffer.isView(a) ? f32(a) : (a as Float32Array));
    return [convert(r.dOutput), r.dLastState == null ? undefined : convert(r.dLastState), r.inputGradients];
  }
}
