import {
  checkForwardRequest,
  checkWeights,
  copyFloat32,
  copyMask,
  readRequest,
  readWeights,
  type ForwardRequest,
  type GruSpec,
  type GruWeights,
} from '@gru/core';
import { toFloat16Bits } from './memory.js';

/** Float64Array inputs are converted to float32 as they are copied for the GPU. */
export const ANY_FLOAT = { anyFloat: true } as const;

/**
 * A forward request whose arrays belong to the call: copied when forward() is called, onto
 * ordinary (not shared) ArrayBuffers. The copies are what reaches the GPU, so that
 * - mutating or transferring the caller's arrays after forward() returns changes nothing (the
 *   call runs later, after earlier calls on the layer and the kernels' compilation);
 * - Dawn's `queue.writeBuffer` never sees a view of a SharedArrayBuffer (it crashes the process
 *   on one) or an offset view: every copy starts at byte 0 and is a whole number of 4-byte words.
 */
export interface OwnedRequest extends ForwardRequest {
  x: Float32Array<ArrayBuffer>;
  initialState?: Float32Array<ArrayBuffer>;
  mask?: Uint8Array<ArrayBuffer>;
  inputDropoutMasks?: readonly [Float32Array<ArrayBuffer>, Float32Array<ArrayBuffer>, Float32Array<ArrayBuffer>];
  recurrentDropoutMasks?: readonly [Float32Array<ArrayBuffer>, Float32Array<ArrayBuffer>, Float32Array<ArrayBuffer>];
}

/**
 * A float32 copy of `a` on a fresh ordinary ArrayBuffer (whatever buffer `a` views): core's engine
 * copy, which neither a subclass's `length` nor its @@iterator can steer.
 */
export const ownFloats = (a: ArrayLike<number>): Float32Array<ArrayBuffer> => copyFloat32(a as unknown as ArrayBufferView);

const ownTriple = (m: readonly ArrayLike<number>[]) => [ownFloats(m[0]), ownFloats(m[1]), ownFloats(m[2])] as const;

/**
 * Validates `request` against `spec` and copies everything the call reads. Synchronous by design.
 * Each field is read once (readRequest) and only that reading is checked and copied: a getter
 * answering a bigger batch on a later read would otherwise size the GPU buffers past the check.
 */
export function snapshotRequest(spec: GruSpec, request: ForwardRequest): OwnedRequest {
  const req = readRequest(request);
  // Every type and length before anything is written to the GPU: a short array would read past
  // its end in writeBuffer or leave stale data in a reused buffer.
  checkForwardRequest(spec, req, 'webgpu forward', ANY_FLOAT);
  return {
    x: ownFloats(req.x),
    batch: req.batch,
    timesteps: req.timesteps,
    goBackwards: req.goBackwards === true,
    returnSequences: req.returnSequences === true,
    keepForBackward: req.keepForBackward === true,
    ...(req.initialState ? { initialState: ownFloats(req.initialState) } : {}),
    ...(req.mask ? { mask: copyMask(req.mask) } : {}),
    ...(req.inputDropoutMasks ? { inputDropoutMasks: ownTriple(req.inputDropoutMasks) } : {}),
    ...(req.recurrentDropoutMasks ? { recurrentDropoutMasks: ownTriple(req.recurrentDropoutMasks) } : {}),
  };
}

/** A layer's weights in the form its GPU buffers hold them, copied at call time. */
export interface StoredWeights {
  kernel: Float32Array<ArrayBuffer> | Uint16Array<ArrayBuffer>;
  recurrentKernel: Float32Array<ArrayBuffer> | Uint16Array<ArrayBuffer>;
  /** [2, 3*units]: the input-side bias, then the recurrent-side bias (zeros where absent). */
  bias: Float32Array<ArrayBuffer>;
}

/** Validates `weights` and converts them to what is uploaded (f16 bits when `f16`). */
export function storedWeights(spec: GruSpec, given: GruWeights, f16: boolean, caller: string): StoredWeights {
  const weights = readWeights(given);
  checkWeights(spec, weights, `webgpu ${caller}`, ANY_FLOAT);
  const G = 3 * spec.units;
  // Converted from an own copy: a subclass's `length` getter or subarray() could answer other values.
  const asStored = (a: ArrayLike<number>) => (f16 ? toFloat16Bits(ownFloats(a)) : ownFloats(a));
  // resetAfter=false has one bias, all of it input-side; no bias is all zeros.
  const bias = new Float32Array(2 * G);
  if (spec.useBias && weights.bias) bias.set(ownFloats(weights.bias));
  return { kernel: asStored(weights.kernel), recurrentKernel: asStored(weights.recurrentKernel), bias };
}
