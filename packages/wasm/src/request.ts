import type { BoundForwardRequest, ForwardRequest } from '@gru/core';

/** An array of masks copied element by element (a getter on an element runs once; no species or iterator is consulted). */
function copyList(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const copy = new Array<unknown>(value.length);
  for (let i = 0; i < copy.length; i++) copy[i] = value[i];
  return copy;
}

/**
 * The request's fields, each read exactly once into a plain object. Everything after the checks
 * (sizes, copies into wasm memory, the kernel's arguments) works from this, so a getter that
 * answers differently on a later read cannot make a copy or a kernel call outgrow what was
 * checked and allocated. A non-object is returned as is, for the caller's check to refuse.
 */
export function readRequest<R extends ForwardRequest>(req: R, bound = false): R {
  if (typeof req !== 'object' || req === null) return req;
  const r: ForwardRequest & Partial<BoundForwardRequest> = {
    x: req.x,
    batch: req.batch,
    timesteps: req.timesteps,
    initialState: req.initialState,
    mask: req.mask,
    goBackwards: req.goBackwards,
    returnSequences: req.returnSequences,
    inputDropoutMasks: copyList(req.inputDropoutMasks) as ForwardRequest['inputDropoutMasks'],
    recurrentDropoutMasks: copyList(req.recurrentDropoutMasks) as ForwardRequest['recurrentDropoutMasks'],
    keepForBackward: req.keepForBackward,
  };
  if (bound) {
    const b = req as unknown as BoundForwardRequest;
    r.output = b.output;
    r.lastState = b.lastState;
  }
  return r as R;
}
