import { classifyMask, type ForwardRequest, type GruBackend, type GruCallInfo, type GruSpec, type PreparedGru } from '@gru/core';
import { makeCase, type CaseOptions, type RandomCase } from './make-case.js';

/** The `supports()` description of a raw backend request, as the layer would build it. */
export function callInfoOf(request: ForwardRequest, options: { training?: boolean; backward?: boolean } = {}): GruCallInfo {
  const training = options.training ?? (request.inputDropoutMasks !== undefined || request.recurrentDropoutMasks !== undefined);
  return {
    batch: request.batch,
    timesteps: request.timesteps,
    mask: request.mask ? classifyMask(request.mask, request.batch, request.timesteps) : 'none',
    initialState: request.initialState !== undefined,
    goBackwards: request.goBackwards,
    returnSequences: request.returnSequences,
    inputDropoutPerGate: request.inputDropoutMasks !== undefined,
    recurrentDropout: request.recurrentDropoutMasks !== undefined,
    recurrentDropoutRate: request.recurrentDropoutMasks ? 0.25 : 0,
    training,
    backward: options.backward ?? request.keepForBackward === true,
    unroll: false,
  };
}

/**
 * Whether the kit may ask `prepared` for gradients of `request`: true, or why not (the words a
 * check names in its detail, supportsBackward()'s reason too where the layer has no backward
 * method); undefined where the layer has no backward method and the backend has no
 * supportsBackward() (nothing to check or name). supports() is asked about the call a user trains
 * with: `training: true` (the layer's training mode; keepForBackward defaults to it) and
 * `backward: true`.
 */
export function backwardGate(backend: GruBackend, prepared: PreparedGru, spec: GruSpec, request: ForwardRequest): true | string | undefined {
  const trains = backend.supportsBackward ? backend.supportsBackward(spec) : undefined;
  if (!prepared.backward) {
    if (trains === true) return 'the prepared layer has no backward method, though supportsBackward() says true';
    // The backend says why it does not train: named, as for a layer that has backward.
    return trains === undefined ? undefined : `supportsBackward(): ${trains}`;
  }
  if (trains === undefined) return 'the backend has no supportsBackward()';
  if (trains !== true) return `supportsBackward(): ${trains}`;
  const call = backend.supports(spec, callInfoOf(request, { backward: true, training: true }));
  return call === true ? true : `supports(): ${call}`;
}

/** The first of `candidates` whose call supports() accepts, or supports()'s reason for each (in order). */
export function firstAccepted(backend: GruBackend, candidates: readonly CaseOptions[]): { c: RandomCase; options: CaseOptions } | string[] {
  const reasons: string[] = [];
  for (const options of candidates) {
    const c = makeCase(options);
    const ok = backend.supports(c.spec, callInfoOf(c.request));
    if (ok === true) return { c, options };
    reasons.push(ok);
  }
  return reasons;
}
