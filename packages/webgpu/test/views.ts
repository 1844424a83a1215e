import type { ForwardRequest, GruWeights } from '@gru/core';

/** Test inputs in the shapes of memory the caller may hand over: shared, offset, odd-length. */
export type Floats = Float32Array | Float64Array;

/** A copy of `a` on a SharedArrayBuffer. */
export function onShared<T extends Floats | Uint8Array>(a: T): T {
  const Ctor = a.constructor as new (buffer: ArrayBufferLike, offset?: number, length?: number) => T;
  const copy = new Ctor(new SharedArrayBuffer(a.byteLength));
  (copy as unknown as { set(v: ArrayLike<number>): void }).set(a);
  return copy;
}

/** A copy of `a` viewed at `offset` elements into a larger buffer that has data on both sides. */
export function offsetView<T extends Floats | Uint8Array>(a: T, offset = 1): T {
  const Ctor = a.constructor as new (buffer: ArrayBufferLike, offset?: number, length?: number) => T;
  const big = new Ctor(new ArrayBuffer((a.length + offset + 3) * a.BYTES_PER_ELEMENT));
  (big as unknown as { fill(v: number): void }).fill(7);
  const view = new Ctor(big.buffer, offset * a.BYTES_PER_ELEMENT, a.length);
  (view as unknown as { set(v: ArrayLike<number>): void }).set(a);
  return view;
}

export function mapRequest(req: ForwardRequest, f: <T extends Floats | Uint8Array>(a: T) => T, only?: keyof ForwardRequest): ForwardRequest {
  const pick = <T extends Floats | Uint8Array>(key: keyof ForwardRequest, a: T) => (only === undefined || only === key ? f(a) : a);
  const triple = (key: keyof ForwardRequest, m: readonly [Floats, Floats, Floats] | undefined) =>
    m ? ([pick(key, m[0]), pick(key, m[1]), pick(key, m[2])] as const) : undefined;
  return {
    ...req,
    x: pick('x', req.x),
    initialState: req.initialState && pick('initialState', req.initialState),
    mask: req.mask && pick('mask', req.mask),
    inputDropoutMasks: triple('inputDropoutMasks', req.inputDropoutMasks),
    recurrentDropoutMasks: triple('recurrentDropoutMasks', req.recurrentDropoutMasks),
  };
}

export const mapWeights = (w: GruWeights, f: <T extends Floats>(a: T) => T): GruWeights => ({
  kernel: f(w.kernel),
  recurrentKernel: f(w.recurrentKernel),
  bias: w.bias && f(w.bias),
});

/** Every kind of argument at once: state, mask and both kinds of dropout masks. */
export const FULL = { mask: true, initialState: true, inputDropout: true, recurrentDropout: true } as const;
export const ARGS = ['x', 'initialState', 'mask', 'inputDropoutMasks', 'recurrentDropoutMasks'] as const;
