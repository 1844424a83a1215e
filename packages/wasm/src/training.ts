import {
  checkBackwardRequest,
  emptyCallGradients,
  GruError,
  isEmptyCall,
  readBackwardRequest,
  typedArrayLength,
  type BackwardRequest,
  type GruGradients,
  type GruSpec,
} from '@gru/core';
import type { BackwardArgs, WasmKernel } from './kernel.js';
import type { ThreadPool } from './thread-pool.js';
import { type BackwardLayout, backwardLayout, type CallLayout, paddedUnits } from './layout.js';
import { describe } from './prepared.js';

const fail = (message: string) => new GruError('ValueError', `wasm backend: ${message}`);

/** Activation codes below this have backward kernels (assembly/activation-grads.ts GRAD_ACT_COUNT). */
export const BACKWARD_ACTIVATION_CODES = 26;

/** Default of WasmBackendOptions.keepForBackwardCalls. */
export const DEFAULT_KEPT_CALLS = 1;

/** A packed weight copy, which a kept call pins so backward differentiates the weights forward used. */
export interface PinnedWeights {
  wIn: number;
  wRec: number;
  users: number;
}

/** What a forward call with keepForBackward left in wasm memory. */
interface KeptCall {
  owner: SavedCalls;
  /** The forward call's allocation (inputs, masks, scratch, kept rows); -1 for an empty batch. */
  base: number;
  layout: CallLayout;
  batch: number;
  timesteps: number;
  returnSequences: boolean;
  weights: PinnedWeights;
  /** Order the calls were made in: the most recent ones are kept. */
  seq: number;
  released: boolean;
  /** backward() calls on the worker threads reading it: freeing waits for them. */
  busy: number;
}

/**
 * The `saved` of a wasm forward call made with keepForBackward: a handle to what the call kept
 * in wasm memory, which only the prepared layer that made it can differentiate.
 */
export class WasmSaved {
  constructor(
    readonly batch: number,
    readonly timesteps: number,
  ) {}
}

const kept = new WeakMap<WasmSaved, KeptCall>();

/** Frees what a forward call kept once its `saved` is garbage (the layer dropped it). */
const finalizer = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<KeptCall>((call) => call.owner.release(call)) : undefined;

/**
 * A prepared layer's kept calls. Wasm memory is freed deterministically: when a newer kept call
 * of the same layer completes beyond the `limit` most recent ones (by the order calls were made,
 * as core's layer differentiates the last call made), when the layer is disposed, or when the
 * `saved` handle is garbage collected.
 */
export class SavedCalls {
  private readonly live: KeptCall[] = [];
  private seq = 0;

  constructor(
    private readonly kernel: WasmKernel,
    private readonly limit: number,
    private readonly unpin: (weights: PinnedWeights) => void,
  ) {}

  /** Called when a kept call starts, before anything is awaited. */
  nextSeq(): number {
    return this.seq++;
  }

  /** Bytes held for backward (for tests). */
  get count(): number {
    return this.live.length;
  }

  /** Takes ownership of a completed forward call's allocation `base` (-1: none). */
  keep(base: number, layout: CallLayout, batch: number, timesteps: number, returnSequences: boolean, weights: PinnedWeights, seq: number): WasmSaved {
    weights.users++;
    const call: KeptCall = { owner: this, base, layout, batch, timesteps, returnSequences, weights, seq, released: false, busy: 0 };
    const handle = new WasmSaved(batch, timesteps);
    kept.set(handle, call);
    finalizer?.register(handle, call, call);
    this.live.push(call);
    this.live.sort((a, b) => a.seq - b.seq);
    while (this.live.length > this.limit) this.release(this.live[0]);
    return handle;
  }

  /** The kept call behind `saved`, or a clear error. */
  lookup(saved: unknown): KeptCall {
    const call = saved instanceof WasmSaved ? kept.get(saved) : undefined;
    if (!call || call.owner !== this) {
      throw fail(
        'backward needs the `saved` of a forward call made with keepForBackward: true on this prepared layer; ' +
          `received ${saved instanceof WasmSaved ? "another layer's saved" : describe(saved)}.`,
      );
    }
    if (call.released) {
      throw fail(
        `what this forward call kept for backward was released: a prepared layer keeps it for its last ${this.limit} keepForBackward ` +
          `call${this.limit === 1 ? '' : 's'} (createWasmBackend({ keepForBackwardCalls })) until it is disposed. Run forward again before backward.`,
      );
    }
    return call;
  }

  release(call: KeptCall): void {
    if (call.released) return;
    call.released = true;
    finalizer?.unregister(call);
    const i = this.live.indexOf(call);
    if (i >= 0) this.live.splice(i, 1);
    if (call.busy === 0) this.free(call);
  }

  /** A backward call on the worker threads finished reading `call`. */
  idle(call: KeptCall): void {
    if (--call.busy === 0 && call.released) this.free(call);
  }

  private free(call: KeptCall): void {
    if (call.base >= 0 && !this.kernel.disposed) this.kernel.heap.release(call.base);
    this.unpin(call.weights);
  }

  releaseAll(): void {
    for (const call of [...this.live]) this.release(call);
  }
}

/** Keras's [rows, 3*units] from the kernel's [rows, 3*Hp]. */
function unpad(src: Float32Array, rows: number, units: number, hp: number): Float32Array {
  const out = new Float32Array(rows * 3 * units);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < 3; g++) out.set(src.subarray(r * 3 * hp + g * hp, r * 3 * hp + g * hp + units), r * 3 * units + g * units);
  }
  return out;
}

