import {
  GRU_BACKEND_SPEC_VERSION,
  referenceBackend,
  type BackwardRequest,
  type ForwardResult,
  type GruBackend,
  type GruGradients,
  type PreparedGru,
} from '../../src/index.js';

export interface ReferenceHooks {
  /** What the backend answers a forward call with, given the reference's result. */
  forward?: (result: ForwardResult) => unknown;
  /** What the backend answers a backward call with, given the reference's gradients and the request. */
  backward?: (gradients: GruGradients, request: BackwardRequest) => unknown;
}

/**
 * The reference backend under another name, its answers passed through `hooks`: a backend author's
 * bug planted in an otherwise right backend, or a recorder of the requests core sends.
 */
export function wrappedReference(name: string, hooks: ReferenceHooks = {}): GruBackend {
  const forward = hooks.forward ?? ((r) => r);
  const backward = hooks.backward ?? ((g) => g);
  const wrap = (p: PreparedGru): PreparedGru => ({
    spec: p.spec,
    setWeights: (w) => p.setWeights(w),
    dispose: () => p.dispose(),
    forward: async (r) => forward(p.forwardSync!(r)) as ForwardResult,
    forwardSync: (r) => forward(p.forwardSync!(r)) as ForwardResult,
    backward: async (saved, r) => backward(p.backwardSync!(saved, r), r) as GruGradients,
  });
  return {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority: -1,
    load: async () => {},
    isLoaded: () => true,
    supports: (spec, call) => referenceBackend.supports(spec, call),
    supportsBackward: () => true,
    prepare: async (spec, weights) => wrap(referenceBackend.prepareSync!(spec, weights)),
    prepareSync: (spec, weights) => wrap(referenceBackend.prepareSync!(spec, weights)),
  };
}
