import { GRU_BACKEND_SPEC_VERSION, referenceBackend, type ForwardResult, type GruBackend, type PreparedGru } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { planConformance, runConformance } from '../src/index.js';
import { checkBackendReload } from '../src/testing/index.js';

const CHECK = 'contract:backend-reload';

interface Mortal {
  /** The prepared layer answers isDisposed() (true once its backend was disposed). */
  says?: boolean;
  /** A freshly prepared layer says isDisposed() true. */
  alwaysGone?: boolean;
  /** Changes what a layer prepared after the first reload returns. */
  afterReload?: (r: ForwardResult) => ForwardResult;
  /** load() after a dispose() rejects. */
  loadFailsAgain?: boolean;
  /** prepareSync throws after a reload (its loaded state is not set again). */
  prepareSyncStale?: boolean;
  /** A prepared layer's dispose() throws once its backend was disposed. */
  disposeThrowsWhenGone?: boolean;
}

/**
 * The reference backend, but dispose() kills what it prepared (as wasm's frees its module), and
 * load() revives the backend; with one planted fault each.
 */
function mortal(name: string, m: Mortal = {}): { backend: GruBackend; counts: { prepares: number; disposes: number } } {
  let generation = 0;
  let loaded = true;
  let syncLoaded = true;
  const counts = { prepares: 0, disposes: 0 };
  const wrap = (p: PreparedGru): PreparedGru => {
    const born = generation;
    const check = () => {
      if (born !== generation) throw new Error(`${name}: the backend this layer was prepared on was disposed`);
    };
    const after = (r: ForwardResult) => (born > 0 && m.afterReload ? m.afterReload(r) : r);
    const prepared: PreparedGru = {
      spec: p.spec,
      setWeights: (w) => {
        check();
        return p.setWeights(w);
      },
      dispose: () => {
        if (m.disposeThrowsWhenGone && born !== generation) throw new Error(`${name}: dispose() after the module was freed`);
        p.dispose();
      },
      forward: async (r) => {
        check();
        return after(p.forwardSync!(r));
      },
      forwardSync: (r) => {
        check();
        return after(p.forwardSync!(r));
      },
    };
    if (m.says || m.alwaysGone) prepared.isDisposed = () => m.alwaysGone === true || born !== generation;
    return prepared;
  };
  const backend: GruBackend = {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority: -1,
    load: async () => {
      if (m.loadFailsAgain && generation > 0) throw new Error(`${name}: cannot load again`);
      loaded = true;
      if (!m.prepareSyncStale) syncLoaded = true;
    },
    isLoaded: () => loaded,
    supports: (spec, call) => referenceBackend.supports(spec, call),
    prepare: async (spec, weights) => {
      if (!loaded) throw new Error(`${name}: not loaded`);
      counts.prepares++;
      return wrap(referenceBackend.prepareSync!(spec, weights));
    },
    prepareSync: (spec, weights) => {
      if (!syncLoaded) throw new Error(`${name}: not loaded (sync)`);
      counts.prepares++;
      return wrap(referenceBackend.prepareSync!(spec, weights));
    },
    dispose: () => {
      counts.disposes++;
      generation++;
      loaded = false;
      syncLoaded = false;
    },
  };
  return { backend, counts };
}

