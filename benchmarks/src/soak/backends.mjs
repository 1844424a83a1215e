/**
 * The backends a soak runs, each made ready in the process (or worker) that uses it. A backend that
 * cannot load here is reported with its reason, never dropped silently.
 *
 * @typedef {import('@gru/core').GruBackend} GruBackend
 */

export const SOAK_BACKENDS = Object.freeze(['reference', 'cpu', 'wasm', 'webgpu']);

/**
 * Imports @gru/core and the backend's package, loads the backend and returns it.
 * webgpu is allowed a software adapter here (lavapipe on a machine without a GPU): a soak checks
 * memory and failures, not speed.
 * @param {string} name  one of SOAK_BACKENDS
 * @returns {Promise<GruBackend>}
 */
export async function readyBackend(name) {
  const core = await import('@gru/core');
  if (name === 'cpu') await import('@gru/cpu');
  else if (name === 'wasm') await import('@gru/wasm');
  else if (name === 'webgpu') {
    const webgpu = await import('@gru/webgpu');
    webgpu.backend.configure({ allowFallbackAdapter: true });
  } else if (name !== 'reference') {
    throw new Error(`soak: unknown backend '${name}'; expected one of ${SOAK_BACKENDS.join(', ')}`);
  }
  const backend = core.getBackend(name);
  if (!backend) throw new Error(`soak: importing the '${name}' package registered no backend of that name`);
  await core.loadBackend(backend);
  return backend;
}
