import type { ForwardRequest, ForwardResult, GruSpec, GruWeights, PreparedGru } from '@gru/core';
import { BufferUsage, MapMode, UNIFORM_ALIGN } from './gpu-constants.js';
import type { GpuContext } from './context.js';
import { projectionShader } from './kernels/projection.js';
import { encodeAndSubmit } from './encode-forward.js';
import { fusedShader, fusedWorkgroupBytes, stepShaders } from './kernels/recurrence.js';
import type { KernelShape } from './kernels/common.js';
import { resultWithoutGpu, snapshotRequest, storedWeights, type OwnedRequest, type StoredWeights } from './snapshot.js';

const STORAGE_IN = BufferUsage.STORAGE | BufferUsage.COPY_DST;
const STORAGE_OUT = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
const UNIFORM = BufferUsage.UNIFORM | BufferUsage.COPY_DST;

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Which recurrence kernel runs a call. */
export type RecurrencePath = 'fused' | 'stepwise';

/** Per-call buffers, grown when a call needs more and reused otherwise. */
type PoolName = 'x' | 'proj' | 'out' | 'state' | 'mask' | 'xdrop' | 'rdrop' | 'scratch' | 'steps' | 'params' | 'projParams' | 'staging';

/**
 * A layer's weights on the GPU (uploaded once) and the buffers and pipelines its calls reuse.
 * Calls on one prepared layer run one at a time (they share buffers); different layers run
 * concurrently.
 */
export class WebGpuPrepared implements PreparedGru {
  readonly spec: GruSpec;
  private readonly ctx: GpuContext;
  private readonly shape: KernelShape;
  private kernel: GPUBuffer;
  private rkernel: GPUBuffer;
  private bias: GPUBuffer;
  private readonly pool = new Map<PoolName, GPUBuffer>();
  /** Every buffer this layer holds; the backend's finalizer frees them if dispose() is never called. */
  readonly owned = new Set<GPUBuffer>();
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;
  /** The path the last call took (tests and the demo page report it). */
  lastPath: RecurrencePath | undefined;

  /** `weights` as storedWeights() made them when prepare() was called. */
  constructor(ctx: GpuContext, spec: GruSpec, weights: StoredWeights) {
    this.ctx = ctx;
    this.spec = spec;
    this.shape = {
      units: spec.units,
      inputDim: spec.inputDim,
      resetAfter: spec.resetAfter,
      activation: spec.activation,
      recurrentActivation: spec.recurrentActivation,
      f16: ctx.f16,
    };
    const { units: H, inputDim: D } = spec;
    const wordsPerWeight = ctx.f16 ? 0.5 : 1;
    this.kernel = this.make(D * 3 * H * 4 * wordsPerWeight, STORAGE_IN, 'kernel');
    this.rkernel = this.make(H * 3 * H * 4 * wordsPerWeight, STORAGE_IN, 'recurrent kernel');
    this.bias = this.make(2 * 3 * H * 4, STORAGE_IN, 'bias');
    this.upload(weights);
  }

  /** Compiles the kernels a plain call needs, so the first forward() does not pay for it. */
  async warmUp(): Promise<void> {
    await Promise.all([this.projectionPipeline(false), this.recurrencePipelines(this.choosePath(false), false)]);
  }

  private make(size: number, usage: number, label: string): GPUBuffer {
    const b = this.ctx.memory.create(this.ctx.device, size, usage, label);
    this.owned.add(b);
    return b;
  }

  private release(b: GPUBuffer): void {
    this.owned.delete(b);
    this.ctx.memory.destroy(b);
  }

  private upload(weights: StoredWeights): void {
    const q = this.ctx.device.queue;
    q.writeBuffer(this.kernel, 0, weights.kernel);
    q.writeBuffer(this.rkernel, 0, weights.recurrentKernel);
    // [2, G]: input-side bias (added in the projection), then recurrent-side bias (added per step).
    q.writeBuffer(this.bias, 0, weights.bias);
  }

