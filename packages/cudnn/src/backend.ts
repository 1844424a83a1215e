import {
  checkSpec,
  environmentVariable,
  GRU_BACKEND_SPEC_VERSION,
  GruError,
  UnsupportedCallError,
  type GruBackend,
  type GruSpec,
  type GruWeights,
  readSpec,
} from '@gru/core';
import type { DeviceInfo, DeviceRuntime } from './device.js';
import { loadAddon, type NativeAttempt, type OpenResult } from './native.js';
import { resolveOptions, type CudnnBackendOptions, type ResolvedOptions } from './options.js';
import { CudnnPreparedGru } from './prepared.js';
import { DRIVER_SONAME, driverSeenAt, probePython, searchPlan, type PythonProbe, type SearchPlan } from './search.js';
import { cudnnSupports, cudnnSupportsSpec } from './support.js';
import { packWeights } from './weights.js';
import { MAX_COUNT } from './request-checks.js';

/**
 * The environment as the searches read it, one variable at a time through core's
 * environmentVariable: Deno without --allow-env refuses every read, and the variables are optional.
 */
const environment: Readonly<Record<string, string | undefined>> = new Proxy(
  {},
  { get: (_target, key) => (typeof key === 'string' ? environmentVariable(key) : undefined) },
);

export interface CudnnBackend extends GruBackend {
  readonly cudnn: true;
  prepare(spec: GruSpec, weights: GruWeights): Promise<CudnnPreparedGru>;
  /** Device plus pinned host bytes held through this backend's runtime (0 before load). */
  memoryInUse(): number;
  /** The GPU, driver and library paths in use, once loaded. */
  deviceInfo(): DeviceInfo | undefined;
  /** Why the last load() failed (the same text it rejected with), or undefined. */
  loadError(): string | undefined;
}

/** Opens the device for resolved options (the native addon; tests substitute a double). */
export type RuntimeOpener = (options: ResolvedOptions) => Promise<DeviceRuntime>;

/**
 * One probe per Python executable per process (the promise, so concurrent loads share it), kept
 * on globalThis so that the ESM and CommonJS builds, or two copies of the package, share it too.
 */
const PROBES_KEY = Symbol.for('@gru/cudnn.pythonProbes');
const pythonProbes: Map<string, Promise<PythonProbe>> = ((globalThis as Record<symbol, unknown>)[PROBES_KEY] as
  | Map<string, Promise<PythonProbe>>
  | undefined) ?? ((globalThis as Record<symbol, unknown>)[PROBES_KEY] = new Map<string, Promise<PythonProbe>>());

function probeOnce(executable: string): Promise<PythonProbe> {
  let probe = pythonProbes.get(executable);
  if (!probe) {
    probe = probePython(executable);
    pythonProbes.set(executable, probe);
  }
  return probe;
}

function describeAttempts(library: string, attempts: NativeAttempt[]): string {
  const mine = attempts.filter((a) => a.library === library);
  if (!mine.length) return '';
  const missing = mine.filter((a) => a.result === 'not found').map((a) => `${a.path} (${a.source})`);
  const failed = mine.filter((a) => a.result !== 'not found').map((a) => `${a.path} (${a.source}): ${a.result}`);
  const parts = [missing.length ? `not found at ${missing.join(', ')}` : '', ...failed].filter(Boolean);
  return `${library}: ${parts.join('; ')}`;
}

/** One message: what is missing, then every place looked at, then how to point at cuDNN. */
export function formatOpenFailure(result: OpenResult, plan: SearchPlan): string {
  const libraries = [...new Set(result.attempts.map((a) => a.library))];
  const looked = libraries.map((l) => describeAttempts(l, result.attempts)).filter(Boolean);
  return (
    `${result.problems.join('; ')}. ` +
    `Looked for ${looked.join('. ')}. ` +
    (plan.notes.length ? `Also considered: ${plan.notes.join('; ')}. ` : '') +
    // No final period: @gru/core joins backends' reasons with '; '.
    'Point GRU_CUDNN_PATH (or createCudnnBackend({ cudnnPath })) at the directory holding libcudnn.so.9'
  );
}

