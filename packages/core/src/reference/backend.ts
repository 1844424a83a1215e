import { activationDef } from '../activations.js';
import {
  GRU_BACKEND_SPEC_VERSION,
  type ForwardRequest,
  type GruBackend,
  type GruSpec,
  type GruWeights,
  type PreparedGru,
} from '../backend/types.js';
import { referenceForward } from './forward.js';

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
  supportsBackward: () => 'the reference backward pass is not implemented yet',
  async prepare(spec, weights) {
    return new ReferencePrepared(spec, weights);
  },
  prepareSync: (spec, weights) => new ReferencePrepared(spec, weights),
};