export interface BackwardContext {
  kernel: WasmKernel;
  spec: GruSpec;
  codes: { f: number; g: number };
}

interface Staged {
  base: number;
  offsets: BackwardLayout;
  args: BackwardArgs;
  /** false: gruBackward skipped dx (its address 0) and dx comes back empty. */
  inputGradients: boolean;
}

/**
 * Checks a backward request against its kept call, then allocates the call's buffers (inputs
 * copied in, the weights the forward call used transposed per gate, and gruBackward's arguments
 * as i32 for the worker threads). An empty call (nothing kept) is answered here, without the kernel.
 */
function stage({ kernel, spec, codes }: BackwardContext, call: KeptCall, given: BackwardRequest, workers: number): Staged | { empty: GruGradients } {
  const request = readBackwardRequest(given);
  const { units: H, inputDim: D } = spec;
  const { batch: B, timesteps: T, inputGradients, hasDLastState } = checkBackwardRequest(spec, call, request, 'wasm backward');
  const dOutput = request.dOutput;
  const dLast = hasDLastState ? request.dLastState : undefined;
  if (isEmptyCall(call)) return { empty: emptyCallGradients(spec, call, { dOutput, dLastState: dLast, inputGradients }) };
  const L = call.layout;
  const e = kernel.exports;
  // gruBackward only reads what forward kept and writes its own rows (o.grads), so backward can
  // run again on the same call and agree without copying the kept rows.
  const o = backwardLayout({ batch: B, timesteps: T, inputDim: D, units: H, flags: L.flags }, workers, inputGradients);
  const hp = paddedUnits(H);
  const dp = paddedUnits(D);
  const base = kernel.heap.alloc(o.total, `the backward pass of a call with batch=${B}, timesteps=${T} (inputDim=${D}, units=${H})`);
  // The engine's count (the one checked): a subclass's `length` getter may answer another on a second read.
  kernel.f32(base + o.dOut, typedArrayLength(dOutput)).set(dOutput);
  if (dLast) kernel.f32(base + o.dLast, B * H).set(dLast);
  // The weights as the forward call used them, transposed per gate for dx and dh.
  for (let g = 0; g < 3; g++) {
    if (inputGradients) e.packTransposed(call.weights.wIn, D, H, hp, g, base + o.tIn + g * H * dp * 4);
    e.packTransposed(call.weights.wRec, H, H, hp, g, base + o.tRec + g * H * hp * 4);
  }
  const k = call.base;
  const args: BackwardArgs = [
    B,
    T,
    D,
    H,
    hp,
    L.flags,
    codes.f,
    codes.g,
    k + L.x,
    k + L.mask,
    k + L.inDrop,
    k + L.recDrop,
    k + L.keep,
    base + o.grads,
    base + o.tIn,
    base + o.tRec,
    base + o.dOut,
    dLast ? base + o.dLast : 0,
    base + o.dInit,
    inputGradients ? base + o.dx : 0,
    base + o.dK,
    base + o.dU,
    base + o.dBias,
    base + o.scratch,
  ];
  new Int32Array(kernel.exports.memory.buffer, base + o.args, args.length).set(args);
  return { base, offsets: o, args, inputGradients };
}

function collect({ kernel, spec }: BackwardContext, call: KeptCall, { base, offsets: o, inputGradients }: Staged): GruGradients {
  const { units: H, inputDim: D, useBias, resetAfter } = spec;
  const { batch: B, timesteps: T } = call;
  const hp = paddedUnits(H);
  return {
    dx: inputGradients ? kernel.f32(base + o.dx, B * T * D).slice() : new Float32Array(0),
    dInitialState: kernel.f32(base + o.dInit, B * H).slice(),
    dKernel: unpad(kernel.f32(base + o.dK, D * 3 * hp), D, H, hp),
    dRecurrentKernel: unpad(kernel.f32(base + o.dU, H * 3 * hp), H, H, hp),
    dBias: useBias ? unpad(kernel.f32(base + o.dBias, 2 * 3 * hp), resetAfter ? 2 : 1, H, hp) : null,
  };
}

/** Runs gruBackward on a kept call, on the calling thread. */
export function runBackward(ctx: BackwardContext, call: KeptCall, request: BackwardRequest): GruGradients {
  const staged = stage(ctx, call, request, 1);
  if ('empty' in staged) return staged.empty;
  try {
    ctx.kernel.exports.gruBackward(...staged.args);
    return collect(ctx, call, staged);
  } finally {
    ctx.kernel.heap.release(staged.base);
  }
}

/**
 * Runs gruBackward on `workers` of the pool's threads (the steps on one, the whole-sequence GEMMs
 * shared), leaving the calling thread free; the kept call is not freed while they read it.
 */
export async function runBackwardOnPool(
  ctx: BackwardContext,
  call: KeptCall,
  request: BackwardRequest,
  pool: ThreadPool,
  workers: number,
): Promise<GruGradients> {
  const staged = stage(ctx, call, request, workers);
  if ('empty' in staged) return staged.empty;
  call.busy++;
  try {
    await pool.runBackward(staged.base + staged.offsets.args, workers);
    return collect(ctx, call, staged);
  } finally {
    if (!ctx.kernel.disposed) ctx.kernel.heap.release(staged.base);
    call.owner.idle(call);
  }
}