  /**
   * Replaces the weights. They are copied now; the upload waits for the calls made before it
   * (which keep the weights they were called with) and comes before the calls made after it.
   */
  setWeights(weights: GruWeights): Promise<void> {
    let stored: StoredWeights;
    try {
      this.checkUsable();
      stored = storedWeights(this.spec, weights, this.ctx.f16, 'setWeights');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.serialize(async () => {
      this.checkUsable();
      this.upload(stored);
    });
  }

  /** Runs a call. Everything it reads from `request` is copied before this returns. */
  forward(request: ForwardRequest): Promise<ForwardResult> {
    let req: OwnedRequest;
    try {
      this.checkUsable();
      req = snapshotRequest(this.spec, request);
    } catch (err) {
      return Promise.reject(err);
    }
    const trivial = resultWithoutGpu(this.spec.units, req);
    if (trivial) return Promise.resolve(trivial);
    return this.serialize(() => this.run(req));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of [...this.owned]) this.release(b);
    this.pool.clear();
    this.ctx.forget(this);
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkUsable(): void {
    if (this.disposed) throw new Error('webgpu: this prepared GRU was disposed; prepare the layer again.');
    const lost = this.ctx.lostReason();
    if (lost !== undefined) throw new Error(`webgpu: the GPU device was lost (${lost}); the layer must be prepared again.`);
  }

  /** The buffer `name` with at least `size` bytes, reallocated only when it is too small. */
  private buffer(name: PoolName, size: number, usage: number): GPUBuffer {
    const have = this.pool.get(name);
    if (have && have.size >= size) return have;
    if (have) this.release(have);
    const made = this.make(size, usage, name);
    this.pool.set(name, made);
    return made;
  }

  private choosePath(withDropout: boolean): RecurrencePath {
    const mode = this.ctx.recurrence;
    if (mode === 'stepwise') return 'stepwise';
    const fits = fusedWorkgroupBytes(this.shape, withDropout) <= this.ctx.device.limits.maxComputeWorkgroupStorageSize;
    if (!fits) return 'stepwise';
    // One workgroup per batch row: past 512 units a row's work is spread over too few
    // invocations, and per-step dispatches over B x H invocations are expected to win.
    return mode === 'fused' || this.spec.units <= 512 ? 'fused' : 'stepwise';
  }

  private pipeline(key: string, code: () => string, layout: GPUPipelineLayout): Promise<GPUComputePipeline> {
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.ctx.pipeline(code(), layout);
      this.pipelines.set(key, p);
    }
    return p;
  }

  private projectionPipeline(masked: boolean): Promise<GPUComputePipeline> {
    const l = this.ctx.layouts;
    return this.pipeline(`proj:${masked}`, () => projectionShader(this.shape.f16, masked), masked ? l.projectionMasked : l.projection);
  }

  private recurrencePipelines(path: RecurrencePath, withDropout: boolean): Promise<GPUComputePipeline[]> {
    const l = this.ctx.layouts;
    if (path === 'fused') return Promise.all([this.pipeline(`fused:${withDropout}`, () => fusedShader(this.shape, withDropout), l.fused)]);
    const codes = stepShaders(this.shape);
    return Promise.all(codes.map((c, i) => this.pipeline(`step:${i}`, () => c, l.step)));
  }

