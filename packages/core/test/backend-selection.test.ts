import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  backendLoadFailures,
  clearSession,
  describeChoice,
  forgetBackendLoad,
  getBackend,
  GRU,
  GRU_BACKEND_SPEC_VERSION,
  listBackends,
  loadBackend,
  referenceBackend,
  registerBackend,
  selectBackend,
  unregisterBackend,
  UnsupportedCallError,
  type ForwardRequest,
  type GruBackend,
  type GruCallInfo,
  type GruSpec,
  type PreparedGru,
  plainCallInfo,
} from '../src/index.js';
import { expectGruError } from './helpers/errors.js';
import { plainSpec } from './helpers/plain-call.js';

interface FakeLog {
  loads: number;
  prepares: number;
  prepareSyncs: number;
  setWeights: number;
  disposes: number;
  backendDisposes: number;
  requests: ForwardRequest[];
  specs: GruSpec[];
}

type Fake = GruBackend & { log: FakeLog; loaded: boolean };

const registered: string[] = [];

/** A backend that runs the reference math, counts what core asks of it, and can decline or fail. */
function fake(
  name: string,
  o: {
    priority?: number;
    cudnn?: boolean;
    supports?: (spec: GruSpec, call: GruCallInfo) => true | string;
    loadError?: string;
    /** Read at each load(), so a test can make a later load fail. */
    loadErrors?: { next?: string };
    loaded?: boolean;
    sync?: boolean;
    register?: boolean;
  } = {},
): Fake {
  const log: FakeLog = { loads: 0, prepares: 0, prepareSyncs: 0, setWeights: 0, disposes: 0, backendDisposes: 0, requests: [], specs: [] };
  const wrap = (prepared: PreparedGru): PreparedGru => ({
    spec: prepared.spec,
    forward: async (req) => {
      log.requests.push(req);
      return prepared.forward(req);
    },
    forwardSync: (req) => {
      log.requests.push(req);
      return (prepared.forwardSync as NonNullable<PreparedGru['forwardSync']>)(req);
    },
    setWeights: (w) => {
      log.setWeights++;
      return prepared.setWeights(w);
    },
    dispose: () => {
      log.disposes++;
    },
  });
  const b: Fake = {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority: o.priority ?? 10,
    cudnn: o.cudnn,
    log,
    loaded: o.loaded ?? true,
    async load() {
      log.loads++;
      if (o.loadError) throw new Error(o.loadError);
      if (o.loadErrors?.next) throw new Error(o.loadErrors.next);
      b.loaded = true;
    },
    isLoaded: () => b.loaded,
    supports: (spec, call) => (o.supports ? o.supports(spec, call) : true),
    async prepare(spec, w) {
      log.prepares++;
      log.specs.push(spec);
      return wrap(referenceBackend.prepareSync?.(spec, w) as PreparedGru);
    },
    dispose: () => {
      log.backendDisposes++;
    },
  };
  if (o.sync ?? true) {
    b.prepareSync = (spec, w) => {
      log.prepareSyncs++;
      log.specs.push(spec);
      return wrap(referenceBackend.prepareSync?.(spec, w) as PreparedGru);
    };
  }
  if (o.register ?? true) {
    registerBackend(b);
    registered.push(name);
  }
  return b;
}

const X = { shape: [2, 3, 2], data: [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1.0, 0.11, -0.12] };

function layer(options: Record<string, unknown> = {}): GRU {
  const l = new GRU({
    units: 3,
    kernelInitializer: { class_name: 'GlorotUniform', config: { seed: 1 } },
    recurrentInitializer: { class_name: 'Orthogonal', config: { seed: 2 } },
    ...options,
  });
  l.build([null, null, 2]);
  return l;
}

const SPEC = plainSpec(3, 2);
const CALL = plainCallInfo(2, 3);

beforeEach(() => clearSession());
afterEach(() => {
  while (registered.length) unregisterBackend(registered.pop() as string);
  expect(listBackends().map((b) => b.name)).toEqual(['reference']);
});

