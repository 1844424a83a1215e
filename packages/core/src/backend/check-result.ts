import { GruError } from '../errors.js';
import type { DType, FloatArray } from '../tensor.js';
import { typedArrayLength, typedArrayName } from './check-request.js';
import { asFloats } from './own-copy.js';
import type { ForwardRequest, GruGradients, GruSpec } from './types.js';

/**
 * What a backend hands back is checked before core reads it: a backend's bug (a Float64Array for
 * a float32 layer, a plain Array, a short buffer, a missing field) must surface as an error that
 * names the backend and the field, never as a silently converted or mis-shaped result.
 */

function describe(value: unknown): string {
  if (value === undefined) return 'undefined (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a plain Array of ${value.length}`;
  if (ArrayBuffer.isView(value)) {
    const name = Object.prototype.toString.call(value).slice(8, -1);
    return `a ${name} of ${(value as unknown as ArrayLike<number>).length}`;
  }
  return `a ${typeof value}`;
}

function arrayType(dtype: DType): typeof Float32Array | typeof Float64Array {
  return dtype === 'float64' ? Float64Array : Float32Array;
}

/** Throws naming `what.field` unless `value` is a `dtype` array of `length` values. */
export function checkBackendArray(backend: string, what: string, field: string, value: unknown, dtype: DType, length: number, shape: string): FloatArray {
  const Type = arrayType(dtype);
  // The engine's tag, not instanceof: a Float32Array from another realm (a worker, a vm context)
  // is genuine but fails instanceof. It is copied into this realm's type before core reads it.
  if (typedArrayName(value) !== Type.name || typedArrayLength(value as ArrayBufferView) !== length) {
    throw new GruError(
      'ValueError',
      `Backend '${backend}' returned an invalid ${what}: \`${field}\` must be a ${Type.name} of ${length} values (${shape}) for a ${dtype} layer; received ${describe(value)}.`,
    );
  }
  return asFloats(value as ArrayBufferView, dtype);
}

/** Checks a forward result against the request it answers. */
export function checkForwardResult(backend: string, spec: GruSpec, request: ForwardRequest, result: unknown): { output: FloatArray; lastState: FloatArray } {
  const { batch: B, timesteps: T } = request;
  const H = spec.units;
  if (typeof result !== 'object' || result === null) {
    throw new GruError('ValueError', `Backend '${backend}' returned ${describe(result)} from forward; expected an object with \`output\` and \`lastState\`.`);
  }
  const r = result as Record<string, unknown>;
  const output = request.returnSequences
    ? checkBackendArray(backend, 'forward result', 'output', r.output, spec.dtype, B * T * H, `[batch ${B}, timesteps ${T}, units ${H}]`)
    : checkBackendArray(backend, 'forward result', 'output', r.output, spec.dtype, B * H, `[batch ${B}, units ${H}]`);
  const lastState = checkBackendArray(backend, 'forward result', 'lastState', r.lastState, spec.dtype, B * H, `[batch ${B}, units ${H}]`);
  return { output, lastState };
}

/**
 * Checks gradients against the forward request they differentiate. With `inputGradients` false `dx` may be empty (the backend skipped
 * it) or full (it computed it anyway); either way it is not the caller's.
 */
export function checkGradients(
  backend: string,
  spec: GruSpec,
  request: Pick<ForwardRequest, 'batch' | 'timesteps'>,
  gradients: unknown,
  inputGradients = true,
): GruGradients {
  const { batch: B, timesteps: T } = request;
  const H = spec.units;
  const D = spec.inputDim;
  if (typeof gradients !== 'object' || gradients === null) {
    throw new GruError('ValueError', `Backend '${backend}' returned ${describe(gradients)} from backward; expected an object of gradients.`);
  }
  const g = gradients as Record<string, unknown>;
  const check = (field: string, length: number, shape: string) => checkBackendArray(backend, 'backward result', field, g[field], spec.dtype, length, shape);
  const biasRows = spec.resetAfter ? 2 : 1;
  return {
    dx: check('dx', !inputGradients && isEmptyArray(g.dx) ? 0 : B * T * D, `[batch ${B}, timesteps ${T}, inputDim ${D}]`),
    dInitialState: check('dInitialState', B * H, `[batch ${B}, units ${H}]`),
    dKernel: check('dKernel', D * 3 * H, `[inputDim ${D}, 3 * units ${3 * H}]`),
    dRecurrentKernel: check('dRecurrentKernel', H * 3 * H, `[units ${H}, 3 * units ${3 * H}]`),
    dBias: spec.useBias ? check('dBias', biasRows * 3 * H, spec.resetAfter ? `[2, 3 * units ${3 * H}]` : `[3 * units ${3 * H}]`) : null,
  };
}

function isEmptyArray(v: unknown): boolean {
  return ArrayBuffer.isView(v) && (v as Float32Array).length === 0;
}
