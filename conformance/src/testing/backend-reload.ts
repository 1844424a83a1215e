import { UnsupportedCallError, type ForwardResult, type GruBackend, type PreparedGru } from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { cloneRequest, compareResult, pathsOf, runPath, type ForwardPath, type ResultMatch } from './against-reference.js';
import { firstAccepted } from './call-info.js';
import { describeCaseOptions, type CaseOptions } from './make-case.js';

/**
 * contract:backend-reload: a layer outlives a `dispose()` and `load()` of its backend. Core keeps
 * a layer's prepared layer across calls and prepares again only where the prepared layer says
 * `isDisposed()` (PreparedGru; a backend whose dispose() frees what its prepared layers run on, as
 * wasm's frees its module and webgpu's destroys its device, must say so). So a layer prepared on
 * the backend (`prepare`), with a first call made on each path, then `backend.dispose()` and
 * `await backend.load()`: where the prepared layer says isDisposed(), a fresh `prepare` (and
 * `prepareSync`, where the backend has it: core's synchronous calls prepare with it), else the
 * prepared layer itself, must answer the same calls bit for bit as before. A freshly prepared
 * layer must not say isDisposed() (core would prepare again on every call), and the old prepared
 * layer's dispose() (core calls it when it prepares again) must not throw.
 *
 * Not applicable (unsupported, named) where the backend has no dispose(). The backend is disposed
 * and loaded again, so the runner plans this check after every other; it is left loaded again
 * unless load() rejects (then the detail says so).
 */

/** The calls tried: the plainest float32 call, else float64. */
const CANDIDATES: readonly CaseOptions[] = [
  { B: 3, T: 5, D: 4, H: 7, dtype: 'float32' },
  { B: 3, T: 5, D: 4, H: 7, dtype: 'float64' },
];

/** A failure found: the detail, whole (the case is added). */
class Problem extends Error {}

const threw = (what: string, err: unknown) => `${what} threw ${(err as Error)?.name}: ${(err as Error)?.message}`;

const BEFORE: ResultMatch = { bitwiseAgainst: 'the same call before the reload' };
const RELOAD = 'backend.dispose() and load()';

export async function checkBackendReload(backend: GruBackend, seed = 12): Promise<CaseOutcome> {
  if (typeof backend.dispose !== 'function') {
    return { status: 'unsupported', detail: 'not applicable: the backend has no dispose(), so nothing it frees can leave a prepared layer unusable' };
  }
  const picked = firstAccepted(
    backend,
    CANDIDATES.map((o) => ({ ...o, seed })),
  );
  if (Array.isArray(picked)) return { status: 'unsupported', detail: `it declines every call tried: ${[...new Set(picked)].join('; ')}` };
  const { spec, weights, request } = picked.c;
  const label = describeCaseOptions(picked.options);
  const layers: PreparedGru[] = [];
  let old: PreparedGru;
  try {
    old = await backend.prepare(spec, weights);
  } catch (err) {
    if (err instanceof UnsupportedCallError) return { status: 'unsupported', detail: `${label}: ${err.reason}` };
    return { status: 'failed', detail: `${threw('prepare', err)} (case: ${label})` };
  }
  let reloaded = true;
  try {
    const saysGone = (layer: PreparedGru, what: string) => {
      if (layer.isDisposed?.() === true) {
        throw new Problem(
          `${what} says isDisposed() before any dispose(): core would prepare again on every call (isDisposed() is true only once the layer cannot run)`,
        );
      }
    };
    saysGone(old, 'a freshly prepared layer');
    const paths = pathsOf(old);
    const first = new Map<ForwardPath, ForwardResult>();
    for (const path of paths) {
      try {
        first.set(path, await runPath(backend, old, path, cloneRequest(request)));
      } catch (err) {
        if (err instanceof UnsupportedCallError) throw err;
        throw new Problem(`${threw(path, err)} before the reload`);
      }
    }

    reloaded = false;
    try {
      backend.dispose();
    } catch (err) {
      throw new Problem(threw('backend.dispose()', err));
    }
    try {
      await backend.load();
    } catch (err) {
      throw new Problem(threw('load() after dispose()', err));
    }
    reloaded = true;

    // What core does on the layer's next call: the old prepared layer where it does not say it is gone, else a fresh one.
    const gone = old.isDisposed?.() === true;
    const runs: [string, PreparedGru, readonly ForwardPath[]][] = [];
    if (!gone) runs.push([`the layer prepared before ${RELOAD} (it does not say isDisposed())`, old, paths]);
    else {
      const fresh = async (how: 'prepare' | 'prepareSync') => {
        let layer: PreparedGru;
        try {
          layer = how === 'prepare' ? await backend.prepare(spec, weights) : backend.prepareSync!(spec, weights);
        } catch (err) {
          throw new Problem(`${threw(`${how} after ${RELOAD}`, err)} (the old prepared layer says isDisposed(), so core prepares again)`);
        }
        layers.push(layer);
        saysGone(layer, `the layer ${how} made after ${RELOAD}`);
        return layer;
      };
      const layer = await fresh('prepare');
      runs.push([`the layer prepared again after ${RELOAD}`, layer, paths.filter((p) => pathsOf(layer).includes(p))]);
      if (backend.prepareSync && paths.includes('forwardSync')) {
        const sync = await fresh('prepareSync');
        if (sync.forwardSync) runs.push([`the layer prepareSync made after ${RELOAD}`, sync, ['forwardSync']]);
      }
    }
    for (const [which, layer, on] of runs) {
      for (const path of on) {
        let got: ForwardResult;
        try {
          got = await runPath(backend, layer, path, cloneRequest(request));
        } catch (err) {
          const hint = gone
            ? ''
            : ': a prepared layer that cannot run once its backend was disposed must say isDisposed() (then core prepares again), or keep working';
          throw new Problem(`${threw(`${path} on ${which}`, err)}${hint}`);
        }
        const problem = compareResult(got, first.get(path)!, request, spec.units, BEFORE, `${path} on ${which}`);
        if (problem) throw new Problem(problem);
      }
    }
    try {
      old.dispose();
    } catch (err) {
      throw new Problem(`${threw(`dispose() of the layer prepared before ${RELOAD}`, err)} (core disposes it when it prepares again)`);
    }
    return { status: 'passed', ranOn: backend.name };
  } catch (err) {
    // Said where it matters: later checks in the same run find the backend disposed.
    const left = reloaded ? '' : ' (the backend is left disposed)';
    if (err instanceof Problem) return { status: 'failed', detail: `${err.message}${left} (case: ${label})` };
    if (err instanceof UnsupportedCallError) return { status: 'unsupported', detail: `${label}: ${err.reason}` };
    return { status: 'failed', detail: `${threw('the check', err)}${left} (case: ${label})` };
  } finally {
    // Whatever the outcome; a throw here is named above where the check got that far (dispose() is idempotent).
    for (const layer of [...layers, old]) {
      try {
        layer.dispose();
      } catch {}
    }
  }
}
