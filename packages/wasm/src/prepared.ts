import {
  GruError,
  type BackwardRequest,
  type BoundForward,
  type BoundForwardRequest,
  type FloatArray,
  type ForwardRequest,
  type ForwardResult,
  type GruGradients,
  type GruSpec,
  type GruWeights,
  type PreparedGru,
  checkForwardRequest,
  checkSpec,
  checkWeights as checkWeightsOf,
  copyFloat32,
  emptyForwardResult,
  isEmptyCall,
  describeValue,
  readRequest,
  readSpec,
  readWeights,
} from '@gru/core';
import { activationCode, FIRST_ROWWISE_CODE } from './activation-codes.js';
import { checkNoOverlap, WasmBoundForward } from './bound.js';
import { formatBytes, MAX_WASM_BYTES } from './heap.js';
import type { ForwardArgs, WasmKernel } from './kernel.js';
import { callLayout, FLAGS, paddedUnits, PANEL_COLS, SINGLE_THREAD, weightBytes, type CallLayout, type Threading } from './layout.js';
import { BACKWARD_ACTIVATION_CODES, DEFAULT_KEPT_CALLS, runBackward, runBackwardOnPool, SavedCalls } from './training.js';

const fail = (message: string) => new GruError('ValueError', `wasm backend: ${message}`);

/** A received value for error messages (core's wording, shared by every backend). */
export const describe = describeValue;

/** Float64Array inputs of a float32 layer are converted as they are copied into wasm memory. */
const ANY_FLOAT = { anyFloat: true } as const;

/** Validates a spec for this backend and returns the activation codes. */
export function specCodes(spec: GruSpec): { f: number; g: number } {
  checkSpec(spec, 'wasm prepare');
  // The kernels' panels assume at least one input feature.
  if (spec.inputDim === 0) throw fail('spec.inputDim must be a positive integer; received number 0.');
  if (spec.dtype !== 'float32') throw fail(`spec.dtype must be 'float32' (the kernels compute in float32); received '${String(spec.dtype)}'.`);
  const f = activationCode(spec.activation, spec.units);
  if (typeof f === 'string') throw fail(`spec.activation: ${f}.`);
  const g = activationCode(spec.recurrentActivation, spec.units);
  if (typeof g === 'string') throw fail(`spec.recurrentActivation: ${g}.`);
  return { f, g };
}

/**
 * One packed copy of a layer's weights in wasm memory. Calls on the worker threads read it while
 * this thread goes on, so a copy is never rewritten while `users` calls hold it: setWeights()
 * then packs a fresh copy, and the old one is freed when its last call ends.
 */
interface WeightBlock {
  ptr: number;
  wIn: number;
  wRec: number;
  biasIn: number;
  biasRec: number;
  /** Calls on the workers that read this copy. */
  users: number;
}

/** What the finalizer frees for a layer that was never disposed: its current weight copy. */
interface Held {
  kernel: WasmKernel;
  block: WeightBlock;
}

/** Deterministic release of wasm memory for layers that were never disposed. */
const finalizer =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<Held>(({ kernel, block }) => {
        if (!kernel.disposed) kernel.heap.release(block.ptr);
      })
    : undefined;

/**
 * A layer's weights packed into wasm memory by `prepare()`: every optional operation of core's
 * PreparedGru is there. An interface, so the public types carry none of the module's internals
 * (nor need the DOM lib's WebAssembly types).
 */
export type WasmPreparedGru = Required<PreparedGru>;

/**
 * A GRU layer's weights packed into wasm memory once: per-gate column panels (see
 * assembly/gemm.ts) for the kernel and the recurrent kernel, and padded bias rows. Each call copies
 * its inputs in, runs the whole sequence in one wasm call, and copies the outputs out.
 */
export class WasmPrepared implements WasmPreparedGru {
  /** The spec as read once at prepare; calls never read the caller's object again. */
  readonly spec: GruSpec;
  private readonly hp: number;
  private readonly codes: { f: number; g: number };
  /** The weights new calls use (`held.block`); the finalizer frees it if dispose() never runs. */
  private readonly held: Held;
  /** What keepForBackward calls left in wasm memory for backward (training.ts). */
  private readonly kept: SavedCalls;
  private disposed = false;

