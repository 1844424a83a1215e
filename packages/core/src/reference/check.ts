import type { BackwardRequest, ForwardRequest, GruCallInfo, GruSpec, GruWeights } from '../backend/types.js';
import { valueError } from '../errors.js';
import { arrayTooLarge } from '../limits.js';

/**
 * Why the reference backend cannot allocate what a call needs (its output, state and, when
 * gradients are kept, its float64 workspace), or undefined. Checked before anything is allocated.
 */
export function referenceCallTooLarge(spec: GruSpec, call: Pick<GruCallInfo, 'batch' | 'timesteps' | 'returnSequences' | 'backward'>): string | undefined {
  const { batch: B, timesteps: T } = call;
  const H = spec.units;
  const bytesPer = spec.dtype === 'float64' ? 8 : 4;
  const sizes = () => `batch ${B}, timesteps ${T}, units ${H}`;
  return (
    arrayTooLarge(() => `the call's output (${sizes()})`, call.returnSequences ? B * T * H : B * H, bytesPer) ??
    arrayTooLarge(() => `the call's state (${sizes()})`, B * H, bytesPer) ??
    (call.backward ? arrayTooLarge(() => `the gradient workspace (${sizes()}: steps x batch x 3 x units)`, T * B * 3 * H, 8) : undefined) ??
    (call.backward ? arrayTooLarge(() => `the state history (${sizes()}: (steps + 1) x batch x units)`, (T + 1) * B * H, 8) : undefined)
  );
}

function isFloatArray(value: unknown, spec: GruSpec): boolean {
  return spec.dtype === 'float64' ? value instanceof Float64Array : value instanceof Float32Array;
}

function checkArray(value: unknown, name: string, length: number, spec: GruSpec, kind: 'float' | 'mask' = 'float'): void {
  const ok = kind === 'mask' ? value instanceof Uint8Array : isFloatArray(value, spec);
  const type = kind === 'mask' ? 'Uint8Array' : spec.dtype === 'float64' ? 'Float64Array' : 'Float32Array';
  if (!ok) throw valueError(`The reference backend expects \`${name}\` to be a ${type}, received ${describe(value)}.`);
  if ((value as ArrayLike<number>).length !== length) {
    throw valueError(`The reference backend expects \`${name}\` to hold ${length} values, received ${(value as ArrayLike<number>).length}.`);
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return typeof value === 'object' ? ((value as object).constructor?.name ?? 'object') : typeof value;
}

function checkCount(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw valueError(`The reference backend expects \`${name}\` to be a non-negative integer, received ${String(value)}.`);
  }
  return value;
}

/** Weights must match the spec: a short array would read as undefined, and compute NaN silently. */
export function checkReferenceWeights(spec: GruSpec, weights: GruWeights): void {
  if (typeof weights !== 'object' || weights === null)
    throw valueError(`The reference backend expects weights {kernel, recurrentKernel, bias}, received ${describe(weights)}.`);
  const G = 3 * spec.units;
  checkArray(weights.kernel, 'kernel', spec.inputDim * G, spec);
  checkArray(weights.recurrentKernel, 'recurrentKernel', spec.units * G, spec);
  if (spec.useBias) checkArray(weights.bias, 'bias', spec.resetAfter ? 2 * G : G, spec);
}

/**
 * Checks a request against the spec (a third party may call a prepared layer directly), and
 * refuses one whose arrays cannot be allocated, before computing anything.
 */
export function checkReferenceRequest(spec: GruSpec, req: ForwardRequest): void {
  if (typeof req !== 'object' || req === null) throw valueError(`The reference backend expects a forward request object, received ${describe(req)}.`);
  const B = checkCount(req.batch, 'batch');
  const T = checkCount(req.timesteps, 'timesteps');
  const H = spec.units;
  const tooLarge = referenceCallTooLarge(spec, {
    batch: B,
    timesteps: T,
    returnSequences: req.returnSequences === true,
    backward: req.keepForBackward === true,
  });
  if (tooLarge) throw valueError(`The reference backend cannot run this call: ${tooLarge}.`);
  checkArray(req.x, 'x', B * T * spec.inputDim, spec);
  if (req.initialState !== undefined) checkArray(req.initialState, 'initialState', B * H, spec);
  if (req.mask !== undefined) checkArray(req.mask, 'mask', B * T, spec, 'mask');
  for (const [name, masks, cols] of [
    ['inputDropoutMasks', req.inputDropoutMasks, spec.inputDim],
    ['recurrentDropoutMasks', req.recurrentDropoutMasks, H],
  ] as const) {
    if (masks === undefined) continue;
    if (!Array.isArray(masks) || masks.length !== 3)
      throw valueError(`The reference backend expects \`${name}\` to be 3 arrays (z, r, h), received ${describe(masks)}.`);
    masks.forEach((m, i) => checkArray(m, `${name}[${i}]`, B * cols, spec));
  }
}

/**
 * Checks a backward request against the forward call it differentiates (a short or non-numeric
 * gradient would read as undefined and make every gradient NaN). Either float type is accepted:
 * the reference backend computes gradients in float64 whatever the layer's dtype.
 */
export function checkReferenceBackwardRequest(spec: GruSpec, forward: ForwardRequest, req: BackwardRequest): void {
  if (typeof req !== 'object' || req === null)
    throw valueError(`The reference backend expects a backward request object {dOutput, dLastState?}, received ${describe(req)}.`);
  const { batch: B, timesteps: T } = forward;
  const H = spec.units;
  const gradient = (name: string, value: unknown, length: number, shape: string) => {
    if (!(value instanceof Float32Array || value instanceof Float64Array))
      throw valueError(
        `The reference backend expects \`${name}\` to be a Float32Array or Float64Array of ${length} values ${shape}, received ${describe(value)}.`,
      );
    if (value.length !== length) throw valueError(`The reference backend expects \`${name}\` to hold ${length} values ${shape}, received ${value.length}.`);
  };
  if (forward.returnSequences) gradient('dOutput', req.dOutput, B * T * H, `([batch, timesteps, units] = [${B}, ${T}, ${H}])`);
  else gradient('dOutput', req.dOutput, B * H, `([batch, units] = [${B}, ${H}])`);
  // null is no gradient, as undefined is (and as every backend reads it).
  if (req.dLastState != null) gradient('dLastState', req.dLastState, B * H, `([batch, units] = [${B}, ${H}])`);
  if (req.inputGradients !== undefined && typeof req.inputGradients !== 'boolean')
    throw valueError(`The reference backend expects \`inputGradients\` to be a boolean or undefined, received ${describe(req.inputGradients)}.`);
}