  private async run(req: OwnedRequest): Promise<ForwardResult> {
    this.checkUsable();
    const { units: H, inputDim: D } = this.spec;
    const { batch: B, timesteps: T } = req;
    const G = 3 * H;
    const seqLen = req.returnSequences ? B * T * H : B * H;
    const withDropout = req.recurrentDropoutMasks !== undefined;
    const perGateInput = req.inputDropoutMasks !== undefined;
    const path = this.choosePath(withDropout);
    const [projPipe, recurrence] = await Promise.all([this.projectionPipeline(perGateInput), this.recurrencePipelines(path, withDropout)]);
    this.checkUsable();

    const device = this.ctx.device;
    const q = device.queue;
    // Everything from here to the pops is synchronous, so another layer's calls on this device
    // cannot interleave their error scopes with ours.
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const stagingBytes = (req.returnSequences ? seqLen + B * H : B * H) * 4;
    let staging: GPUBuffer | undefined;
    let thrown: unknown;
    try {
      const x = this.buffer('x', B * T * D * 4, STORAGE_IN);
      const proj = this.buffer('proj', B * T * G * 4, STORAGE_OUT);
      const out = this.buffer('out', req.returnSequences ? B * T * H * 4 : 16, STORAGE_OUT);
      const state = this.buffer('state', 2 * B * H * 4, STORAGE_OUT);
      const mask = this.buffer('mask', req.mask ? B * T * 4 : 16, STORAGE_IN);
      const rdrop = this.buffer('rdrop', withDropout ? 3 * B * H * 4 : 16, STORAGE_IN);
      const scratch = this.buffer('scratch', path === 'stepwise' && !this.spec.resetAfter ? 2 * B * H * 4 : 16, STORAGE_OUT);
      const params = this.buffer('params', 32, UNIFORM);
      const projParams = this.buffer('projParams', 3 * UNIFORM_ALIGN, UNIFORM);
      staging = this.buffer('staging', stagingBytes, BufferUsage.MAP_READ | BufferUsage.COPY_DST);

      q.writeBuffer(x, 0, req.x);
      if (req.initialState) q.writeBuffer(state, 0, req.initialState);
      if (req.mask) q.writeBuffer(mask, 0, Uint32Array.from(req.mask));
      if (req.recurrentDropoutMasks) {
        const [mz, mr, mh] = req.recurrentDropoutMasks;
        for (const [i, m] of [mz, mr, mh].entries()) q.writeBuffer(rdrop, i * B * H * 4, m);
      }
      let xdrop: GPUBuffer | undefined;
      // Each gate's mask is bound at its own offset, which must be storage-offset aligned.
      const xdropStride = alignUp(B * D * 4, this.ctx.device.limits.minStorageBufferOffsetAlignment);
      if (req.inputDropoutMasks) {
        xdrop = this.buffer('xdrop', 3 * xdropStride, STORAGE_IN);
        for (const [i, m] of req.inputDropoutMasks.entries()) q.writeBuffer(xdrop, i * xdropStride, m);
      }
      q.writeBuffer(params, 0, new Uint32Array([B, T, req.mask ? 1 : 0, withDropout ? 1 : 0, req.returnSequences ? 1 : 0, req.goBackwards ? 1 : 0, H, G]));
      // Projection: one GEMM over all gates, or one per gate when each gate has its own input mask.
      const projData = new Uint32Array((3 * UNIFORM_ALIGN) / 4);
      (perGateInput ? [0, 1, 2] : [-1]).forEach((g, i) => projData.set([B * T, g < 0 ? G : H, D, T, g < 0 ? 0 : g * H, G, 0, 0], (i * UNIFORM_ALIGN) / 4));
      q.writeBuffer(projParams, 0, projData);

      encodeAndSubmit(device, this.ctx.layouts, req, {
        units: H,
        inputDim: D,
        path,
        projection: projPipe,
        recurrence,
        gates: perGateInput ? [0, 1, 2] : [-1],
        buffers: {
          x,
          proj,
          out,
          state,
          mask,
          rdrop,
          scratch,
          params,
          projParams,
          staging,
          kernel: this.kernel,
          rkernel: this.rkernel,
          bias: this.bias,
          xdrop,
          xdropStride,
        },
        steps: (n) => this.buffer('steps', n * UNIFORM_ALIGN, UNIFORM),
      });
    } catch (err) {
      thrown = err;
    }
    const validation = device.popErrorScope();
    const oom = device.popErrorScope();
    this.lastPath = path;

    const [vErr, oErr] = await Promise.all([validation, oom]);
    const gpuError = vErr ?? oErr;
    if (thrown !== undefined) throw thrown;
    if (gpuError || !staging) {
      // A buffer that failed to allocate is invalid: drop the per-call buffers so the next call
      // allocates afresh instead of failing the same way.
      for (const b of this.pool.values()) this.release(b);
      this.pool.clear();
      throw new Error(`webgpu: the GPU rejected the forward pass (${gpuError?.constructor.name}): ${gpuError?.message}`);
    }
    let view: Float32Array;
    try {
      // dispose() may run at any await here (the pops, the map), destroying the buffers.
      this.checkUsable();
      await this.ctx.whileAlive(staging.mapAsync(MapMode.READ, 0, stagingBytes));
      this.checkUsable();
      view = new Float32Array(staging.getMappedRange(0, stagingBytes).slice(0));
      staging.unmap();
    } catch (err) {
      if (this.disposed) throw new Error('webgpu: this prepared GRU was disposed while the call ran; the call has no result.');
      throw err;
    }
    const lastState = req.returnSequences ? view.slice(seqLen, seqLen + B * H) : view;
    const output = req.returnSequences ? view.subarray(0, seqLen) : view.slice();
    return { output, lastState };
  }
}
