import type { GruBackend } from './types.js';

// Keyed by the backend object, so a backend registered again under the same name (a fixed one,
// say) starts with a clean record. Shared by every copy of @gru/core in the process, as the
// registry is (see registry.ts).
const LOADS_KEY = Symbol.for('@gru/core:backend-loads');
interface LoadRecords {
  loads: WeakMap<GruBackend, Promise<void>>;
  failures: WeakMap<GruBackend, string>;
  /** How often each backend was unregistered (and so disposed); installed by the first copy that needs it. */
  unregistered?: WeakMap<GruBackend, number>;
}
const records: LoadRecords = ((globalThis as typeof globalThis & { [LOADS_KEY]?: LoadRecords })[LOADS_KEY] ??= {
  loads: new WeakMap(),
  failures: new WeakMap(),
});
export const { loads, failures } = records;
const unregistered = (records.unregistered ??= new WeakMap());

/**
 * Forgets a backend's load, failed or not, so the next selection loads it again: for a backend
 * whose options changed (webgpu's `configure()` calls it), since a failure under the old options
 * says nothing of the new ones.
 */
export function forgetBackendLoad(backend: GruBackend): void {
  loads.delete(backend);
  failures.delete(backend);
}

/**
 * Records that `backend` was unregistered and disposed: its load is forgotten (registering it
 * again loads it again), and what layers prepared on it is stale (see `unregistrations`).
 */
export function noteUnregistered(backend: GruBackend): void {
  forgetBackendLoad(backend);
  unregistered.set(backend, unregistrations(backend) + 1);
}

/** How often `backend` was unregistered: a layer prepared on it under a lower count was prepared on a disposed backend. */
export function unregistrations(backend: GruBackend): number {
  return unregistered.get(backend) ?? 0;
}