  constructor(
    private readonly kernel: WasmKernel,
    givenSpec: GruSpec,
    given: GruWeights,
    private readonly projectionBudget: number,
    private readonly threading: Threading = SINGLE_THREAD,
    keptCalls = DEFAULT_KEPT_CALLS,
  ) {
    // Read once: every call sizes its buffers from this copy, as the weights were packed for it.
    const spec = readSpec(givenSpec);
    this.codes = specCodes(spec);
    this.spec = spec;
    const { units: H } = spec;
    this.hp = paddedUnits(H);
    const weights = readWeights(given);
    checkWeights(spec, weights, 'wasm prepare');
    this.held = { kernel, block: this.allocWeights() };
    this.pack(weights, this.held.block);
    finalizer?.register(this, this.held, this);
    this.kept = new SavedCalls(kernel, keptCalls, (block) => this.unpin(block as WeightBlock));
  }

  private allocWeights(): WeightBlock {
    const { units: H, inputDim: D } = this.spec;
    const ptr = this.kernel.heap.alloc(weightBytes(D, H), `the weights of a GRU layer (inputDim=${D}, units=${H})`);
    const f32 = (n: number) => Math.ceil((n * 4) / 64) * 64;
    const wRec = ptr + f32(3 * this.hp * D);
    const biasIn = wRec + f32(3 * this.hp * H);
    return { ptr, wIn: ptr, wRec, biasIn, biasRec: biasIn + f32(3 * this.hp), users: 0 };
  }

  /**
   * Replaces the weights. Calls already made keep the weights they were made with: a copy that
   * running calls read is left to them, and the new weights go into a fresh one.
   */
  setWeights(given: GruWeights): void {
    this.checkUsable();
    const weights = readWeights(given);
    checkWeights(this.spec, weights, 'wasm setWeights');
    const current = this.held.block;
    if (current.users === 0) {
      this.pack(weights, current);
      return;
    }
    const fresh = this.allocWeights();
    this.pack(weights, fresh);
    this.held.block = fresh;
  }

  private pack(weights: GruWeights, block: WeightBlock): void {
    const { units: H, inputDim: D, resetAfter } = this.spec;
    const hp = this.hp;
    packPanels(this.kernel.f32(block.wIn, 3 * hp * D), weights.kernel, D, H, hp);
    packPanels(this.kernel.f32(block.wRec, 3 * hp * H), weights.recurrentKernel, H, H, hp);
    const biasIn = this.kernel.f32(block.biasIn, 3 * hp);
    const biasRec = this.kernel.f32(block.biasRec, 3 * hp);
    biasIn.fill(0);
    biasRec.fill(0);
    // An engine copy: a subclass's subarray() (@@species) could answer other values than were checked.
    const bias = weights.bias && copyFloat32(weights.bias);
    if (bias) {
      for (let g = 0; g < 3; g++) biasIn.set(bias.subarray(g * H, (g + 1) * H), g * hp);
      if (resetAfter) {
        // The recurrent bias row: z and r only ever sum it with the input bias, so it is folded
        // in; the candidate's b_h sits inside r * (h U_h + b_h), so it stays apart.
        for (let j = 0; j < H; j++) {
          biasIn[j] += bias[3 * H + j];
          biasIn[hp + j] += bias[4 * H + j];
        }
        biasRec.set(bias.subarray(5 * H, 6 * H), 2 * hp);
      }
    }
  }

  /** True once disposed, or once the backend it was prepared on was disposed (its module is gone). */
  isDisposed(): boolean {
    return this.disposed || this.kernel.disposed;
  }

  private checkUsable(): void {
    if (this.disposed) throw fail('this prepared layer was disposed; prepare it again.');
    if (this.kernel.disposed)
      throw fail(
        'the backend this layer was prepared on was disposed; prepare it again once the backend is loaded (a GRU layer does so by itself on its next call).',
      );
  }

