import { activationDef } from '../activations.js';
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
import { valueError } from '../errors.js';
import { referenceBackward } from './backward.js';
import { referenceForward, type ReferenceSaved } from './forward.js';

function isReferenceSaved(saved: unknown): saved is ReferenceSaved {
  return typeof saved === 'object' && saved !== null && 'pre' in saved && 'states' in saved && 'request' in saved;
}

function checkActivations(spec: GruSpec): true | string {
  for (const [arg, id] of [['activation', spec.activation], ['recurrentActivation', spec.recurrentActivation]] as const) {
    const def = activationDef(id);
    if (def.unusable) return `${arg} ${def.unusable}`;
  }
  return true;
}

class ReferencePrepared implements PreparedGru {
  constructor(readonly spec: GruSpec, private weights: GruWeights) {}

  forwardSync(request: ForwardRequest) {
    return referenceForward(this.spec, this.weights, request);
  }

  async forward(request: ForwardRequest) {
    return this.forwardSync(request);
  }

  backwardSync(saved: unknown, request: BackwardRequest): GruGradients {
    if (!isReferenceSaved(saved)) {
      throw valueError('The reference backend can only differentiate a forward call it ran with keepForBackward.');
    }
    return referenceBackward(this.spec, saved, request);
  }

  async backward(saved: unknown, request: BackwardRequest) {
    return this.backwardSync(saved, request);
  }

  setWeights(weights: GruWeights): void {
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
  supports: (spec) => checkActivations(spec),
  supportsBackward: (spec) => checkActivations(spec),
  async prepare(spec, weights) {
    return new ReferencePrepared(spec, weights);
  },
  prepareSync: (spec, weights) => new ReferencePrepared(spec, weights),
};
