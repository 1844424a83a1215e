import {
  asFloats,
  checkBackwardRequest,
  copyFloats,
  emptyCallGradients,
  emptyForwardResult,
  isEmptyCall,
  readBackwardRequest,
  readRequest,
  UnsupportedCallError,
  type BackwardRequest,
  type ForwardRequest,
  type ForwardResult,
  type GruGradients,
  type GruSpec,
  type GruWeights,
  type PreparedGru,
} from '@gru/core';
import type { DeviceBackwardArgs, DeviceForwardArgs, DeviceLayer, DeviceSaved } from './device.js';
import {
  alloc,
  arrangeInputGradients,
  arrangeOutputGradients,
  arrangeOutputs,
  initialStateGradient,
  planSequences,
  reverseWithinLengths,
  type SequencePlan,
  type Shape,
} from './sequence.js';
import { checkCudnnForward } from './request-checks.js';
import { packWeights, unpackWeights } from './weights.js';

/** A training forward pass: the device's copy plus how its rows were laid out for cuDNN. */
export class CudnnSaved {
  constructor(
    readonly owner: CudnnPreparedGru,
    readonly device: DeviceSaved,
    readonly plan: SequencePlan,
    readonly shape: Shape,
  ) {}
}

/**
 * A training forward pass with no rows or no steps: answered without the device, as the
 * reference backend answers it; its gradients need no device either.
 */
export class CudnnEmptySaved {
  constructor(
    readonly owner: CudnnPreparedGru,
    readonly shape: Shape,
  ) {}
}

interface ForwardCall {
  args: DeviceForwardArgs;
  plan: SequencePlan;
  shape: Shape;
}

/** An empty call's answer, computed when the call is made (it reads only the initial state). */
interface EmptyCall {
  empty: ForwardResult;
}

interface EmptyBackwardCall {
  empty: GruGradients;
}

interface BackwardCall {
  saved: CudnnSaved;
  args: DeviceBackwardArgs;
  dh0Direct: Float64Array;
}

/**
 * A layer prepared on the GPU: weights converted once (Keras z, r, h -> cuDNN r, z, n, transposed)
 * and kept in cuDNN's weight space. Calls on one prepared layer run one at a time, in order
 * (they share its stream and buffers); different layers run concurrently.
 */
export class CudnnPreparedGru implements PreparedGru {
  private layer: DeviceLayer | null;
  private tail: Promise<unknown> = Promise.resolve();
  /** Calls accepted and not yet settled: dispose() waits for them before freeing the device memory. */
  private pending = 0;
  private disposed = false;
  /** Training passes still holding device memory, freed at dispose() (else by their finalizer). */
  private readonly saved = new Set<WeakRef<DeviceSaved>>();

  constructor(
    readonly spec: GruSpec,
    layer: DeviceLayer,
    private readonly backendName: string,
  ) {
    this.layer = layer;
  }

  /** Device and pinned-host bytes held by this layer (not counting saved training passes). */
  bytes(): number {
    return this.layer ? this.layer.bytes() : 0;
  }

  private live(method: string): DeviceLayer {
    if (!this.layer) throw new Error(`cuDNN backend: ${method}() was called on a disposed prepared layer.`);
    return this.layer;
  }

