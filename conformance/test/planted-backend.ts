import {
  GRU_BACKEND_SPEC_VERSION,
  referenceBackend,
  readRequest,
  readWeights,
  referenceForward,
  unregisterBackend,
  type BoundForwardRequest,
  type ForwardRequest,
  type ForwardResult,
  type GruBackend,
  type GruCallInfo,
  type GruGradients,
  type GruSpec,
  type GruWeights,
  type PreparedGru,
} from '@gru/core';

/**
 * Issue 13: a planted-bug backend is the reference backend with one bug, for the kit's tests to
 * check that the kit fails it with a message that points at the bug.
 */
export interface Bugs {
  /** Changes what forward (async) returns. */
  forward?: (r: ForwardResult, req: ForwardRequest, spec: GruSpec) => unknown;
  /** Changes what forwardSync returns. */
  forwardSync?: (r: ForwardResult, req: ForwardRequest, spec: GruSpec) => unknown;
  ignoreSetWeights?: boolean;
  /** Returns the same output array from every call. */
  reuseOutput?: boolean;
  /** Writes into the request's x after computing. */
  writeInput?: boolean;
  declineAll?: boolean;
  /** Changes what backward returns (given the layer's spec and the last forward request). */
  backward?: (g: GruGradients, spec: GruSpec, lastRequest: ForwardRequest | undefined) => GruGradients;
  /**
   * Drops the state a stateful layer carries from one call into the next: a call whose initial
   * state is the final state the previous call moved to (from another state) starts from zeros
   * instead. Explicit and assigned initial states are kept, and so is a state that a call left
   * unchanged (fully masked rows hand it back), so only calls that continue a stateful sequence
   * are wrong.
   */
  dropCarriedState?: boolean;
  /** Reads the request twice: runs one reading to check it, returns what another reading gives. */
  readsTwice?: boolean;
  /** Keeps the caller's spec object and reads it again on every call (runs the reference on it). */
  readsSpecLater?: boolean;
  /** setWeights checks one reading of the weights and keeps another. */
  readsWeightsTwice?: boolean;
  /** backward checks one reading of its request and runs another. */
  readsBackwardTwice?: boolean;
  /** backward reads `inputGradients` again after reading the request once. */
  readsInputGradientsTwice?: boolean;
  /** bindForward reads the request once, but batch, timesteps and the flags again on every run(). */
  bindReadsCountsOnRun?: boolean;
  /** bindForward copies x and initialState when bound; every run() uses those copies. */
  bindCopiesInput?: boolean;
  /** bindForward keeps the weights current when bound; a later setWeights does not reach its runs. */
  bindStaleWeights?: boolean;
  /** forward keeps its request in one slot per layer and yields before computing on the slot. */
  concurrentScratch?: boolean;
  /** prepare writes into the caller's kernel (after copying it). */
  prepareWritesWeights?: boolean;
}

let names: string[] = [];

/** Unregisters every planted backend made since the last call (for afterEach). */
export function unregisterPlanted(): void {
  for (const n of names) unregisterBackend(n);
  names = [];
}

const sameValues = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);