describe('registry', () => {
  it('the reference backend is always registered, at priority 0, loaded and synchronous', () => {
    expect(getBackend('reference')).toBe(referenceBackend);
    expect(referenceBackend.priority).toBe(0);
    expect(referenceBackend.isLoaded()).toBe(true);
    expect(typeof referenceBackend.prepareSync).toBe('function');
    expect(referenceBackend.specVersion).toBe(GRU_BACKEND_SPEC_VERSION);
  });

  it('registerBackend rejects a wrong specVersion, naming both versions', () => {
    const b = fake('v0', { register: false });
    expectGruError(
      // A backend built against another @gru/core (a type error too: specVersion is typed as the constant).
      () => registerBackend({ ...b, specVersion: GRU_BACKEND_SPEC_VERSION + 1 } as unknown as GruBackend),
      `backend 'v0' implements interface version ${GRU_BACKEND_SPEC_VERSION + 1}, but this @gru/core implements version ${GRU_BACKEND_SPEC_VERSION}`,
    );
    expect(getBackend('v0')).toBeUndefined();
  });

  it('registerBackend rejects missing methods, names and priorities', () => {
    const b = fake('incomplete', { register: false });
    for (const method of ['load', 'isLoaded', 'supports', 'prepare']) {
      expectGruError(() => registerBackend({ ...b, [method]: undefined } as unknown as GruBackend), `backend 'incomplete' has no \`${method}()\` method`);
    }
    expectGruError(() => registerBackend({ ...b, name: '' }), 'non-empty `name`');
    expectGruError(() => registerBackend(null as unknown as GruBackend), 'non-empty `name`');
    expectGruError(() => registerBackend({ ...b, priority: NaN }), "backend 'incomplete' needs a numeric `priority`");
    expectGruError(() => registerBackend({ ...b, priority: '1' as unknown as number }), 'numeric `priority`');
    expect(getBackend('incomplete')).toBeUndefined();
  });

  it('listBackends is by priority, highest first; re-registering a name replaces it', () => {
    fake('low', { priority: 1 });
    fake('high', { priority: 50 });
    fake('negative', { priority: -5 });
    expect(listBackends().map((b) => b.name)).toEqual(['high', 'low', 'reference', 'negative']);
    const replacement = fake('low', { priority: 100 });
    registered.pop();
    expect(getBackend('low')).toBe(replacement);
    expect(listBackends().map((b) => b.name)).toEqual(['low', 'high', 'reference', 'negative']);
  });

  it('unregisterBackend disposes the backend and reports whether it was there', () => {
    const b = fake('gone');
    registered.pop();
    expect(unregisterBackend('gone')).toBe(true);
    expect(b.log.backendDisposes).toBe(1);
    expect(getBackend('gone')).toBeUndefined();
    expect(unregisterBackend('gone')).toBe(false);
  });

  it('a backend unregistered and registered again is loaded again, and layers prepare on it anew', async () => {
    const b = fake('again', { priority: 50, loaded: false });
    // Like wasm's: dispose() unloads it, and what was prepared before cannot run any more.
    b.dispose = () => {
      b.log.backendDisposes++;
      b.loaded = false;
    };
    const l = layer();
    const first = await l.forward(X);
    expect(first.backend).toBe('again');
    expect([b.log.loads, b.log.prepares]).toEqual([1, 1]);

    unregisterBackend('again');
    registerBackend(b);
    // Before: the load record survived (no load, so 'not loaded'), and the layer kept its prepared copy.
    const again = await l.forward(X);
    expect(again.backend).toBe('again');
    expect(Array.from(again.output.data)).toEqual(Array.from(first.output.data));
    expect([b.log.loads, b.log.prepares, b.log.disposes]).toEqual([2, 2, 1]);
    expect((await layer().forward(X)).backend).toBe('again');
    expect(b.log.loads).toBe(2);

    // The synchronous path too: a backend that stays loaded is prepared again after it was unregistered.
    const s = fake('stays', { priority: 60 });
    const ls = layer();
    expect(ls.forwardSync(X).backend).toBe('stays');
    ls.forwardSync(X);
    expect(s.log.prepareSyncs).toBe(1);
    unregisterBackend('stays');
    registerBackend(s);
    expect(ls.forwardSync(X).backend).toBe('stays');
    expect([s.log.prepareSyncs, s.log.disposes]).toEqual([2, 1]);
  });
});