  /**
   * Validates a request and lays out its buffers for the workers it is worth out of `poolSize`
   * (none: one thread; `L.workers` says how many).
   */
  private plan(req: ForwardRequest, where: string, poolSize = 0, bound = false): CallLayout {
    const { units: H, inputDim: D } = this.spec;
    // An empty batch or no steps is answered without the kernel (runHere, WasmBoundForward).
    const { batch: B, timesteps: T } = checkForwardRequest(this.spec, req, where, { ...ANY_FLOAT, bound });
    let flags = 0;
    if (this.spec.resetAfter) flags |= FLAGS.resetAfter;
    if (req.goBackwards) flags |= FLAGS.goBackwards;
    if (req.returnSequences) flags |= FLAGS.returnSequences;
    if (req.initialState !== undefined) flags |= FLAGS.initialState;
    if (req.mask !== undefined) flags |= FLAGS.mask;
    if (req.inputDropoutMasks !== undefined) flags |= FLAGS.inputDropout;
    if (req.recurrentDropoutMasks !== undefined) flags |= FLAGS.recurrentDropout;
    if (req.keepForBackward === true) {
      if (this.codes.f >= BACKWARD_ACTIVATION_CODES || this.codes.g >= BACKWARD_ACTIVATION_CODES) {
        throw fail(`keepForBackward: the backward kernels have no derivative of activation '${this.spec.activation}' or '${this.spec.recurrentActivation}'.`);
      }
      flags |= FLAGS.keep;
    }
    // Workers split each gate's units, so a row-wise activation (which needs the whole row) runs on one.
    const rowwise = Math.max(this.codes.f, this.codes.g) >= FIRST_ROWWISE_CODE;
    const workers = poolSize > 1 && !rowwise ? this.threading.workersFor({ batch: B, timesteps: T }, this.spec, poolSize) : 1;
    const layout = callLayout({ batch: B, timesteps: T, inputDim: D, units: H, flags }, this.projectionBudget, workers);
    if (layout.total + this.kernel.heap.inUse > MAX_WASM_BYTES) {
      throw fail(
        `a call with batch=${B}, timesteps=${T} (inputDim=${D}, units=${H}) needs ${formatBytes(layout.total)} of WebAssembly memory ` +
          `besides the ${formatBytes(this.kernel.heap.inUse)} in use, beyond the 4 GiB that 32-bit WebAssembly can address. ` +
          'Split the batch or the sequence (a stateful layer carries the state across calls), or use another backend.',
      );
    }
    return layout;
  }

  forwardSync(request: ForwardRequest): ForwardResult {
    this.checkUsable();
    const req = readRequest(request);
    return this.runHere(req, this.plan(req, 'wasm forward'));
  }

  /**
   * Checks the request once and lays it out in wasm memory; each `run()` then copies the inputs
   * in, runs the kernel on this thread with the current weights, and copies `output` and
   * `lastState` out, allocating nothing.
   */
  bindForward(request: BoundForwardRequest): BoundForward {
    this.checkUsable();
    const req = readRequest(request, true);
    const L = this.plan(req, 'wasm bindForward', 0, true);
    checkNoOverlap(
      [
        ['output', req.output],
        ['lastState', req.lastState],
      ],
      [
        ['x', req.x],
        ['initialState', req.initialState],
        ['mask', req.mask],
        ...(req.inputDropoutMasks ?? []).map((m, g): [string, FloatArray] => [`inputDropoutMasks[${g}]`, m]),
        ...(req.recurrentDropoutMasks ?? []).map((m, g): [string, FloatArray] => [`recurrentDropoutMasks[${g}]`, m]),
      ],
    );
    return new WasmBoundForward(
      this.kernel,
      req,
      L,
      (base) => this.args(req, L, base, this.held.block),
      () => this.held.block,
      () => this.checkUsable(),
    );
  }