describe('contract:backend-reload: a layer outlives dispose() and load() of its backend', () => {
  it('passes a backend whose prepared layer says isDisposed() once the backend is disposed: the layer is prepared again', async () => {
    const { backend, counts } = mortal('mortal-says', { says: true });
    expect(await checkBackendReload(backend)).toEqual({ status: 'passed', ranOn: 'mortal-says' });
    // The first layer, then prepare and prepareSync after the reload.
    expect(counts).toEqual({ prepares: 3, disposes: 1 });
    expect(backend.isLoaded()).toBe(true);
  });

  it('fails a backend whose prepared layer dies with the backend without saying so, naming the error', async () => {
    const { backend } = mortal('mortal-silent');
    const outcome = await checkBackendReload(backend);
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toBe(
      'forward on the layer prepared before backend.dispose() and load() (it does not say isDisposed()) threw Error: ' +
        'mortal-silent: the backend this layer was prepared on was disposed: a prepared layer that cannot run once its backend was disposed ' +
        'must say isDisposed() (then core prepares again), or keep working (case: B=3 T=5 D=4 H=7 dtype=float32 seed=12)',
    );
  });

  it('passes the reference kernels with a dispose() that frees nothing (their prepared layers keep working, and say nothing)', async () => {
    const backend: GruBackend = { ...referenceBackend, name: 'reference-with-dispose', dispose: () => {} };
    expect(await checkBackendReload(backend)).toEqual({ status: 'passed', ranOn: 'reference-with-dispose' });
  });

  it('is not applicable (unsupported, with the reason) where the backend has no dispose(): the reference backend', async () => {
    const na = { status: 'unsupported', detail: 'not applicable: the backend has no dispose(), so nothing it frees can leave a prepared layer unusable' };
    expect(referenceBackend.dispose).toBeUndefined();
    expect(await checkBackendReload(referenceBackend)).toEqual(na);
    const { dispose: _, ...rest } = mortal('mortal-no-dispose', { says: true }).backend;
    expect(await checkBackendReload(rest as GruBackend)).toEqual(na);
  });

  it('fails results that differ after the reload, bit for bit, naming the element', async () => {
    const flip = (r: ForwardResult): ForwardResult => {
      const output = r.output.slice();
      output[7] = -output[7];
      return { ...r, output };
    };
    const outcome = await checkBackendReload(mortal('mortal-differs', { says: true, afterReload: flip }).backend);
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toMatch(
      /^forward on the layer prepared again after backend\.dispose\(\) and load\(\): output differs from the same call before the reload \("expected" is that call's answer\) at \[0, 1, 0\] of shape \[3, 5, 7\]/,
    );
  });

  it('fails a backend that cannot be loaded again, saying that it is left disposed', async () => {
    const outcome = await checkBackendReload(mortal('mortal-load-once', { says: true, loadFailsAgain: true }).backend);
    expect(outcome).toEqual({
      status: 'failed',
      detail:
        'load() after dispose() threw Error: mortal-load-once: cannot load again (the backend is left disposed) (case: B=3 T=5 D=4 H=7 dtype=float32 seed=12)',
    });
  });

  it('fails a backend whose prepareSync does not work after the reload (core prepares synchronous calls with it)', async () => {
    const outcome = await checkBackendReload(mortal('mortal-sync-stale', { says: true, prepareSyncStale: true }).backend);
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toMatch(
      /^prepareSync after backend\.dispose\(\) and load\(\) threw Error: mortal-sync-stale: not loaded \(sync\) \(the old prepared layer says isDisposed\(\), so core prepares again\)/,
    );
  });

  it('fails a freshly prepared layer that says isDisposed() (core would prepare again on every call)', async () => {
    const outcome = await checkBackendReload(mortal('mortal-always-gone', { alwaysGone: true }).backend);
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toMatch(/^a freshly prepared layer says isDisposed\(\) before any dispose\(\): core would prepare again on every call/);
  });

  it('fails an old prepared layer whose dispose() throws after the reload (core disposes it when it prepares again)', async () => {
    const outcome = await checkBackendReload(mortal('mortal-dispose-throws', { says: true, disposeThrowsWhenGone: true }).backend);
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toMatch(
      /^dispose\(\) of the layer prepared before backend\.dispose\(\) and load\(\) threw Error: mortal-dispose-throws: dispose\(\) after the module was freed \(core disposes it when it prepares again\)/,
    );
  });

  it('is planned after every other check (it disposes the backend), and the run goes on passing', async () => {
    const { backend, counts } = mortal('mortal-planned', { says: true });
    const { planned } = planConformance(backend, {});
    expect(planned[planned.length - 1].name).toBe(CHECK);
    expect(planned.filter((p) => p.name === CHECK)).toHaveLength(1);
    expect(planned.findIndex((p) => p.name === 'suite:no-leak')).toBeLessThan(planned.length - 1);
    expect(planned.findIndex((p) => p.kind === 'reference')).toBeLessThan(planned.length - 1);
    const report = await runConformance(backend, { coreChecks: false, sweep: false, only: ['defaults_seq', 'contract:set-weights', CHECK], expectations: {} });
    expect(report.results.map((r) => [r.name, r.status])).toEqual([
      ['defaults_seq', 'passed'],
      ['contract:set-weights', 'passed'],
      [CHECK, 'passed'],
    ]);
    expect(counts.disposes).toBe(1);
  });
});