describe('selection by priority and support', () => {
  it('a higher-priority backend that supports the call is chosen; the others are reported', () => {
    fake('fast');
    const r = layer().forwardSync(X);
    expect(r.backend).toBe('fast');
    expect(r.skipped).toEqual([{ name: 'reference', reason: "'fast' has a higher priority" }]);
  });

  it('its result equals the reference result (the fake runs the reference math)', () => {
    const ref = layer().forwardSync(X).output.data;
    clearSession();
    fake('fast');
    expect(Array.from(layer().forwardSync(X).output.data)).toEqual(Array.from(ref));
  });

  it('a backend that declines is skipped with its own reason; the next one runs', () => {
    fake('picky', { supports: (spec) => (spec.activation === 'tanh' ? "activation 'tanh' is not implemented by the picky backend" : true) });
    const r = layer().forwardSync(X);
    expect(r.backend).toBe('reference');
    expect(r.skipped).toEqual([{ name: 'picky', reason: "activation 'tanh' is not implemented by the picky backend" }]);
    expect(layer({ activation: 'relu' }).forwardSync(X).backend).toBe('picky');
  });

  it("plainCallInfo(batch, timesteps) is what a default layer's plain call asks supports() about", () => {
    const seen: GruCallInfo[] = [];
    fake('spy', { supports: (_s, call) => (seen.push(call), 'just looking') });
    layer().forwardSync(X);
    expect(seen).toEqual([plainCallInfo(2, 3)]);
  });

  it('supports() sees the call: mask kind, initial state, goBackwards, returnSequences, dropout, training', () => {
    const seen: GruCallInfo[] = [];
    fake('spy', { supports: (_s, call) => (seen.push(call), 'just looking') });
    layer({ goBackwards: true, returnSequences: true, unroll: true }).forwardSync(X, {
      mask: [
        [1, 1, 0],
        [1, 0, 1],
      ],
      initialState: [[0, 0, 0]],
    });
    expect(seen[0]).toEqual({
      batch: 2,
      timesteps: 3,
      mask: 'any',
      initialState: true,
      goBackwards: true,
      returnSequences: true,
      inputDropoutPerGate: false,
      recurrentDropout: false,
      recurrentDropoutRate: 0,
      training: false,
      backward: false,
      unroll: true,
    });
    layer().forwardSync(X, {
      mask: [
        [1, 1, 0],
        [1, 0, 0],
      ],
    });
    expect(seen[1].mask).toBe('right-padded');
    layer().forwardSync(X, {
      mask: [
        [0, 0, 0],
        [1, 1, 1],
      ],
    });
    expect(seen[2].mask).toBe('right-padded');
    layer({ recurrentDropout: 0.5 }).forwardSync(X, { training: true, keepForBackward: false });
    expect(seen[3]).toMatchObject({ training: true, backward: false, recurrentDropout: true, recurrentDropoutRate: 0.5 });
  });

  it('the spec handed to the backend is the layer as a kernel sees it', () => {
    const b = fake('specs');
    const l = new GRU({ units: 3, activation: 'gelu', recurrentActivation: 'hard_sigmoid', useBias: false, resetAfter: false, dtype: 'float64' });
    l.forwardSync(X);
    expect(b.log.specs[0]).toEqual({
      units: 3,
      inputDim: 2,
      activation: 'gelu',
      recurrentActivation: 'hard_sigmoid',
      useBias: false,
      resetAfter: false,
      dtype: 'float64',
    });
  });

  it('the request is batch-major even for timeMajor layers, with the mask as bytes and a broadcast state', () => {
    const b = fake('req');
    const xt = { shape: [3, 2, 2], data: [0, 1, 10, 11, 2, 3, 12, 13, 4, 5, 14, 15] };
    layer({ timeMajor: true, goBackwards: true, returnSequences: true }).forwardSync(xt, {
      mask: [
        [1, 1],
        [0, 1],
        [1, 1],
      ],
      initialState: [[0.5, 0.25, 0.125]],
    }); // time-major mask [T, B]
    const req = b.log.requests[0];
    expect(Array.from(req.x)).toEqual([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15]);
    expect(req.mask).toBeInstanceOf(Uint8Array);
    expect(Array.from(req.mask as Uint8Array)).toEqual([1, 0, 1, 1, 1, 1]);
    expect(Array.from(req.initialState as Float32Array)).toEqual([0.5, 0.25, 0.125, 0.5, 0.25, 0.125]);
    expect(req).toMatchObject({ batch: 2, timesteps: 3, goBackwards: true, returnSequences: true });
  });

  it('negative priority runs only when asked for by name', () => {
    fake('opt-in', { priority: -1 });
    const auto = layer().forwardSync(X);
    expect(auto.backend).toBe('reference');
    expect(auto.skipped).toEqual([{ name: 'opt-in', reason: "'reference' has a higher priority" }]);
    // Even when it is the only backend that could run the call.
    expectGruError(
      () => selectBackend(SPEC, CALL, { useCudnn: 'auto', sync: true }, [getBackend('opt-in') as GruBackend]),
      'No registered GRU backend can run this call. opt-in: it runs only when requested by name (negative priority)',
    );
    const named = layer().forwardSync(X, { backend: 'opt-in' });
    expect(named.backend).toBe('opt-in');
    expect(named.skipped).toEqual([{ name: 'reference', reason: "backend 'opt-in' was requested" }]);
  });

  it('the layer option `backend` pins a backend; the call option overrides it', () => {
    fake('a', { priority: 5 });
    fake('b', { priority: 1 });
    expect(layer({ backend: 'b' }).forwardSync(X).backend).toBe('b');
    expect(layer({ backend: 'b' }).forwardSync(X, { backend: 'reference' }).backend).toBe('reference');
    expect(layer().forwardSync(X).backend).toBe('a');
  });

  it('a named backend that declines is an UnsupportedCallError carrying its reason', () => {
    fake('nope', { supports: () => 'masks are not implemented' });
    const err = expectGruError(() => layer().forwardSync(X, { backend: 'nope' }), "Backend 'nope' cannot run this call: masks are not implemented.");
    expect(err).toBeInstanceOf(UnsupportedCallError);
    expect((err as UnsupportedCallError).backend).toBe('nope');
    expect((err as UnsupportedCallError).reason).toBe('masks are not implemented');
  });

  it('an unknown backend name lists the registered ones', () => {
    fake('x1');
    expectGruError(
      () => layer().forwardSync(X, { backend: 'webgpu' }),
      "Backend 'webgpu' is not registered. Registered backends: x1, reference. Import its package ('@gru/webgpu') to register it.",
    );
    // A name no gru package registers gets the list of those that do, not a made-up package.
    expectGruError(
      () => layer().forwardSync(X, { backend: 'gpu' }),
      "Backend 'gpu' is not registered. Registered backends: x1, reference. gru's backend packages register 'cpu' (@gru/cpu), 'wasm' (@gru/wasm), 'webgpu' (@gru/webgpu) and 'cudnn' (@gru/cudnn) when imported; a backend of your own is registered with registerBackend().",
    );
  });

  it('when nothing can run the call, every reason is listed', () => {
    fake('f1', { supports: () => 'reason one' });
    expectGruError(
      () => layer({ activation: 'glu' }).forwardSync(X),
      'No registered GRU backend can run this call.',
      'f1: reason one',
      "reference: activation 'glu' halves the last axis",
    );
  });

  it('lastChoice and describeChoice explain the decision', () => {
    fake('fast', { priority: 3 });
    fake('slow', { priority: 2, supports: () => 'too slow today' });
    const l = layer();
    l.forwardSync(X);
    expect(l.lastChoice?.backend.name).toBe('fast');
    expect(describeChoice(l.lastChoice as NonNullable<typeof l.lastChoice>)).toBe(
      "fast (skipped: slow: 'fast' has a higher priority; reference: 'fast' has a higher priority)",
    );
    expect(describeChoice({ backend: referenceBackend, skipped: [] })).toBe('reference');
  });

  it('selectBackend is pure and takes an explicit backend list', () => {
    const a = fake('pa', { register: false, priority: 4 });
    const c = fake('pc', { register: false, priority: 9, supports: () => 'declines' });
    const choice = selectBackend(SPEC, CALL, { useCudnn: 'auto', sync: false }, [c, a, referenceBackend]);
    expect(choice.backend).toBe(a);
    expect(choice.skipped).toEqual([
      { name: 'pc', reason: 'declines' },
      { name: 'reference', reason: "'pa' has a higher priority" },
    ]);
    expect(selectBackend(SPEC, CALL, { useCudnn: 'auto', sync: false, backend: a }, [c, a]).backend).toBe(a);
    expect(a.log.loads).toBe(0);
  });
});