export function planted(name: string, bugs: Bugs): GruBackend {
  names.push(name);
  // The previous call's initial state (null: zeros) and final state.
  let previous: { start: ArrayLike<number> | null; end: ArrayLike<number> } | undefined;
  const before = (req: ForwardRequest): ForwardRequest => {
    const carried = previous && req.initialState && sameValues(req.initialState, previous.end) && !(previous.start && sameValues(previous.start, previous.end));
    return bugs.dropCarriedState && carried ? { ...req, initialState: undefined } : req;
  };
  const wrap = (inner: PreparedGru, spec: GruSpec, weights: GruWeights): PreparedGru => {
    let reused: ForwardResult | undefined;
    let current = weights;
    let slot: ForwardRequest | undefined;
    let lastRequest: ForwardRequest | undefined;
    const after = (r: ForwardResult, req: ForwardRequest, hook?: Bugs['forward']): ForwardResult => {
      lastRequest = req;
      previous = { start: req.initialState ? req.initialState.slice() : null, end: r.lastState.slice() };
      let out = r;
      if (bugs.reuseOutput) {
        if (!reused) reused = { output: r.output.slice(), lastState: r.lastState.slice() };
        else if (reused.output.length === r.output.length) {
          reused.output.set(r.output);
          reused.lastState.set(r.lastState);
        }
        out = reused.output.length === r.output.length ? reused : r;
      }
      if (bugs.writeInput) req.x.fill(0);
      return (hook ? hook(out, req, spec) : out) as ForwardResult;
    };
    const run = (req: ForwardRequest): ForwardResult => {
      if (bugs.readsSpecLater) return referenceForward(spec, weights, req);
      if (bugs.readsTwice) inner.forwardSync!({ ...req });
      return inner.forwardSync!(before(bugs.readsTwice ? { ...req } : req));
    };
    return {
      spec,
      forward: async (req) => {
        if (!bugs.concurrentScratch) return after(run(req), req, bugs.forward);
        slot = req;
        await Promise.resolve();
        return after(run(slot), req, bugs.forward);
      },
      forwardSync: (req) => after(run(req), req, bugs.forwardSync),
      backward: async (saved, r) => {
        if (bugs.readsBackwardTwice) inner.backwardSync!(saved, { ...r });
        if (bugs.readsInputGradientsTwice) r = { ...r, inputGradients: r.inputGradients };
        const g = inner.backwardSync!(saved, bugs.readsBackwardTwice ? { ...r } : r);
        return bugs.backward ? bugs.backward(g, spec, lastRequest) : g;
      },
      setWeights: (w) => {
        // One reading, for the copy bindStaleWeights keeps (a second read is another bug).
        if (bugs.bindStaleWeights) w = readWeights(w);
        if (bugs.readsWeightsTwice) inner.setWeights({ ...w });
        if (!bugs.ignoreSetWeights) inner.setWeights(bugs.readsWeightsTwice ? { ...w } : w);
        current = { kernel: w.kernel.slice(), recurrentKernel: w.recurrentKernel.slice(), bias: w.bias ? w.bias.slice() : null };
      },
      // Read once at bind (as a backend must); the planted bug reads counts and flags again on run().
      bindForward: (given: BoundForwardRequest) => {
        const r = readRequest(given, true) as BoundForwardRequest;
        const { output, lastState, ...call } = r;
        if (bugs.bindCopiesInput) {
          // Copied by index (slice() is a subclass's to answer, contract:foreign-arrays checks that).
          const copy = (a: ArrayLike<number>) => {
            const to = spec.dtype === 'float64' ? new Float64Array(a.length) : new Float32Array(a.length);
            for (let i = 0; i < a.length; i++) to[i] = a[i];
            return to;
          };
          call.x = copy(call.x);
          if (call.initialState) call.initialState = copy(call.initialState);
        }
        const runner = bugs.bindStaleWeights ? referenceBackend.prepareSync!(spec, current) : inner;
        return {
          run: () => {
            const again = bugs.bindReadsCountsOnRun
              ? { batch: given.batch, timesteps: given.timesteps, goBackwards: given.goBackwards, returnSequences: given.returnSequences }
              : {};
            const res = runner.forwardSync!({ ...call, ...again });
            output.set(res.output.subarray(0, output.length));
            lastState.set(res.lastState.subarray(0, lastState.length));
          },
          dispose: () => {},
        };
      },
      dispose: () => inner.dispose(),
    };
  };
  return {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority: -1,
    load: async () => {},
    isLoaded: () => true,
    supports: (spec, call) => (bugs.declineAll ? 'the planted backend declines every call' : referenceBackend.supports(spec, call)),
    supportsBackward: () => true,
    prepare: async (spec, weights) => {
      if (!bugs.prepareWritesWeights) return wrap(referenceBackend.prepareSync!(spec, weights), spec, weights);
      // The reference keeps the arrays it is given: it computes on a copy, so only the caller's change.
      const inner = referenceBackend.prepareSync!(spec, { ...weights, kernel: weights.kernel.slice() });
      weights.kernel[1] += 1;
      return wrap(inner, spec, weights);
    },
    prepareSync: (spec, weights) => wrap(referenceBackend.prepareSync!(spec, weights), spec, weights),
  };
}

export interface Float32OnlyOverrides {
  /** A reason to decline a call before the float32-only rule (undefined: go on to it). */
  declines?: (spec: GruSpec, call: GruCallInfo) => string | undefined;
  /**
   * Methods that replace those of each layer `prepare` makes (`{ ...p, spec: p.spec, ...layer(p) }`);
   * prepareSync is then left out, so that every layer the kit gets has them.
   */
  layer?: (p: PreparedGru) => Partial<PreparedGru>;
}

/**
 * `inner` computing float32 only: supports() declines float64 ('planted: float32 only'), after
 * `declines`; with `layer`, its layers' methods replaced and no prepareSync.
 */
export function float32Only(inner: GruBackend, { declines, layer }: Float32OnlyOverrides = {}): GruBackend {
  const backend: GruBackend = {
    ...inner,
    supports: (spec, call) => declines?.(spec, call) ?? (spec.dtype === 'float64' ? 'planted: float32 only' : inner.supports(spec, call)),
  };
  if (!layer) return backend;
  return {
    ...backend,
    prepare: async (spec, weights) => {
      const p = await inner.prepare(spec, weights);
      return { ...p, spec: p.spec, ...layer(p) };
    },
    prepareSync: undefined,
  };
}
