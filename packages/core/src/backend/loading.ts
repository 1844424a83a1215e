import { failures, loads } from './load-records.js';
import { getBackend, registeredBackends } from './registry.js';
import { selectBackend, type BackendChoice, type SelectionPreferences } from './select.js';
import type { GruBackend, GruCallInfo, GruSpec } from './types.js';

export { forgetBackendLoad } from './load-records.js';

/**
 * Loads a backend once (later calls share the promise). A failure is remembered with its reason,
 * so automatic selection skips that backend and says why; calling this again retries.
 */
export function loadBackend(backend: string | GruBackend): Promise<void> {
  const b = typeof backend === 'string' ? getBackend(backend) : backend;
  if (!b) return Promise.reject(new Error(`Backend '${String(backend)}' is not registered.`));
  const cached = loads.get(b);
  if (cached && !failures.has(b)) return cached;
  failures.delete(b);
  const p = Promise.resolve()
    .then(() => b.load())
    .catch((err: unknown) => {
      failures.set(b, err instanceof Error ? err.message : String(err));
      throw err;
    });
  loads.set(b, p);
  return p;
}

/** Why each registered backend that failed to load did so, by name. */
export function backendLoadFailures(): ReadonlyMap<string, string> {
  return failuresOf(registeredBackends()) ?? new Map();
}

/** The load failures among `backends`, or undefined when there are none (the usual case: no Map per call). */
function failuresOf(backends: readonly GruBackend[]): Map<string, string> | undefined {
  let out: Map<string, string> | undefined;
  for (const b of backends) {
    const reason = failures.get(b);
    if (reason !== undefined) (out ??= new Map()).set(b.name, reason);
  }
  return out;
}

/**
 * Selection for async calls: loads the choice, and re-selects past backends that fail to load.
 * The choice itself when it is loaded already (the usual case), so a call awaits nothing for it.
 */
export function selectAndLoad(spec: GruSpec, call: GruCallInfo, prefs: SelectionPreferences): BackendChoice | Promise<BackendChoice> {
  const choice = selectBackend(spec, call, prefs);
  return choice.backend.isLoaded() ? choice : loadChoice(spec, call, prefs, choice);
}

async function loadChoice(spec: GruSpec, call: GruCallInfo, prefs: SelectionPreferences, first: BackendChoice): Promise<BackendChoice> {
  let choice = first;
  for (;;) {
    try {
      await loadBackend(choice.backend);
      return choice;
    } catch {
      // Recorded in `failures`; the next selection explains it and moves on (or throws if named).
    }
    choice = selectBackend(spec, call, prefs);
    if (choice.backend.isLoaded()) return choice;
  }
}
