import {
  UnsupportedCallError,
  type BackwardRequest,
  type ForwardRequest,
  type ForwardResult,
  type GruGradients,
  type GruSpec,
  type GruWeights,
  type PreparedGru,
} from '@gru/core';
import type { DeviceLayer, DeviceSaved } from './device.js';
import {
  alloc,
  arrangeInputGradients,
  arrangeOutputGradients,
  arrangeOutputs,
  asDtype,
  initialStateGradient,
  planSequences,
  reverseWithinLengths,
  type SequencePlan,
  type Shape,
} from './sequence.js';
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

function checkLength(what: string, got: ArrayLike<number> | undefined, want: number, shape: string): void {
  if (!got || got.length !== want) {
    throw new RangeError(`cuDNN backend: \`${what}\` must have ${shape} = ${want} elements; received ${got ? got.length : 'none'}.`);
  }
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
   * Runs `task` after every earlier call on this layer (a failure does not block later calls).
   * A call made before dispose() still runs; one made after rejects.
   */
  private enqueue<T>(task: () => Promise<T> | T): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('cuDNN backend: a call was made on a disposed prepared layer.'));
    this.pending++;
    const run = this.tail.then(task, task).finally(() => {
      if (--this.pending === 0 && this.disposed) this.release();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  setWeights(weights: GruWeights): Promise<void> {
    const packed = packWeights(weights, this.spec.inputDim, this.spec.units, this.spec.dtype);
    return this.enqueue(() => this.live('setWeights').setWeights(packed));
  }

  forward(request: ForwardRequest): Promise<ForwardResult> {
    return this.enqueue(() => this.runForward(request));
  }

  backward(saved: unknown, request: BackwardRequest): Promise<GruGradients> {
    return this.enqueue(() => this.runBackward(saved, request));
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

  private async runForward(req: ForwardRequest): Promise<ForwardResult> {
    const layer = this.live('forward');
    const { inputDim: D, units: H, dtype } = this.spec;
    const { batch: B, timesteps: T } = req;
    if (req.inputDropoutMasks || req.recurrentDropoutMasks) {
      throw new UnsupportedCallError(this.backendName, 'per-gate dropout masks cannot be applied inside cuDNN');
    }
    checkLength('x', req.x, B * T * D, `batch*timesteps*inputDim = ${B}*${T}*${D}`);
    if (req.initialState) checkLength('initialState', req.initialState, B * H, `batch*units = ${B}*${H}`);
    const plan = planSequences(req.mask, B, T);
    const shape: Shape = { batch: B, timesteps: T, units: H, goBackwards: req.goBackwards, returnSequences: req.returnSequences };
    const x0 = asDtype(req.x, dtype);
    const x = req.goBackwards ? reverseWithinLengths(x0, plan.lengths, T, D) : x0;
    const h0 = req.initialState ? asDtype(req.initialState, dtype) : null;
    const y = req.returnSequences ? alloc(dtype, B * T * H) : null;
    const hy = alloc(dtype, B * H);
    const training = req.keepForBackward === true;
    const device = await layer.forward({ batch: B, timesteps: T, seqLengths: plan.cudnnLengths, x, hx: h0, y, hy, training });
    const { output, lastState } = arrangeOutputs(y, hy, h0, plan, shape, dtype);
    if (!device) return { output, lastState };
    this.prune();
    this.saved.add(new WeakRef(device));
    return { output, lastState, saved: new CudnnSaved(this, device, plan, shape) };
  }

  private async runBackward(saved: unknown, req: BackwardRequest): Promise<GruGradients> {
    const layer = this.live('backward');
    if (!(saved instanceof CudnnSaved) || saved.owner !== this) {
      throw new TypeError('cuDNN backend: backward() needs the `saved` value of a forward call this prepared layer ran with keepForBackward.');
    }
    const { inputDim: D, units: H, dtype } = this.spec;
    const { plan, shape } = saved;
    const B = shape.batch;
    const outLength = shape.returnSequences ? B * shape.timesteps * H : B * H;
    checkLength('dOutput', req.dOutput, outLength, shape.returnSequences ? 'batch*timesteps*units' : 'batch*units');
    if (req.dLastState) checkLength('dLastState', req.dLastState, B * H, 'batch*units');
    const { dy, dhy, dh0Direct } = arrangeOutputGradients(req.dOutput, req.dLastState, plan, shape, dtype);
    const dx = alloc(dtype, B * shape.timesteps * D);
    const dhx = alloc(dtype, B * H);
    const dw = alloc(dtype, 3 * H * D + 3 * H * H + 6 * H);
    await layer.backward(saved.device, { dy, dhy, dx, dhx, dw });
    const w = unpackWeights(dw, D, H, dtype);
    return {
      dx: arrangeInputGradients(dx, plan, D, shape.goBackwards, dtype),
      dInitialState: initialStateGradient(dhx, dh0Direct, plan, H, dtype),
      dKernel: w.kernel,
      dRecurrentKernel: w.recurrentKernel,
      dBias: w.bias,
    };
  }

  private prune(): void {
    for (const ref of this.saved) if (!ref.deref()) this.saved.delete(ref);
  }
}
