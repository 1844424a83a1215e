import { valueError } from '../errors.js';
import { noteUnregistered } from './load-records.js';
import { GRU_BACKEND_SPEC_VERSION, type GruBackend } from './types.js';

/**
 * One registry per process, shared by every copy of @gru/core loaded in it: the ESM and the
 * CommonJS build (the dual-package hazard), or two installed versions (a backend's nested copy).
 * A backend registered through any copy is seen by every layer; one that implements another
 * interface version is passed over by selection with that reason, never silently.
 */
const REGISTRY_KEY = Symbol.for('@gru/core:backend-registry');
type Shared = typeof globalThis & { [REGISTRY_KEY]?: Map<string, GruBackend> };
const registry: Map<string, GruBackend> = ((globalThis as Shared)[REGISTRY_KEY] ??= new Map());

/** This copy's reference backend: it stands in for a registered one of another interface version. */
let ownReference: GruBackend | undefined;

/**
 * Registers this copy's reference backend (from index.ts), unless a copy loaded earlier in the
 * process registered one of the same interface version.
 */
export function seedReferenceBackend(backend: GruBackend): void {
  ownReference = backend;
  ordered = undefined;
  if (registry.get(backend.name)?.specVersion !== GRU_BACKEND_SPEC_VERSION) registry.set(backend.name, backend);
}

/** The entry as this copy sees it: its own reference backend where the shared one speaks another version. */
function seen(backend: GruBackend): GruBackend {
  return ownReference && backend.name === ownReference.name && backend.specVersion !== GRU_BACKEND_SPEC_VERSION ? ownReference : backend;
}

/**
 * Makes a backend available to every layer. Registering a name again replaces the old entry
 * (so a re-imported package does not duplicate itself).
 */
export function registerBackend(backend: GruBackend): void {
  if (!backend || typeof backend.name !== 'string' || !backend.name) {
    throw valueError('registerBackend: the backend must have a non-empty `name`.');
  }
  if (backend.specVersion !== GRU_BACKEND_SPEC_VERSION) {
    throw valueError(
      `registerBackend: backend '${backend.name}' implements interface version ${String(backend.specVersion)}, ` +
        `but this @gru/core implements version ${GRU_BACKEND_SPEC_VERSION}. Install matching versions.`,
    );
  }
  for (const method of ['load', 'isLoaded', 'supports', 'prepare'] as const) {
    if (typeof backend[method] !== 'function') {
      throw valueError(`registerBackend: backend '${backend.name}' has no \`${method}()\` method.`);
    }
  }
  if (typeof backend.priority !== 'number' || Number.isNaN(backend.priority)) {
    throw valueError(`registerBackend: backend '${backend.name}' needs a numeric \`priority\`.`);
  }
  registry.set(backend.name, backend);
}

/**
 * Removes a backend (calling its `dispose()` if it has one). Returns whether it was registered.
 * Its load is forgotten and layers drop what they prepared on it, so registering the same object
 * again loads it again.
 */
export function unregisterBackend(name: string): boolean {
  const backend = registry.get(name);
  if (!backend) return false;
  registry.delete(name);
  // Before dispose(): a backend registered again is loaded again, and layers prepare on it anew.
  noteUnregistered(backend);
  backend.dispose?.();
  return true;
}

export function getBackend(name: string): GruBackend | undefined {
  const backend = registry.get(name);
  return backend && seen(backend);
}

/**
 * Counts every write to the shared map, by any copy of @gru/core (older ones included: the map's
 * own `set`/`delete`/`clear` bump the count), so the priority order below is sorted again exactly
 * when the registry changed. The counter lives on the map itself, installed by whichever copy
 * sees the map first, so map and counter cannot come apart (a harness that resets the registry's
 * global gets a fresh map with its own counter). The wrappers stay configurable and writable, so
 * a spy or a later copy can wrap them again (each wraps what was there, so every count happens).
 */
const WRITES_KEY = Symbol.for('@gru/core:backend-registry-writes');
type Counted = Map<string, GruBackend> & { [WRITES_KEY]?: { count: number } };
const writes: { count: number } = (registry as Counted)[WRITES_KEY] ?? countWrites(registry as Counted);
function countWrites(map: Counted): { count: number } {
  const counter = { count: 0 };
  const { set, delete: remove, clear } = map;
  const wrapper = (value: unknown) => ({ value, configurable: true, writable: true, enumerable: false });
  Object.defineProperties(map, {
    [WRITES_KEY]: { value: counter, configurable: true, writable: false, enumerable: false },
    set: wrapper((key: string, value: GruBackend) => (counter.count++, set.call(map, key, value))),
    delete: wrapper((key: string) => (counter.count++, remove.call(map, key))),
    clear: wrapper(() => (counter.count++, clear.call(map))),
  });
  return counter;
}

/** The priority order as sorted after `writes` writes, with the priorities it was sorted by. */
interface Ordered {
  writes: number;
  priorities: number[];
  list: readonly GruBackend[];
}
let ordered: Ordered | undefined;

/**
 * Registered backends, highest priority first (ties keep registration order), as one shared
 * frozen array: selection runs on every call, and sorting (three arrays) per call was a good part
 * of a small call's cost. Sorted again after any write to the registry, or when a backend's
 * priority was changed in place.
 */
export function registeredBackends(): readonly GruBackend[] {
  const o = ordered;
  if (o && o.writes === writes.count && samePriorities(o)) return o.list;
  const list = Object.freeze([...registry.values()].map(seen).sort((a, b) => b.priority - a.priority));
  ordered = { writes: writes.count, priorities: list.map((b) => b.priority), list };
  return list;
}

function samePriorities(o: Ordered): boolean {
  for (let i = 0; i < o.list.length; i++) if (o.list[i].priority !== o.priorities[i]) return false;
  return true;
}

/** Registered backends, highest priority first (ties keep registration order); a fresh array the caller may change. */
export function listBackends(): GruBackend[] {
  return [...registeredBackends()];
}
