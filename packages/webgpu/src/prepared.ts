import { emptyCallGradients, emptyForwardResult, isEmptyCall } from '@gru/core';
import type { BackwardRequest, ForwardRequest, ForwardResult, GruGradients, GruSpec, GruWeights, PreparedGru } from '@gru/core';
import { backwardLayout, backwardParams, encodeBackward, type BackwardPipelines } from './encode-backward.js';
import { backwardPostShaders, backwardStepShaders, fusedBackwardShader, fusedBackwardWorkgroupBytes } from './kernels/backward.js';
import { WebGpuSaved, type SavedBuffers, type SavedRecord } from './saved.js';
import { checkBackwardRequest, initialStateGradient } from './validate-backward.js';
import { BufferUsage, MapMode, UNIFORM_ALIGN } from './gpu-constants.js';
import type { GpuContext } from './context.js';
import { projectionShader } from './kernels/projection.js';
import { encodeAndSubmit } from './encode-forward.js';
import { fusedShader, fusedWorkgroupBytes, stepShaders } from './kernels/recurrence.js';
import type { KernelShape } from './kernels/common.js';
import { hasRowActivation, rowwiseBackwardProblem } from './activations-rowwise-wgsl.js';
import { snapshotRequest, storedWeights, type OwnedRequest, type StoredWeights } from './snapshot.js';

const STORAGE_IN = BufferUsage.STORAGE | BufferUsage.COPY_DST;
const STORAGE_OUT = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
const UNIFORM = BufferUsage.UNIFORM | BufferUsage.COPY_DST;

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Which recurrence kernel runs a call. */
export type RecurrencePath = 'fused' | 'stepwise';