describe('synchronous selection', () => {
  it('forwardSync skips a backend without prepareSync and says why; forward() uses it', async () => {
    const b = fake('async-only', { sync: false });
    const sync = layer().forwardSync(X);
    expect(sync.backend).toBe('reference');
    expect(sync.skipped).toEqual([{ name: 'async-only', reason: 'it has no synchronous path (use the async forward())' }]);
    expectGruError(
      () => layer().forwardSync(X, { backend: 'async-only' }),
      "Backend 'async-only' cannot run this call: it has no synchronous path (use the async forward()).",
    );
    const asyncResult = await layer().forward(X);
    expect(asyncResult.backend).toBe('async-only');
    expect(b.log.prepares).toBe(1);
    expect(Array.from(asyncResult.output.data)).toEqual(Array.from(sync.output.data));
  });

  it('forwardSync skips a backend that is not loaded yet; forward() loads it', async () => {
    const b = fake('lazy', { loaded: false });
    expect(layer().forwardSync(X).skipped).toEqual([{ name: 'lazy', reason: "not loaded yet (await loadBackend('lazy') or use the async forward())" }]);
    expect(b.log.loads).toBe(0);
    const r = await layer().forward(X);
    expect(r.backend).toBe('lazy');
    expect(b.log.loads).toBe(1);
    expect(layer().forwardSync(X).backend).toBe('lazy');
  });

  it('loadBackend loads once and shares the promise', async () => {
    const b = fake('once', { loaded: false });
    await Promise.all([loadBackend('once'), loadBackend(b), loadBackend('once')]);
    expect(b.log.loads).toBe(1);
    expect(b.isLoaded()).toBe(true);
    await expect(loadBackend('not-there')).rejects.toThrow("Backend 'not-there' is not registered.");
  });
});

