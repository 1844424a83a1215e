import type { BackwardRequest, BoundForwardRequest, ForwardRequest, GruSpec, GruWeights } from './types.js';

/**
 * A backend reads a request once, then checks and uses only the copy.
 *
 * A request may come from a third party, and any of its fields may be a getter (or a proxy) that
 * answers differently each time it is read. A backend that checks `req.batch` and then reads
 * `req.batch` again to size its buffers can be handed a checked batch of 2 and a used batch of
 * 300: it then writes past what it allocated, sizes device buffers from unchecked values, or
 * fails half-way with an engine error. Reading every field exactly once into a plain object, and
 * working only from that object afterwards, closes this whole class of bug.
 */

/**
 * A list of three masks copied element by element (a getter on an element runs once; no species
 * or iterator is consulted). A list of any other length is not walked (a length of 5e7 would take
 * seconds before the check refuses it): it becomes an empty list of that length (none, where the
 * length is no array length at all), for the check to refuse with the count.
 */
function copyList(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const n = value.length;
  if (n !== 3) return Number.isInteger(n) && n >= 0 && n < 2 ** 32 ? new Array<unknown>(n) : [];
  return [value[0], value[1], value[2]];
}

/**
 * The forward request's fields, each read exactly once, into a plain object (the arrays
 * themselves are not copied; a list of dropout masks is, element by element). With `bound`,
 * `output` and `lastState` (a BoundForwardRequest's) are read too. A non-object is returned as
 * is, for the backend's own check to refuse with its message.
 *
 * Call it first, before any check, and let nothing after it look at the original request.
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

/** As readRequest, for a backward request: `dOutput`, `dLastState` and `inputGradients`, each read once. */
export function readBackwardRequest(req: BackwardRequest): BackwardRequest {
  if (typeof req !== 'object' || req === null) return req;
  return { dOutput: req.dOutput, dLastState: req.dLastState, inputGradients: req.inputGradients };
}

/**
 * As readRequest, for a layer's weights (prepare, setWeights): `kernel`, `recurrentKernel` and
 * `bias`, each read once. Checking one reading and packing another would pack arrays no check saw.
 */
export function readWeights(weights: GruWeights): GruWeights {
  if (typeof weights !== 'object' || weights === null) return weights;
  return { kernel: weights.kernel, recurrentKernel: weights.recurrentKernel, bias: weights.bias };
}

/**
 * As readRequest, for the layer spec a backend is prepared with: `units`, `inputDim`,
 * `activation`, `recurrentActivation`, `useBias`, `resetAfter` and `dtype`, each read once. Call
 * it first in `prepare`, check that copy, and keep it as the prepared layer's `spec`: every later
 * call sizes its buffers from it, so a getter answering other units later cannot make a call lay
 * out buffers for another shape than the weights were packed for. A non-object is returned as is.
 */
export function readSpec(spec: GruSpec): GruSpec {
  if (typeof spec !== 'object' || spec === null) return spec;
  return {
    units: spec.units,
    inputDim: spec.inputDim,
    activation: spec.activation,
    recurrentActivation: spec.recurrentActivation,
    useBias: spec.useBias,
    resetAfter: spec.resetAfter,
    dtype: spec.dtype,
  };
}