/** Per-call buffers, grown when a call needs more and reused otherwise. */
type PoolName =
  | 'x'
  | 'proj'
  | 'out'
  | 'state'
  | 'mask'
  | 'xdrop'
  | 'rdrop'
  | 'scratch'
  | 'steps'
  | 'params'
  | 'projParams'
  | 'staging'
  | 'bparams'
  | 'rkernelT'
  | 'work'
  | 'grads'
  | 'bstaging';

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
  /** Whether an activation is row-wise (over each gate's units): those layers take the row-wise kernels. */
  private readonly rowwise: boolean;
  /** Why backward always declines this layer (row-wise activations), or undefined. */
  private readonly backwardProblem: string | undefined;
  private stepCodes: ReturnType<typeof stepShaders> | undefined;
  /** The path the last call took (tests and the demo page report it). */
  lastPath: RecurrencePath | undefined;
  /** The recurrence path the last backward call took. */
  lastBackwardPath: RecurrencePath | undefined;
  /** Bumped by every weight upload: a saved call made under older weights cannot be differentiated. */
  private weightsVersion = 0;
  /** Saved calls whose buffers are held, oldest first. */
  private readonly saves: SavedRecord[] = [];
  /** Frees a saved call's buffers when its handle is collected. */
  private readonly savedFinalizer = new FinalizationRegistry<SavedRecord>((record) => this.releaseSaved(record, 'collected'));

  /**
   * `weights` as storedWeights() made them when prepare() was called; `savedCalls`: how many
   * calls' saved buffers are held at most (older ones are released).
   */
  constructor(
    ctx: GpuContext,
    spec: GruSpec,
    weights: StoredWeights,
    private readonly savedCalls = 4,
  ) {
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
    this.rowwise = hasRowActivation(spec);
    this.backwardProblem = rowwiseBackwardProblem(spec);
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
    this.weightsVersion++;
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
    // Backward always declines this layer, so buffers kept for it would only hold GPU memory until
    // the handle is collected: keep none, and hand back a handle whose backward() names the reason.
    const unkept = req.keepForBackward === true && this.backwardProblem !== undefined;
    if (unkept) req.keepForBackward = false;
    // No rows or no steps: no GPU work (every backend answers these the same way).
    const empty = isEmptyCall(req) ? emptyForwardResult(this.spec, req) : undefined;
    const result = empty
      ? Promise.resolve(req.keepForBackward ? { ...empty, saved: this.savedHandle(req, { buffers: undefined }, 0, 0) } : empty)
      : this.serialize(() => this.run(req));
    return unkept ? result.then((r) => ({ ...r, saved: this.savedHandle(req, { buffers: undefined }, 0, 0) })) : result;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const record of this.saves) record.released = 'the layer was disposed';
    this.saves.length = 0;
    for (const b of [...this.owned]) this.release(b);
    this.pool.clear();
    this.ctx.forget(this);
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    // Settles with undefined either way: `run.catch()` would pass the result through and keep the
    // latest call's result (its arrays, its saved GPU buffers) reachable until the next call.
    const done = () => undefined;
    this.queue = run.then(done, done);
    return run;
  }

  /** True once disposed, or once its GPU device was lost (or destroyed by the backend's dispose()). */
  isDisposed(): boolean {
    return this.disposed || this.ctx.lostReason() !== undefined;
  }

  private checkUsable(): void {
    if (this.disposed) throw new Error('webgpu: this prepared GRU was disposed; prepare the layer again.');
    const lost = this.ctx.lostReason();
    if (lost !== undefined)
      throw new Error(`webgpu: the GPU device was lost (${lost}); prepare the layer again (a GRU layer does so by itself on its next call).`);
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

  /** The stepwise kernels' WGSL, generated once per layer. */
  private stepKernels(): ReturnType<typeof stepShaders> {
    this.stepCodes ??= stepShaders(this.shape);
    return this.stepCodes;
  }

  private recurrencePipelines(path: RecurrencePath, withDropout: boolean): Promise<GPUComputePipeline[]> {
    const l = this.ctx.layouts;
    if (path === 'fused') return Promise.all([this.pipeline(`fused:${withDropout}`, () => fusedShader(this.shape, withDropout), l.fused)]);
    const { codes } = this.stepKernels();
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
    const keep = req.keepForBackward === true;
    // A call kept for backward gets buffers of its own (the saved call holds them); the others reuse the pool.
    const kept: GPUBuffer[] = [];
    const own = (name: PoolName, size: number, usage: number) => {
      if (!keep) return this.buffer(name, size, usage);
      const b = this.make(size, usage, `saved ${name}`);
      kept.push(b);
      return b;
    };
    const offsetAlign = device.limits.minStorageBufferOffsetAlignment;
    // Kept: the initial state, then (at a bindable offset) every step's output: the states backward starts from.
    const outOffset = keep ? alignUp(B * H * 4, offsetAlign) : 0;
    let staging: GPUBuffer | undefined;
    let thrown: unknown;
    let savedBuffers: SavedBuffers | undefined;
    // Each gate's mask is bound at its own offset, which must be storage-offset aligned.
    const xdropStride = alignUp(B * D * 4, offsetAlign);
    try {
      const x = own('x', B * T * D * 4, STORAGE_IN);
      const proj = own('proj', B * T * G * 4, STORAGE_OUT);
      const out = keep ? own('out', outOffset + B * T * H * 4, STORAGE_OUT) : this.buffer('out', req.returnSequences ? B * T * H * 4 : 16, STORAGE_OUT);
      const state = this.buffer('state', 2 * B * H * 4, STORAGE_OUT);
      const mask = own('mask', req.mask ? B * T * 4 : 16, STORAGE_IN);
      const rdrop = own('rdrop', withDropout ? 3 * B * H * 4 : 16, STORAGE_IN);
      // Stepwise scratch: z and r * h between the reset-before kernels; row-wise layers also keep
      // the candidate's pre-activation and a staged row ([4, B, H]).
      const scratchRows = path !== 'stepwise' ? 0 : this.rowwise ? 4 : this.spec.resetAfter ? 0 : 2;
      const scratch = this.buffer('scratch', scratchRows ? scratchRows * B * H * 4 : 16, STORAGE_OUT);
      const params = this.buffer('params', 32, UNIFORM);
      const projParams = this.buffer('projParams', 3 * UNIFORM_ALIGN, UNIFORM);
      staging = this.buffer('staging', stagingBytes, BufferUsage.MAP_READ | BufferUsage.COPY_DST);

      q.writeBuffer(x, 0, req.x);
      if (req.initialState) q.writeBuffer(state, 0, req.initialState);
      if (req.initialState && keep) q.writeBuffer(out, 0, req.initialState);
      if (req.mask) q.writeBuffer(mask, 0, Uint32Array.from(req.mask));
      if (req.recurrentDropoutMasks) {
        const [mz, mr, mh] = req.recurrentDropoutMasks;
        for (const [i, m] of [mz, mr, mh].entries()) q.writeBuffer(rdrop, i * B * H * 4, m);
      }
      let xdrop: GPUBuffer | undefined;
      if (req.inputDropoutMasks) {
        xdrop = own('xdrop', 3 * xdropStride, STORAGE_IN);
        for (const [i, m] of req.inputDropoutMasks.entries()) q.writeBuffer(xdrop, i * xdropStride, m);
      }
      if (keep) savedBuffers = { x, proj, states: out, mask, rdrop, xdrop: xdrop ?? own('xdrop', 16, STORAGE_IN) };
      const writeSequence = req.returnSequences || keep;
      q.writeBuffer(params, 0, new Uint32Array([B, T, req.mask ? 1 : 0, withDropout ? 1 : 0, writeSequence ? 1 : 0, req.goBackwards ? 1 : 0, H, G]));
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
        perRow: path === 'stepwise' ? this.stepKernels().perRow : [false],
        gates: perGateInput ? [0, 1, 2] : [-1],
        buffers: {
          x,
          proj,
          out,
          outOffset,
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
    this.lastPath = path;
    const view = await this.readBack('forward', thrown, staging, stagingBytes, kept);
    const lastState = req.returnSequences ? view.slice(seqLen, seqLen + B * H) : view;
    const output = req.returnSequences ? view.subarray(0, seqLen) : view.slice();
    if (!savedBuffers) return { output, lastState };
    return { output, lastState, saved: this.savedHandle(req, { buffers: savedBuffers }, xdropStride, outOffset / 4) };
  }

  /** A handle for a kept call; its record joins the held ones (the oldest beyond `savedCalls` is released). */
  private savedHandle(req: OwnedRequest, record: SavedRecord, xdropStride: number, seqOffset: number): WebGpuSaved {
    const handle = new WebGpuSaved(
      this,
      record,
      req.batch,
      req.timesteps,
      req.returnSequences,
      req.goBackwards,
      req.mask !== undefined,
      req.recurrentDropoutMasks !== undefined,
      req.inputDropoutMasks !== undefined,
      xdropStride,
      seqOffset,
      this.weightsVersion,
    );
    if (record.buffers) {
      this.saves.push(record);
      this.savedFinalizer.register(handle, record, record);
      while (this.saves.length > this.savedCalls) {
        this.releaseSaved(this.saves[0], `more than ${this.savedCalls} newer forward calls of this layer kept theirs (the backend's savedCalls option)`);
      }
    }
    return handle;
  }

  private releaseSaved(record: SavedRecord, why: string): void {
    if (record.released !== undefined) return;
    record.released = why;
    const i = this.saves.indexOf(record);
    if (i >= 0) this.saves.splice(i, 1);
    this.savedFinalizer.unregister(record);
    if (record.buffers) for (const b of Object.values(record.buffers)) this.release(b);
    record.buffers = undefined;
  }

  /** Bytes the saved calls of this layer hold on the GPU now. */
  get savedBytes(): number {
    let n = 0;
    for (const r of this.saves) if (r.buffers) for (const b of Object.values(r.buffers)) n += b.size;
    return n;
  }

  /**
   * Gradients through a forward call made with keepForBackward, as one submission: every step
   * runs on the GPU from the saved buffers, and only the gradients are read back.
   */
  backward(saved: unknown, request: BackwardRequest): Promise<GruGradients> {
    let handle: WebGpuSaved;
    let dOutput: Float32Array<ArrayBuffer>;
    let dLastState: Float32Array<ArrayBuffer> | undefined;
    let inputGradients: boolean;
    try {
      this.checkUsable();
      if (this.backwardProblem) throw new Error(`webgpu backward: ${this.backwardProblem} (its forward calls keep nothing for backward)`);
      handle = this.checkSaved(saved);
      ({ dOutput, dLastState, inputGradients } = checkBackwardRequest(this.spec, handle, request));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.serialize(() => this.runBackward(handle, dOutput, dLastState, inputGradients));
  }

  private checkSaved(saved: unknown): WebGpuSaved {
    if (!(saved instanceof WebGpuSaved)) {
      const got = saved === null || typeof saved !== 'object' ? String(saved) : (saved.constructor?.name ?? 'object');
      throw new Error(`webgpu backward: saved must be the \`saved\` of a forward call with keepForBackward on this backend; received ${got}.`);
    }
    if (saved.owner !== this)
      throw new Error('webgpu backward: saved comes from a forward call of another prepared layer; call backward on the layer that ran it.');
    return saved;
  }

  private async runBackward(
    saved: WebGpuSaved,
    dOutput: Float32Array<ArrayBuffer>,
    dLastState: Float32Array<ArrayBuffer> | undefined,
    inputGradients: boolean,
  ): Promise<GruGradients> {
    this.checkUsable();
    if (saved.record.released !== undefined) {
      throw new Error(`webgpu backward: the saved forward call was released (${saved.record.released}); run forward with keepForBackward again.`);
    }
    if (saved.weightsVersion !== this.weightsVersion) {
      throw new Error('webgpu backward: the weights were replaced (setWeights) since the forward call; run forward again before backward.');
    }
    const { units: H, inputDim: D, useBias, resetAfter } = this.spec;
    const { batch: B, timesteps: T } = saved;
    const G = 3 * H;
    // No timesteps or no rows: the state passed straight through; the weights had no effect.
    if (!saved.record.buffers) return emptyCallGradients(this.spec, saved, { dOutput, dLastState, inputGradients });
    const dh0 = initialStateGradient(saved, H, dOutput, dLastState);
    const biasLen = useBias ? (resetAfter ? 2 * G : G) : 0;
    const pipes = await this.backwardPipelines();
    this.checkUsable();
    if (saved.record.released !== undefined) throw new Error(`webgpu backward: the saved forward call was released (${saved.record.released}).`);
    const l = backwardLayout(B, T, D, H, saved.returnSequences, inputGradients);
    const device = this.ctx.device;
    const q = device.queue;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const stagingBytes = (l.outFloats + B * H) * 4;
    let staging: GPUBuffer | undefined;
    let thrown: unknown;
    try {
      const params = this.buffer('bparams', 4 * 24, UNIFORM);
      const rkernelT = this.buffer('rkernelT', G * H * 4, STORAGE_OUT);
      const work = this.buffer('work', l.workFloats * 4, STORAGE_OUT);
      const out = this.buffer('grads', l.outFloats * 4, STORAGE_OUT);
      staging = this.buffer('bstaging', stagingBytes, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
      q.writeBuffer(params, 0, backwardParams(saved, D, H, l));
      if (saved.returnSequences) q.writeBuffer(work, l.dOutOff * 4, dOutput);
      q.writeBuffer(work, l.dhOff * 4, dh0);
      encodeBackward(device, this.ctx.layouts, saved, H, D, l, pipes, {
        saved: saved.record.buffers,
        params,
        kernel: this.kernel,
        rkernel: this.rkernel,
        bias: this.bias,
        rkernelT,
        work,
        out,
        staging,
        steps: (n) => this.buffer('steps', n * UNIFORM_ALIGN, UNIFORM),
      });
    } catch (err) {
      thrown = err;
    }
    const view = await this.readBack('backward', thrown, staging, stagingBytes);
    return {
      dx: inputGradients ? view.slice(l.oDx, l.oDx + B * T * D) : new Float32Array(0),
      dInitialState: view.slice(l.outFloats, l.outFloats + B * H),
      dKernel: view.slice(l.oDK, l.oDK + D * G),
      dRecurrentKernel: view.slice(l.oDR, l.oDR + H * G),
      dBias: useBias ? view.slice(l.oDB, l.oDB + biasLen) : null,
    };
  }

  /**
   * Ends a submitted pass: pops its two error scopes and, if all went well, maps the staging
   * buffer and copies it out. On any failure the buffers kept for backward are released; a GPU
   * error also drops the per-call buffers (one that failed to allocate is invalid), so the next
   * call allocates afresh instead of failing the same way. dispose() may run at any await here.
   */
  private async readBack(
    pass: 'forward' | 'backward',
    thrown: unknown,
    staging: GPUBuffer | undefined,
    stagingBytes: number,
    kept: readonly GPUBuffer[] = [],
  ): Promise<Float32Array> {
    const device = this.ctx.device;
    const [vErr, oErr] = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
    const gpuError = vErr ?? oErr;
    if (thrown !== undefined || gpuError || !staging) for (const b of kept) this.release(b);
    if (thrown !== undefined) throw thrown;
    if (gpuError || !staging) {
      for (const b of this.pool.values()) this.release(b);
      this.pool.clear();
      throw new Error(`webgpu: the GPU rejected the ${pass} pass (${gpuError?.constructor.name}): ${gpuError?.message}`);
    }
    try {
      this.checkUsable();
      await this.ctx.whileAlive(staging.mapAsync(MapMode.READ, 0, stagingBytes));
      this.checkUsable();
      const view = new Float32Array(staging.getMappedRange(0, stagingBytes).slice(0));
      staging.unmap();
      return view;
    } catch (err) {
      for (const b of kept) this.release(b);
      const during = pass === 'forward' ? 'the call' : 'backward';
      if (this.disposed) throw new Error(`webgpu: this prepared GRU was disposed while ${during} ran; the call has no result.`);
      throw err;
    }
  }

  /** The backward recurrence mirrors the forward's choice: one fused dispatch where it fits, else per step. */
  private backwardPath(): RecurrencePath {
    const mode = this.ctx.recurrence;
    if (mode === 'stepwise') return 'stepwise';
    if (fusedBackwardWorkgroupBytes(this.shape) > this.ctx.device.limits.maxComputeWorkgroupStorageSize) return 'stepwise';
    return mode === 'fused' || this.spec.units <= 512 ? 'fused' : 'stepwise';
  }

  private async backwardPipelines(): Promise<BackwardPipelines> {
    const l = this.ctx.layouts;
    const post = backwardPostShaders(this.shape);
    const postPipe = (name: keyof typeof post) => this.pipeline(`bwd:${name}`, () => post[name], l.backPost);
    this.lastBackwardPath = this.backwardPath();
    const fusedPath = this.lastBackwardPath === 'fused';
    const stepCodes = fusedPath ? [] : backwardStepShaders(this.shape);
    const [steps, fused, transpose, kernelGrad, inputGrad, recurrentGrad, biasGrad] = await Promise.all([
      Promise.all(
        stepCodes.map((c, i) => this.pipeline(`bwd:step:${i}`, () => c.code, l.backStep).then((pipeline) => ({ pipeline, transposed: c.transposed }))),
      ),
      fusedPath ? this.pipeline('bwd:fused', () => fusedBackwardShader(this.shape), l.backFused) : undefined,
      postPipe('transpose'),
      postPipe('kernelGrad'),
      postPipe('inputGrad'),
      postPipe('recurrentGrad'),
      this.spec.useBias ? postPipe('biasGrad') : undefined,
    ]);
    return { steps, transpose, kernelGrad, inputGrad, recurrentGrad, ...(fused ? { fused } : {}), ...(biasGrad ? { biasGrad } : {}) };
  }
}