describe('load failures', () => {
  it('a backend whose load() fails is skipped with the reason and selection falls back', async () => {
    const b = fake('broken-load-1', { loaded: false, loadError: 'no GPU adapter' });
    const r = await layer().forward(X);
    expect(r.backend).toBe('reference');
    expect(r.skipped).toEqual([{ name: 'broken-load-1', reason: 'failed to load: no GPU adapter' }]);
    expect(backendLoadFailures().get('broken-load-1')).toBe('no GPU adapter');
    // Later calls do not retry the load.
    await layer().forward(X);
    expect(b.log.loads).toBe(1);
    await expect(loadBackend('broken-load-1')).rejects.toThrow('no GPU adapter');
    expect(b.log.loads).toBe(2);
  });

  it('a named backend that failed to load is an error with the reason', async () => {
    fake('broken-load-2', { loaded: false, loadError: 'addon missing' });
    await expect(layer().forward(X, { backend: 'broken-load-2' })).rejects.toThrow(
      "Backend 'broken-load-2' cannot run this call: failed to load: addon missing.",
    );
  });

  // A sync caller used to read "not loaded yet (await loadBackend(...))", advice that only rejects again.
  it('forwardSync, stream() and a sync selectBackend report a failed load, not "not loaded yet"', async () => {
    const b = fake('broken-sync', { loaded: false, loadError: 'addon missing' });
    await expect(loadBackend('broken-sync')).rejects.toThrow('addon missing');
    const reason = 'failed to load: addon missing';
    expect(layer().forwardSync(X).skipped).toEqual([{ name: 'broken-sync', reason }]);
    expectGruError(() => layer().forwardSync(X, { backend: 'broken-sync' }), `Backend 'broken-sync' cannot run this call: ${reason}.`);
    const stateful = () => layer({ stateful: true });
    expect(() => stateful().stream({ batch: 2, backend: 'broken-sync' })).toThrow(`Backend 'broken-sync' cannot run this call: ${reason}.`);
    const s = stateful().stream({ batch: 2 });
    expect(s.backend).toBe('reference');
    s.close();
    const sync = { useCudnn: 'auto' as const, sync: true };
    expect(selectBackend(SPEC, CALL, sync).skipped).toEqual([{ name: 'broken-sync', reason }]);
    // Also for a backend passed as an object (its failure is keyed by the object, not a registered name).
    expect(() => selectBackend(SPEC, CALL, { ...sync, backend: b }, [referenceBackend])).toThrow(`cannot run this call: ${reason}`);
    expect(b.log.loads).toBe(1);
  });

  it('a backend loaded after a failed loadBackend() runs: the old failure no longer passes it over', async () => {
    const errors: { next?: string } = { next: 'not yet' };
    const b = fake('late-loader', { loaded: false, loadErrors: errors, priority: 50 });
    await expect(loadBackend('late-loader')).rejects.toThrow('not yet');
    expect(layer().forwardSync(X).skipped).toContainEqual({ name: 'late-loader', reason: 'failed to load: not yet' });
    // Loaded another way (the backend's own load(), as an app may do).
    errors.next = undefined;
    await b.load();
    expect(layer().forwardSync(X).backend).toBe('late-loader');
    expect((await layer().forward(X)).backend).toBe('late-loader');
    expect(layer().forwardSync(X, { backend: 'late-loader' }).backend).toBe('late-loader');
  });

  it('a reason that already ends a sentence gets no second full stop', async () => {
    fake('broken-load-3', { loaded: false, loadError: "Install it next to @gru/webgpu ('npm install webgpu')." });
    const err = (await layer()
      .forward(X, { backend: 'broken-load-3' })
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as Error;
    expect(err.message).toBe("Backend 'broken-load-3' cannot run this call: failed to load: Install it next to @gru/webgpu ('npm install webgpu').");
  });
});

describe('prepared state per layer', () => {
  it('prepares once per backend, refreshes weights after setWeights, and dispose() frees it', async () => {
    const b = fake('cache');
    const l = layer();
    await l.forward(X);
    await l.forward(X);
    expect(b.log.prepares).toBe(1);
    l.setWeights(l.getWeights().map((w) => ({ shape: w.shape, data: Array.from(w.data, (v) => v * 0.5) })));
    const r = await l.forward(X);
    expect(b.log.prepares).toBe(1);
    expect(b.log.setWeights).toBe(1);
    const fresh = new GRU({ units: 3 });
    fresh.setWeights(l.getWeights());
    expect(Array.from(r.output.data)).toEqual(Array.from(fresh.forwardSync(X, { backend: 'reference' }).output.data));
    l.dispose();
    expect(b.log.disposes).toBe(1);
    await l.forward(X);
    expect(b.log.prepares).toBe(2);
  });

  it('forwardSync re-prepares after setWeights (and disposes the stale one)', () => {
    const b = fake('cache-sync');
    const l = layer();
    l.forwardSync(X);
    l.forwardSync(X);
    expect(b.log.prepareSyncs).toBe(1);
    l.setWeights(l.getWeights());
    l.forwardSync(X);
    expect(b.log.prepareSyncs).toBe(2);
    expect(b.log.disposes).toBe(1);
  });

  it('the layer keeps working after its backend is unregistered', () => {
    fake('temp');
    const l = layer();
    expect(l.forwardSync(X).backend).toBe('temp');
    unregisterBackend(registered.pop() as string);
    expect(l.forwardSync(X).backend).toBe('reference');
  });
});

/**
 * Selection keeps the registry's priority order between calls (sorting it on every call was a good
 * part of a small call's cost): each of these changes must reach the very next call.
 */
describe('selection between calls follows every change', () => {
  const names = (r: { backend: string; skipped: { name: string }[] }) => [r.backend, ...r.skipped.map((s) => s.name)];

  it('a backend registered between two calls runs the next one; unregistered (disposed), the next call falls back', async () => {
    const l = layer();
    expect(l.forwardSync(X).backend).toBe('reference');
    const b = fake('late');
    expect(names(l.forwardSync(X))).toEqual(['late', 'reference']);
    expect(names(await l.forward(X))).toEqual(['late', 'reference']);
    unregisterBackend(registered.pop() as string);
    expect(b.log.backendDisposes).toBe(1);
    expect(names(l.forwardSync(X))).toEqual(['reference']);
    expect(names(await l.forward(X))).toEqual(['reference']);
  });

  it('a name registered again with another priority, or a priority changed in place, reorders the next call', () => {
    fake('a', { priority: 5 });
    fake('b', { priority: 10 });
    const l = layer();
    expect(names(l.forwardSync(X))).toEqual(['b', 'a', 'reference']);
    const a = fake('a', { priority: 20 });
    expect(names(l.forwardSync(X))).toEqual(['a', 'b', 'reference']);
    (a as { priority: number }).priority = 1;
    expect(names(l.forwardSync(X))).toEqual(['b', 'a', 'reference']);
    expect(listBackends().map((x) => x.name)).toEqual(['b', 'a', 'reference']);
  });

  it('an entry another copy of @gru/core writes to the shared registry reaches the next call', () => {
    const l = layer();
    l.forwardSync(X);
    const shared = (globalThis as Record<symbol, Map<string, GruBackend>>)[Symbol.for('@gru/core:backend-registry')];
    const other = fake('other-copy', { register: false, priority: 3 });
    shared.set(other.name, other);
    registered.push(other.name);
    expect(names(l.forwardSync(X))).toEqual(['other-copy', 'reference']);
    shared.delete(other.name);
    registered.pop();
    expect(names(l.forwardSync(X))).toEqual(['reference']);
  });

  it('listBackends() hands out a fresh array: changing it changes neither selection nor the next list', () => {
    fake('x', { priority: 4 });
    const list = listBackends();
    list.reverse();
    list.pop();
    expect(names(layer().forwardSync(X))).toEqual(['x', 'reference']);
    expect(listBackends().map((b) => b.name)).toEqual(['x', 'reference']);
    expect(listBackends()).not.toBe(listBackends());
  });

  it('call options and layer options choose anew on each call', async () => {
    fake('p', { priority: 5 });
    fake('q', { priority: 3 });
    const l = layer();
    expect(l.forwardSync(X).backend).toBe('p');
    expect(l.forwardSync(X, { backend: 'q' }).backend).toBe('q');
    expect((await l.forward(X, { backend: 'reference' })).backend).toBe('reference');
    expect((await l.forward(X)).backend).toBe('p');
    expect(layer({ backend: 'q' }).forwardSync(X).backend).toBe('q');
  });

  it('a backend whose load is forgotten (its options changed) and then fails is passed over by the next call, and runs again once it loads', async () => {
    const loadErrors: { next?: string } = {};
    const b = fake('flaky', { loaded: false, loadErrors });
    const l = layer();
    expect((await l.forward(X)).backend).toBe('flaky');
    expect(b.log.loads).toBe(1);
    b.loaded = false;
    forgetBackendLoad(b);
    loadErrors.next = 'no adapter under the new options';
    const r = await l.forward(X);
    expect(r.backend).toBe('reference');
    expect(r.skipped).toEqual([{ name: 'flaky', reason: 'failed to load: no adapter under the new options' }]);
    expect(backendLoadFailures()).toEqual(new Map([['flaky', 'no adapter under the new options']]));
    loadErrors.next = undefined;
    forgetBackendLoad(b);
    expect((await l.forward(X)).backend).toBe('flaky');
    expect(backendLoadFailures().size).toBe(0);
  });

  it('forwardSync right after an async call that refreshes the weights runs on the new weights, as that call does', async () => {
    const b = fake('refresh');
    const l = layer();
    l.forwardSync(X);
    l.setWeights(l.getWeights().map((w) => ({ shape: w.shape, data: Array.from(w.data, (v) => v * 0.5) })));
    const fresh = new GRU({ units: 3 });
    fresh.setWeights(l.getWeights());
    const expected = Array.from(fresh.forwardSync(X, { backend: 'reference' }).output.data);
    // The async call starts refreshing the prepared layer; the sync call must not run on it before that lands.
    const pending = l.forward(X);
    expect(Array.from(l.forwardSync(X).output.data)).toEqual(expected);
    expect(Array.from((await pending).output.data)).toEqual(expected);
    expect(Array.from(l.forwardSync(X).output.data)).toEqual(expected);
    expect(b.log.requests.length).toBe(4);
  });
});