  /** Runs a planned one-thread call on the calling thread. */
  private runHere(req: ForwardRequest, L: CallLayout): ForwardResult {
    const seq = this.kept.nextSeq();
    // The kernels run at least one row and one step; an empty call keeps no memory (base -1).
    if (isEmptyCall(req)) return this.keepIf(emptyForwardResult(this.spec, req), req, L, -1, this.held.block, seq);
    const base = this.stage(req, L);
    let result: ForwardResult | undefined;
    try {
      this.kernel.exports.gruForward(...this.args(req, L, base, this.held.block));
      result = this.collect(req, L, base);
    } finally {
      if (!result || !(L.flags & FLAGS.keep)) this.kernel.heap.release(base);
    }
    return this.keepIf(result, req, L, base, this.held.block, seq);
  }

  /** With FLAGS.keep, hands the call's allocation (and a pin on its weights) to `saved`. */
  private keepIf(result: ForwardResult, req: ForwardRequest, L: CallLayout, base: number, block: WeightBlock, seq: number): ForwardResult {
    if (!(L.flags & FLAGS.keep)) return result;
    result.saved = this.kept.keep(base, L, req.batch, req.timesteps, req.returnSequences === true, block, seq);
    return result;
  }

  /** Drops a call's hold on a weight copy, freeing a copy that was replaced or whose layer was disposed. */
  private unpin(block: WeightBlock): void {
    if (--block.users === 0 && (block !== this.held.block || this.disposed)) this.releaseWeights(block);
  }

  /**
   * Gradients through a forward call made with keepForBackward, from what it kept in wasm memory,
   * as one whole-sequence wasm call on the calling thread.
   */
  backwardSync(saved: unknown, request: BackwardRequest): GruGradients {
    this.checkUsable();
    return runBackward({ kernel: this.kernel, spec: this.spec, codes: this.codes }, this.kept.lookup(saved), request);
  }

  /**
   * As backwardSync; on a backend with worker threads, a call large enough to gain from them runs
   * on the pool (its whole-sequence GEMMs shared), with bitwise the same gradients.
   */
  async backward(saved: unknown, request: BackwardRequest): Promise<GruGradients> {
    this.checkUsable();
    const call = this.kept.lookup(saved);
    const ctx = { kernel: this.kernel, spec: this.spec, codes: this.codes };
    const pool = this.kernel.pool;
    const workers = pool && !pool.broken ? this.threading.workersFor({ batch: call.batch, timesteps: call.timesteps }, this.spec, pool.size) : 1;
    if (!pool || workers <= 1) return runBackward(ctx, call, request);
    try {
      return await runBackwardOnPool(ctx, call, request, pool, workers);
    } catch (err) {
      if (this.kernel.disposed) throw fail('the backend was disposed while backward ran on its worker threads; the call has no result.');
      throw err;
    }
  }

  /**
   * On a backend with worker threads, a call large enough to gain from them runs on the pool
   * (leaving this thread free meanwhile); any other runs as forwardSync does. Results are bitwise
   * the same either way.
   */
  async forward(request: ForwardRequest): Promise<ForwardResult> {
    this.checkUsable();
    const req = readRequest(request);
    const pool = this.kernel.pool;
    const L = this.plan(req, 'wasm forward', pool && !pool.broken ? pool.size : 0);
    // An empty call has no step to share (the kernel divides by its steps): answered here.
    if (!pool || L.workers <= 1 || isEmptyCall(req)) return this.runHere(req, L);
    // Inputs are copied and the weight copy is pinned now, before anything is awaited.
    const base = this.stage(req, L);
    const block = this.held.block;
    const seq = this.kept.nextSeq();
    block.users++;
    let result: ForwardResult | undefined;
    try {
      await pool.run(this.args(req, L, base, block), L.workers);
      result = this.collect(req, L, base);
    } catch (err) {
      if (this.kernel.disposed) throw fail('the backend was disposed while the call ran on its worker threads; the call has no result.');
      throw err;
    } finally {
      // A layer disposed meanwhile keeps nothing.
      const keep = result !== undefined && (L.flags & FLAGS.keep) !== 0 && !this.disposed && !this.kernel.disposed;
      if (keep && result) this.keepIf(result, req, L, base, block, seq);
      else if (!this.kernel.disposed) this.kernel.heap.release(base);
      // A copy replaced by setWeights(), or the layer disposed, while the workers read it.
      this.unpin(block);
    }
    return result;
  }