/** Loads the addon, searches for the driver, cuDNN 9 and cuBLASLt, and opens the device. */
export async function openNativeRuntime(o: ResolvedOptions): Promise<DeviceRuntime> {
  if (process.platform !== 'linux') {
    throw new Error(`the cuDNN backend runs on Linux with an NVIDIA GPU; this is ${process.platform}/${process.arch}`);
  }
  const addon = loadAddon();
  const base = { cudnnPath: o.cudnnPath, cudaDriverPath: o.cudaDriverPath, env: environment };
  // Python is asked only where a driver is to be seen: without one nothing can run, and the
  // probe would cost a child process (and run whatever python3 is on PATH) for nothing.
  const driverSeen = o.python !== false && driverSeenAt(searchPlan({ ...base, python: null }).driver, environment) !== undefined;
  const open = async (python: PythonProbe | null) => {
    const pythonSkipped = o.python === false ? undefined : `no ${DRIVER_SONAME} was found, so no NVIDIA driver is installed`;
    const plan = searchPlan({ ...base, python, pythonSkipped });
    return { plan, result: await addon.openRuntime({ driver: plan.driver, cudnn: plan.cudnn, cublasLtDirs: plan.cublasLtDirs, device: o.device }) };
  };
  // Only here, in load(): never on a synchronous path, and never from supports().
  let { plan, result } = await open(driverSeen && o.python !== false ? await probeOnce(o.python) : null);
  // The linker found a driver where the quick look did not (its RUNPATH, say): ask Python after all.
  if (!result.ok && !driverSeen && o.python !== false && result.attempts.some((a) => a.library === DRIVER_SONAME && a.result === 'loaded'))
    ({ plan, result } = await open(await probeOnce(o.python)));
  if (result.ok && result.runtime) return result.runtime;
  throw new Error(formatOpenFailure(result, plan));
}

/**
 * The backend object around a runtime opener. `getOptions` may throw (the default backend
 * defers a bad environment variable to load()).
 */
export function backendWith(getOptions: () => ResolvedOptions, name: string, priority: number, open: RuntimeOpener): CudnnBackend {
  let runtime: DeviceRuntime | undefined;
  let loading: Promise<void> | undefined;
  let lastError: string | undefined;

  const backend: CudnnBackend = {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority,
    cudnn: true,
    load() {
      if (runtime) return Promise.resolve();
      loading ??= (async () => {
        runtime = await open(getOptions());
        lastError = undefined;
      })().catch((err: unknown) => {
        loading = undefined;
        lastError = `cuDNN backend unavailable: ${err instanceof Error ? err.message : String(err)}`;
        throw new Error(lastError);
      });
      return loading;
    },
    isLoaded: () => runtime !== undefined,
    supports: (spec, call) => cudnnSupports(spec, call),
    supportsBackward: (spec) => cudnnSupportsSpec(spec),
    async prepare(givenSpec, weights) {
      // Read once: the layer keeps this copy, the one checked here and sized for on every call.
      const spec = readSpec(givenSpec);
      checkSpec(spec, 'cudnn prepare');
      // cuDNN's own limits: at least one input feature, and 32-bit counts.
      for (const key of ['units', 'inputDim'] as const) {
        const v = spec[key];
        if (v < 1 || v > MAX_COUNT) {
          throw new GruError('ValueError', `cudnn prepare: \`spec.${key}\` must be an integer from 1 to ${MAX_COUNT}; received number ${v}.`);
        }
      }
      const reason = cudnnSupportsSpec(spec);
      if (reason !== true) throw new UnsupportedCallError(name, reason);
      // Packed (read and copied) before the await: the caller may change its arrays meanwhile.
      const packed = packWeights(weights, spec.inputDim, spec.units, spec.dtype);
      await backend.load();
      const rt = runtime as DeviceRuntime;
      const precision = spec.dtype === 'float64' ? 'fp32' : getOptions().precision;
      const layer = await rt.createLayer({ inputDim: spec.inputDim, units: spec.units, dtype: spec.dtype, precision });
      try {
        await layer.setWeights(packed);
      } catch (err) {
        layer.dispose();
        throw err;
      }
      return new CudnnPreparedGru(spec, layer, name);
    },
    memoryInUse() {
      if (!runtime) return 0;
      const m = runtime.memoryInUse();
      return m.device + m.host;
    },
    dispose() {
      // Prepared layers keep the runtime alive until they are disposed; this only forgets it.
      runtime = undefined;
      loading = undefined;
    },
    deviceInfo: () => runtime?.info(),
    loadError: () => lastError,
  };
  return backend;
}

/** A cuDNN backend with its own options (register it to replace the default one). */
export function createCudnnBackend(options: CudnnBackendOptions = {}): CudnnBackend {
  const resolved = resolveOptions(options, environment);
  return backendWith(() => resolved, resolved.name, resolved.priority, openNativeRuntime);
}

/** The backend registered on import: configured by environment variables, checked at load(). */
export function createDefaultCudnnBackend(open: RuntimeOpener = openNativeRuntime): CudnnBackend {
  let resolved: ResolvedOptions | undefined;
  let error: unknown;
  try {
    resolved = resolveOptions({}, environment);
  } catch (err) {
    error = err;
  }
  return backendWith(
    () => {
      if (error) throw error;
      return resolved as ResolvedOptions;
    },
    'cudnn',
    100,
    open,
  );
}
