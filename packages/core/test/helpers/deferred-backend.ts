import {
  GRU_BACKEND_SPEC_VERSION,
  referenceBackward,
  referenceForward,
  registerBackend,
  unregisterBackend,
  type ForwardRequest,
  type ForwardResult,
  type GruBackend,
  type GruSpec,
  type GruWeights,
  type PreparedGru,
} from '../../src/index.js';

/** What the double saw, for assertions. */
export interface DeferredLog {
  prepares: number;
  setWeights: number;
  disposes: number;
}

/**
 * A backend that, like a GPU or a thread pool, answers later: each forward() waits until the test
 * calls `release()`, and only then reads the request and its weights. A core that hands it
 * arrays the caller may still change (or weights a later setWeights replaces) gets caught.
 */
export interface DeferredBackend extends GruBackend {
  log: DeferredLog;
  /** Forward calls waiting for release. */
  readonly waiting: number;
  /** Lets every waiting forward/backward call run (in the order they were made). */
  release(): void;
  /** Resolves once `n` calls are waiting (deterministic: no sleeps). */
  whenWaiting(n: number): Promise<void>;
  unregister(): void;
}

export function registerDeferredBackend(name = 'deferred'): DeferredBackend {
  const gates: (() => void)[] = [];
  const watchers: { n: number; resolve: () => void }[] = [];
  const log: DeferredLog = { prepares: 0, setWeights: 0, disposes: 0 };
  const wait = () =>
    new Promise<void>((resolve) => {
      gates.push(resolve);
      for (const w of [...watchers]) {
        if (gates.length >= w.n) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve();
        }
      }
    });

  class Prepared implements PreparedGru {
    private disposed = false;
    constructor(
      readonly spec: GruSpec,
      private weights: GruWeights,
    ) {}
    async forward(request: ForwardRequest): Promise<ForwardResult> {
      await wait();
      if (this.disposed) throw new Error('forward on a disposed prepared layer');
      return referenceForward(this.spec, this.weights, request);
    }
    async backward(saved: unknown, request: { dOutput: Float32Array | Float64Array; dLastState?: Float32Array | Float64Array }) {
      await wait();
      if (this.disposed) throw new Error('backward on a disposed prepared layer');
      return referenceBackward(this.spec, saved as never, request);
    }
    setWeights(weights: GruWeights): void {
      log.setWeights++;
      this.weights = weights;
    }
    dispose(): void {
      if (!this.disposed) log.disposes++;
      this.disposed = true;
    }
  }

  const backend: DeferredBackend = {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority: -1,
    log,
    get waiting() {
      return gates.length;
    },
    async load() {},
    isLoaded: () => true,
    supports: () => true,
    supportsBackward: () => true,
    async prepare(spec, weights) {
      log.prepares++;
      return new Prepared(spec, weights);
    },
    release() {
      for (const open of gates.splice(0)) open();
    },
    whenWaiting(n) {
      if (gates.length >= n) return Promise.resolve();
      return new Promise((resolve) => watchers.push({ n, resolve }));
    },
    unregister() {
      unregisterBackend(name);
    },
  };
  registerBackend(backend);
  return backend;
}