  /** Allocates a call's buffers and copies its inputs in. */
  private stage(req: ForwardRequest, L: CallLayout): number {
    const { units: H, inputDim: D } = this.spec;
    const { batch: B, timesteps: T } = req;
    const k = this.kernel;
    const base = k.heap.alloc(L.total, () => `a call with batch=${B}, timesteps=${T} (inputDim=${D}, units=${H})`);
    k.f32(base + L.x, B * T * D).set(req.x);
    if (req.mask) k.u8(base + L.mask, B * T).set(req.mask);
    if (req.initialState) k.f32(base + L.h0, B * H).set(req.initialState);
    req.inputDropoutMasks?.forEach((m, g) => k.f32(base + L.inDrop + g * B * D * 4, B * D).set(m));
    req.recurrentDropoutMasks?.forEach((m, g) => k.f32(base + L.recDrop + g * B * H * 4, B * H).set(m));
    return base;
  }

  /** gruForward's arguments (gruForwardPart's first ones). */
  private args(req: ForwardRequest, L: CallLayout, base: number, o: WeightBlock): ForwardArgs {
    return [
      req.batch,
      req.timesteps,
      this.spec.inputDim,
      this.spec.units,
      this.hp,
      L.flags,
      this.codes.f,
      this.codes.g,
      L.chunk,
      base + L.x,
      o.wIn,
      o.wRec,
      o.biasIn,
      o.biasRec,
      base + L.h0,
      base + L.mask,
      base + L.inDrop,
      base + L.recDrop,
      base + L.out,
      base + L.last,
      base + L.scratch,
    ];
  }

  private collect(req: ForwardRequest, L: CallLayout, base: number): ForwardResult {
    const { batch: B, timesteps: T } = req;
    const H = this.spec.units;
    const lastState = this.kernel.f32(base + L.last, B * H).slice();
    const output = req.returnSequences ? this.kernel.f32(base + L.out, B * T * H).slice() : lastState.slice();
    return { output, lastState };
  }

  dispose(): void {
    if (this.disposed) return;
    // Kept calls unpin the current weights first, so they are freed once, below.
    this.kept.releaseAll();
    this.disposed = true;
    finalizer?.unregister(this);
    if (this.held.block.users === 0) this.releaseWeights(this.held.block);
  }

  private releaseWeights(block: WeightBlock): void {
    if (!this.kernel.disposed) this.kernel.heap.release(block.ptr);
  }
}

/** A copy of checked weights that the caller cannot change (engine copies: a subclass's slice() could answer other values). */
export function copyWeights(w: GruWeights): GruWeights {
  return { kernel: copyFloat32(w.kernel), recurrentKernel: copyFloat32(w.recurrentKernel), bias: w.bias ? copyFloat32(w.bias) : w.bias };
}

/** Core's weight check; Float64Array weights are converted as they are packed. */
export function checkWeights(spec: GruSpec, w: GruWeights, where: string): void {
  checkWeightsOf(spec, w, where, ANY_FLOAT);
}

/**
 * Packs a Keras [rows, 3*units] matrix into panels of PANEL_COLS columns over the padded
 * [rows, 3*hp] layout: panel p holds padded columns 8p..8p+7 as `rows` rows of 8 floats; padding
 * columns are zero.
 */
export function packPanels(dst: Float32Array, src: ArrayLike<number>, rows: number, units: number, hp: number): void {
  const cols = 3 * units;
  const panels = (3 * hp) / PANEL_COLS;
  for (let p = 0; p < panels; p++) {
    const base = p * rows * PANEL_COLS;
    for (let i = 0; i < PANEL_COLS; i++) {
      const padded = p * PANEL_COLS + i;
      const gate = Math.floor(padded / hp);
      const j = padded - gate * hp;
      if (j >= units) {
        for (let r = 0; r < rows; r++) dst[base + r * PANEL_COLS + i] = 0;
        continue;
      }
      const col = gate * units + j;
      for (let r = 0; r < rows; r++) dst[base + r * PANEL_COLS + i] = src[r * cols + col];
    }
  }
}
