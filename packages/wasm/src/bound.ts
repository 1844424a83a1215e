import { GruError, isEmptyCall, typedArrayLength, type BoundForward, type BoundForwardRequest, type FloatArray } from '@gru/core';
import type { ForwardArgs, WasmKernel } from './kernel.js';
import type { CallLayout } from './layout.js';

const fail = (message: string) => new GruError('ValueError', `wasm backend: ${message}`);

/** The weight pointers a run reads (the prepared layer's current copy). */
export interface WeightPointers {
  wIn: number;
  wRec: number;
  biasIn: number;
  biasRec: number;
}

/** What a bound call holds in wasm memory: freed by dispose(), or by the finalizer if never disposed. */
interface Held {
  kernel: WasmKernel;
  base: number;
}

const finalizer =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<Held>(({ kernel, base }) => {
        if (!kernel.disposed) kernel.heap.release(base);
      })
    : undefined;

/** A typed array of the request, its byte range and the view of wasm memory it is copied to or from. */
interface Slot {
  name: string;
  array: FloatArray | Uint8Array;
  /** The mask's bytes or float values: known from the field, never from the array (another realm's Uint8Array is no `instanceof Uint8Array`). */
  bytes: boolean;
  length: number;
  ptr: number;
  view: Float32Array | Uint8Array;
}

function range(a: ArrayBufferView) {
  return { buffer: a.buffer, start: a.byteOffset, end: a.byteOffset + a.byteLength };
}

/** Refuses outputs that share memory with each other or with the inputs (the copies would race). */
export function checkNoOverlap(outputs: [string, ArrayBufferView][], inputs: [string, ArrayBufferView | undefined][]): void {
  const all = [...outputs, ...inputs];
  for (const [oName, o] of outputs) {
    const a = range(o);
    for (const [iName, i] of all) {
      if (!i || iName === oName || a.end === a.start) continue;
      const b = range(i);
      if (b.buffer === a.buffer && a.start < b.end && b.start < a.end)
        throw fail(`request.${oName} shares memory with request.${iName}; pass separate arrays.`);
    }
  }
}

/**
 * A forward call laid out in wasm memory once. A run copies the inputs in, calls the kernel with
 * the arguments computed at binding (only the weight pointers are refreshed, so setWeights
 * applies), and copies the outputs out: no allocation, no checks beyond the arrays' lengths.
 */
export class WasmBoundForward implements BoundForward {
  private readonly held: Held;
  private readonly inputs: Slot[] = [];
  private readonly outputs: Slot[] = [];
  private readonly args: ForwardArgs;
  private viewsMade = false;
  private disposed = false;
  /** No rows or no steps: runs copy the initial state (or zeros) instead of calling the kernel. */
  private readonly empty: boolean;

  constructor(
    private readonly kernel: WasmKernel,
    request: BoundForwardRequest,
    L: CallLayout,
    args: (base: number) => ForwardArgs,
    private readonly weights: () => WeightPointers,
    private readonly usable: () => void,
  ) {
    const base = kernel.heap.alloc(L.total, () => `a bound call with batch=${request.batch}, timesteps=${request.timesteps}`);
    this.held = { kernel, base };
    finalizer?.register(this, this.held, this);
    this.args = args(base);
    const B = request.batch;
    const [D, H] = [this.args[2], this.args[3]];
    // Lengths are the engine's (typedArrayLength): a subclass's `length` getter could answer another.
    const slot = (list: Slot[], name: string, array: FloatArray | Uint8Array | undefined, ptr: number) => {
      if (array) list.push({ name, array, bytes: name === 'mask', length: typedArrayLength(array), ptr: base + ptr, view: new Float32Array(0) });
    };
    slot(this.inputs, 'x', request.x, L.x);
    slot(this.inputs, 'initialState', request.initialState, L.h0);
    slot(this.inputs, 'mask', request.mask, L.mask);
    request.inputDropoutMasks?.forEach((m, g) => slot(this.inputs, `inputDropoutMasks[${g}]`, m, L.inDrop + g * B * D * 4));
    request.recurrentDropoutMasks?.forEach((m, g) => slot(this.inputs, `recurrentDropoutMasks[${g}]`, m, L.recDrop + g * B * H * 4));
    slot(this.outputs, 'lastState', request.lastState, L.last);
    slot(this.outputs, 'output', request.output, request.returnSequences ? L.out : L.last);
    this.empty = isEmptyCall(request);
  }

  run(): void {
    if (this.disposed) throw fail('this bound call was disposed.');
    this.usable();
    const k = this.kernel;
    const inputs = this.inputs;
    // memory.grow() detaches a non-shared memory's buffer, and with it every view, whose length
    // then reads 0: make them again (rare; never in a steady stream). All were made from one
    // buffer, so lastState's view (empty only with batch 0, answered above) stands for all;
    // x's would not (it is empty with no steps). A shared memory never detaches, and views made
    // before it grew stay valid. Memory's buffer getter costs ~20 ns a call; this check nothing.
    const outputs = this.outputs;
    if (outputs[0].length === 0) {
      // No rows: nothing to copy or compute (and a zero-length view of a detached buffer would
      // throw on set(), while its length gives no sign of the detachment).
      for (const s of inputs) if (typedArrayLength(s.array) !== s.length) this.resized(s);
      for (const s of outputs) if (typedArrayLength(s.array) !== s.length) this.resized(s);
      return;
    }
    if (!this.viewsMade || outputs[0].view.length !== outputs[0].length) this.views();
    for (let i = 0; i < inputs.length; i++) {
      const s = inputs[i];
      if (typedArrayLength(s.array) !== s.length) this.resized(s);
      (s.view as Float32Array).set(s.array as Float32Array);
    }
    for (let i = 0; i < outputs.length; i++) if (typedArrayLength(outputs[i].array) !== outputs[i].length) this.resized(outputs[i]);
    const w = this.weights();
    const a = this.args;
    a[10] = w.wIn;
    a[11] = w.wRec;
    a[12] = w.biasIn;
    a[13] = w.biasRec;
    if (this.empty) {
      // With no steps the state is the initial state, as emptyForwardResult answers.
      const last = outputs[0].view as Float32Array;
      const h0 = inputs.find((s) => s.name === 'initialState');
      if (h0) last.set(h0.view as Float32Array);
      else last.fill(0);
    } else {
      k.exports.gruForward(
        a[0],
        a[1],
        a[2],
        a[3],
        a[4],
        a[5],
        a[6],
        a[7],
        a[8],
        a[9],
        a[10],
        a[11],
        a[12],
        a[13],
        a[14],
        a[15],
        a[16],
        a[17],
        a[18],
        a[19],
        a[20],
      );
    }
    for (let i = 0; i < outputs.length; i++) (outputs[i].array as Float32Array).set(outputs[i].view as Float32Array);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    finalizer?.unregister(this);
    if (!this.kernel.disposed) this.kernel.heap.release(this.held.base);
  }

  private views(): void {
    const k = this.kernel;
    for (const s of [...this.inputs, ...this.outputs]) s.view = s.bytes ? k.u8(s.ptr, s.length) : k.f32(s.ptr, s.length);
    this.viewsMade = true;
  }

  private resized(s: Slot): never {
    throw fail(
      `request.${s.name} was detached or resized since the call was bound (${s.length} values then, ${typedArrayLength(s.array)} now); bind the call again.`,
    );
  }
}