  /**
   * Takes what the call needs from its arguments now (`snapshot`: copies, checked), then runs
   * `task` on it after every earlier call on this layer (a failure does not block later calls).
   * The snapshot is why a caller may change or transfer its arrays as soon as a call returns,
   * although the call itself waits its turn. A call made before dispose() still runs; one made
   * after rejects.
   */
  private enqueue<S, T>(snapshot: () => S, task: (s: S) => Promise<T> | T): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('cuDNN backend: a call was made on a disposed prepared layer.'));
    let taken: S;
    try {
      taken = snapshot();
    } catch (err) {
      return Promise.reject(err);
    }
    this.pending++;
    const run = this.tail
      .then(
        () => task(taken),
        () => task(taken),
      )
      .finally(() => {
        if (--this.pending === 0 && this.disposed) this.release();
      });
    // Settle to undefined either way: a chain that passed the result on would keep the latest
    // result (its arrays, its saved handle) alive until the next call.
    const settled = () => undefined;
    this.tail = run.then(settled, settled);
    return run;
  }

  setWeights(weights: GruWeights): Promise<void> {
    return this.enqueue(
      () => packWeights(weights, this.spec.inputDim, this.spec.units, this.spec.dtype, 'cudnn setWeights'),
      (packed) => this.live('setWeights').setWeights(packed),
    );
  }

  forward(request: ForwardRequest): Promise<ForwardResult> {
    return this.enqueue(
      () => this.forwardCall(request),
      (call) => ('empty' in call ? call.empty : this.runForward(call)),
    );
  }

  backward(saved: unknown, request: BackwardRequest): Promise<GruGradients> {
    return this.enqueue(
      () => this.backwardCall(saved, request),
      (call) => ('empty' in call ? call.empty : this.runBackward(call)),
    );
  }

  /** Frees the device memory now, or as soon as the calls already made have finished. Idempotent. */
  dispose(): void {
    this.disposed = true;
    if (this.pending === 0) this.release();
  }

  private release(): void {
    for (const ref of this.saved) ref.deref()?.dispose();
    this.saved.clear();
    this.layer?.dispose();
    this.layer = null;
  }

  /**
   * A forward call's arguments, copied and laid out for cuDNN (run later, in turn). The request
   * is read once (readRequest): a field read again after its check could answer otherwise.
   */
  private forwardCall(request: ForwardRequest): ForwardCall | EmptyCall {
    const req = readRequest(request);
    const { inputDim: D, units: H, dtype } = this.spec;
    const { batch: B, timesteps: T } = checkCudnnForward(this.spec, req);
    if (req.inputDropoutMasks || req.recurrentDropoutMasks) {
      throw new UnsupportedCallError(this.backendName, 'per-gate dropout masks cannot be applied inside cuDNN');
    }
    if (isEmptyCall(req)) {
      // cuDNN runs at least one row and one step: answered here, as every backend answers it.
      const result = emptyForwardResult(this.spec, req);
      const shape: Shape = { batch: B, timesteps: T, units: H, goBackwards: req.goBackwards, returnSequences: req.returnSequences };
      if (req.keepForBackward === true) result.saved = new CudnnEmptySaved(this, shape);
      return { empty: result };
    }
    const plan = planSequences(req.mask, B, T);
    const shape: Shape = { batch: B, timesteps: T, units: H, goBackwards: req.goBackwards, returnSequences: req.returnSequences };
    // Private copies (reverseWithinLengths copies too): the caller may change its arrays once the
    // call returns, and a subclass's slice() could answer values nobody checked.
    const x = req.goBackwards ? reverseWithinLengths(asFloats(req.x, dtype), plan.lengths, T, D) : copyFloats(req.x, dtype);
    const h0 = req.initialState ? copyFloats(req.initialState, dtype) : null;
    const y = req.returnSequences ? alloc(dtype, B * T * H) : null;
    const hy = alloc(dtype, B * H);
    const args: DeviceForwardArgs = { batch: B, timesteps: T, seqLengths: plan.cudnnLengths, x, hx: h0, y, hy, training: req.keepForBackward === true };
    return { args, plan, shape };
  }

  private async runForward({ args, plan, shape }: ForwardCall): Promise<ForwardResult> {
    const device = await this.live('forward').forward(args);
    const { output, lastState } = arrangeOutputs(args.y, args.hy, args.hx, plan, shape, this.spec.dtype);
    if (!device) return { output, lastState };
    this.prune();
    this.saved.add(new WeakRef(device));
    return { output, lastState, saved: new CudnnSaved(this, device, plan, shape) };
  }

  /** A backward call's output gradients, copied and laid out for cuDNN (run later, in turn). */
  private backwardCall(saved: unknown, request: BackwardRequest): BackwardCall | EmptyBackwardCall {
    const req = readBackwardRequest(request);
    if (!((saved instanceof CudnnSaved || saved instanceof CudnnEmptySaved) && saved.owner === this)) {
      throw new TypeError('cuDNN backend: backward() needs the `saved` value of a forward call this prepared layer ran with keepForBackward.');
    }
    const { inputDim: D, units: H, dtype } = this.spec;
    const B = saved.shape.batch;
    checkBackwardRequest(this.spec, saved.shape, req, 'cudnn backward');
    if (saved instanceof CudnnEmptySaved) return { empty: emptyCallGradients(this.spec, saved.shape, req) };
    const { plan, shape } = saved;
    const { dy, dhy, dh0Direct } = arrangeOutputGradients(req.dOutput, req.dLastState, plan, shape, dtype);
    const args: DeviceBackwardArgs = {
      dy,
      dhy,
      dx: alloc(dtype, B * shape.timesteps * D),
      dhx: alloc(dtype, B * H),
      dw: alloc(dtype, 3 * H * D + 3 * H * H + 6 * H),
    };
    return { saved, args, dh0Direct };
  }

  private async runBackward({ saved, args, dh0Direct }: BackwardCall): Promise<GruGradients> {
    await this.live('backward').backward(saved.device, args);
    const { inputDim: D, units: H, dtype } = this.spec;
    const { plan, shape } = saved;
    const w = unpackWeights(args.dw, D, H, dtype);
    return {
      dx: arrangeInputGradients(args.dx, plan, D, shape.goBackwards, dtype),
      dInitialState: initialStateGradient(args.dhx, dh0Direct, plan, H, dtype),
      dKernel: w.kernel,
      dRecurrentKernel: w.recurrentKernel,
      dBias: w.bias,
    };
  }

  private prune(): void {
    for (const ref of this.saved) if (!ref.deref()) this.saved.delete(ref);
  }
}
