import { activationDef, gruActivationProblem } from '../activations.js';
import {
  GRU_BACKEND_SPEC_VERSION,
  type BackwardRequest,
  type ForwardRequest,
  type GruGradients,
  type GruBackend,
  type GruSpec,
  type GruWeights,
  type PreparedGru,
} from '../backend/types.js';
import { checkBackwardRequest, checkCount, checkForwardRequest, checkObject, checkSpec, checkWeights, supportsArgsProblem } from '../backend/check-request.js';
import { readBackwardRequest, readRequest, readSpec, readWeights } from '../backend/read-request.js';
import { valueError } from '../errors.js';
import { referenceBackward } from './backward.js';
import { referenceCallTooLarge } from './check.js';
import { referenceForward, type ReferenceSaved } from './forward.js';

function isReferenceSaved(saved: unknown): saved is ReferenceSaved {
  return typeof saved === 'object' && saved !== null && 'pre' in saved && 'states' in saved && 'request' in saved;
}

function checkActivations(spec: GruSpec): true | string {
  for (const [arg, id] of [
    ['activation', spec.activation],
    ['recurrentActivation', spec.recurrentActivation],
  ] as const) {
    const problem = gruActivationProblem(activationDef(id), spec.units);
    if (problem) return `${arg} ${problem}`;
  }
  return true;
}

const WHERE_FORWARD = 'reference forward';

class ReferencePrepared implements PreparedGru {
  /** The spec as read once at prepare: every call uses this copy, never the caller's object. */
  readonly spec: GruSpec;
  private weights: GruWeights;
  constructor(givenSpec: GruSpec, given: GruWeights) {
    const spec = readSpec(givenSpec);
    checkSpec(spec, 'reference prepare');
    const weights = readWeights(given);
    checkWeights(spec, weights, 'reference prepare');
    this.spec = spec;
    this.weights = weights;
  }

  forwardSync(request: ForwardRequest) {
    const req = readRequest(request);
    checkObject(req, 'request', '{x, batch, timesteps, ...}', WHERE_FORWARD);
    // Too large to allocate is said before any array is compared with sizes no array can have.
    const tooLarge = referenceCallTooLarge(this.spec, {
      batch: checkCount(req.batch, 'batch', WHERE_FORWARD),
      timesteps: checkCount(req.timesteps, 'timesteps', WHERE_FORWARD),
      returnSequences: req.returnSequences === true,
      backward: req.keepForBackward === true,
    });
    if (tooLarge) throw valueError(`The reference backend cannot run this call: ${tooLarge}.`);
    checkForwardRequest(this.spec, req, WHERE_FORWARD);
    return referenceForward(this.spec, this.weights, req);
  }

  /** Computes before returning: the request's arrays are read now, never after the caller moves on. */
  forward(request: ForwardRequest) {
    try {
      return Promise.resolve(this.forwardSync(request));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  backwardSync(saved: unknown, request: BackwardRequest): GruGradients {
    if (!isReferenceSaved(saved)) {
      throw valueError('The reference backend can only differentiate a forward call it ran with keepForBackward.');
    }
    const req = readBackwardRequest(request);
    checkBackwardRequest(this.spec, saved.request, req, 'reference backward');
    return referenceBackward(this.spec, saved, req);
  }

  async backward(saved: unknown, request: BackwardRequest) {
    return this.backwardSync(saved, request);
  }

  setWeights(given: GruWeights): void {
    const weights = readWeights(given);
    checkWeights(this.spec, weights, 'reference setWeights');
    this.weights = weights;
  }

  dispose(): void {}
}

/**
 * The executable spec: pure TypeScript, every configuration Keras can run, float32 and float64.
 * Always registered, at the lowest non-negative priority, so any faster backend that supports a
 * call wins and anything they decline still runs here.
 */
export const referenceBackend: GruBackend = {
  specVersion: GRU_BACKEND_SPEC_VERSION,
  name: 'reference',
  priority: 0,
  async load() {},
  isLoaded: () => true,
  supports: (givenSpec, call) => {
    const spec = readSpec(givenSpec);
    const problem = supportsArgsProblem(spec, call);
    if (problem) return problem;
    const activations = checkActivations(spec);
    if (activations !== true) return activations;
    return referenceCallTooLarge(spec, call) ?? true;
  },
  supportsBackward: (givenSpec) => {
    const spec = readSpec(givenSpec);
    return supportsArgsProblem(spec, {}) ?? checkActivations(spec);
  },
  async prepare(spec, weights) {
    return new ReferencePrepared(spec, weights);
  },
  prepareSync: (spec, weights) => new ReferencePrepared(spec, weights),
};
