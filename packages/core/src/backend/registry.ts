import { valueError } from '../errors.js';
import { GRU_BACKEND_SPEC_VERSION, type GruBackend } from './types.js';

import { referenceBackend } from '../reference/backend.js';

// The reference backend is always there, so every layer can run without any other package.
const registry = new Map<string, GruBackend>([[referenceBackend.name, referenceBackend]]);

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

/** Removes a backend (calling its `dispose()` if it has one). Returns whether it was registered. */
export function unregisterBackend(name: string): boolean {
  const backend = registry.get(name);
  if (!backend) return false;
  registry.delete(name);
  backend.dispose?.();
  return true;
}

export function getBackend(name: string): GruBackend | undefined {
  return registry.get(name);
}

/** Registered backends, highest priority first (ties keep registration order). */
export function listBackends(): GruBackend[] {
  return [...registry.values()].sort((a, b) => b.priority - a.priority);
}
