import {
  availableCores,
  checkSpec,
  environmentVariable,
  forgetBackendLoad,
  GRU_BACKEND_SPEC_VERSION,
  GruError,
  type GruBackend,
  type GruCallInfo,
  type GruSpec,
  type GruWeights,
  readSpec,
  supportsArgsProblem,
} from '@gru/core';
import { activationId, FIRST_ROWWISE_ID } from './activations.js';
import { loadAddon } from './loader.js';
import type { CpuPoolStats, NativeBinding } from './native.js';
import { CpuPreparedGru, nativeWeights } from './prepared.js';

export interface CpuBackendOptions {
  /** Registry name (default 'cpu'). */
  name?: string;
  /** Selection priority (default 20: above wasm (10) and the reference backend (0), below GPU backends). */
  priority?: number;
  /**
   * Threads per call (default: GRU_CPU_THREADS, else the cores this process may use: Node's
   * `os.availableParallelism()`, capped on Linux by the control group's CPU quota, e.g. a
   * container's `--cpus`, rounded down).
   */
  threads?: number;
  /**
   * Instruction set to use (`avx512`, `avx2`, `sse`, `neon`, `generic`); default GRU_CPU_ISA, else
   * the fastest this CPU has. For testing and for working around a CPU's quirks.
   */
  isa?: string;
  /**
   * `forward()` runs calls with fewer multiply-adds than this inline, on the calling thread
   * (default 10,000,000: about 0.25 ms of work on one core of a current x86 server). Handing a call
   * to a worker thread and back costs 20-150 µs, which would dominate such calls; larger calls
   * always run on a worker thread and leave the event loop free. 0 sends every call to a worker.
   */
  syncBelowMacs?: number;
  /**
   * The fewest multiply-adds per recurrence step that are worth one more thread (default 5,000).
   * Threads meet once per step (a spin barrier: about 0.25 µs between two idle cores), so tiny
   * steps run on fewer threads; one sequence of 128 units already runs on 9. 0 splits every call
   * across all `threads` (up to one per block of output columns).
   */
  minStepMacsPerThread?: number;
  /** Path of the addon binary (default GRU_CPU_ADDON, else prebuilds/, else build/Release/). */
  addonPath?: string;
}

export interface CpuBackend extends GruBackend {
  /** Threads per call (results are bitwise identical for any value). */
  threads: number;
  readonly options: Readonly<CpuBackendOptions>;
  /** The instruction set prepared layers use (after load). */
  readonly isa: string | undefined;
  /** Where the addon was loaded from (after load). */
  readonly addonPath: string | undefined;
  prepare(spec: GruSpec, weights: GruWeights): Promise<CpuPreparedGru>;
  prepareSync(spec: GruSpec, weights: GruWeights): CpuPreparedGru;
  memoryInUse(): number;
  /**
   * What the process-wide thread pool did so far (loading the addon if needed; all zeros where it
   * cannot load): how many jobs were shared with pool threads, and how many that asked for several
   * threads ran on one, and why. The counts are the process's, every cpu backend's calls (worker
   * threads' too: they share the one pool). For diagnosing a machine where `threads: 2` runs no
   * faster than `threads: 1`: read it before and after a run and compare.
   *
   * @example
   * const before = backend.poolStats();
   * for (let i = 0; i < 1000; i++) stream.step();
   * const after = backend.poolStats();
   * const asked = after.sharedJobs - before.sharedJobs + (after.busyAlone - before.busyAlone) + (after.crowdedAlone - before.crowdedAlone);
   * console.log(`${after.sharedJobs - before.sharedJobs} of ${asked} steps shared`);
   */
  poolStats(): CpuPoolStats;
  dispose(): void;
}

const NO_POOL_STATS: Readonly<CpuPoolStats> = Object.freeze({ sharedJobs: 0, wokeSleepers: 0, busyAlone: 0, crowdedAlone: 0, crowdedWindows: 0 });

const MAX_UNITS = 2 ** 20;
const MAX_DIM = 2 ** 30;

/** `value` as a thread count; `received` says what was given where that was not the number (an environment string). */
function checkThreads(value: unknown, where: string, received = String(value)): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1024) {
    throw new TypeError(`${where}: threads must be an integer from 1 to 1024, received ${received}`);
  }
  return value;
}

function defaultThreads(): number {
  const env = environmentVariable('GRU_CPU_THREADS');
  if (env !== undefined && env !== '') return checkThreads(Number(env), 'GRU_CPU_THREADS', `'${env}'`);
  return availableCores();
}

/** A call of any size, for asking supports() about the layer alone. */
const BACKWARD_PROBE: GruCallInfo = {
  batch: 1,
  timesteps: 1,
  mask: 'any',
  initialState: true,
  goBackwards: false,
  returnSequences: true,
  inputDropoutPerGate: false,
  recurrentDropout: false,
  recurrentDropoutRate: 0,
  training: true,
  backward: true,
  unroll: false,
};

/** Why the cpu backend cannot run a call (forward, and backward when `call.backward`), or true. */
export function cpuSupports(givenSpec: GruSpec, call: GruCallInfo): true | string {
  // Read once, as prepare does: every answer below is about the same layer.
  const spec = readSpec(givenSpec);
  const problem = supportsArgsProblem(spec, call);
  if (problem) return problem;
  if (spec.dtype !== 'float32') return `the cpu backend computes in float32 only (dtype '${spec.dtype}' runs on the reference backend)`;
  const f = activationId(spec.activation, spec.units);
  if (typeof f === 'string') return `activation ${f}`;
  const g = activationId(spec.recurrentActivation, spec.units);
  if (typeof g === 'string') return `recurrentActivation ${g}`;
  if (call.backward && Math.max(f, g) >= FIRST_ROWWISE_ID) {
    const id = f >= FIRST_ROWWISE_ID ? spec.activation : spec.recurrentActivation;
    return `the cpu backend has no backward pass for the row-wise activation '${id}' (its forward runs a plain path outside the fused kernels)`;
  }
  if (spec.units > MAX_UNITS || spec.inputDim > MAX_UNITS)
    return `the cpu backend supports at most ${MAX_UNITS} units and input features (units ${spec.units}, inputDim ${spec.inputDim})`;
  if (call.batch > MAX_DIM || call.timesteps > MAX_DIM)
    return `the cpu backend supports batch and timesteps up to ${MAX_DIM} (batch ${call.batch}, timesteps ${call.timesteps})`;
  return true;
}

/**
 * A cpu backend: Keras's GRU in native code (packed weights, a fused GEMM micro-kernel, SIMD
 * chosen at run time, a small thread pool). The package's default `backend` is one of these; make
 * another to use other options (a thread count, an instruction set, another name).
 */
export function createCpuBackend(options: CpuBackendOptions = {}): CpuBackend {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`createCpuBackend: options must be an object, received ${String(options)}`);
  }
  const name = options.name ?? 'cpu';
  // A bad GRU_CPU_THREADS is refused at load(), as a reason this backend is unavailable: thrown
  // here, it would take down `import '@gru/cpu'` (the default backend is made on import) instead of
  // letting selection fall back to another backend.
  let settingProblem: Error | undefined;
  let threads: number;
  if (options.threads !== undefined) threads = checkThreads(options.threads, 'createCpuBackend');
  else {
    try {
      threads = defaultThreads();
    } catch (err) {
      settingProblem = err as Error;
      threads = availableCores();
    }
  }
  const syncBelowMacs = options.syncBelowMacs ?? 10_000_000;
  if (typeof syncBelowMacs !== 'number' || !(syncBelowMacs >= 0)) {
    throw new TypeError(`createCpuBackend: syncBelowMacs must be a non-negative number, received ${String(options.syncBelowMacs)}`);
  }
  const minStepMacsPerThread = options.minStepMacsPerThread ?? 5_000;
  if (typeof minStepMacsPerThread !== 'number' || !(minStepMacsPerThread >= 0)) {
    throw new TypeError(`createCpuBackend: minStepMacsPerThread must be a non-negative number, received ${String(options.minStepMacsPerThread)}`);
  }
  let addon: { binding: NativeBinding; path: string } | undefined;
  let failure: Error | undefined;
  let isa: string | undefined;

  const loadNow = (): NativeBinding => {
    if (addon) return addon.binding;
    if (failure) throw failure;
    try {
      if (settingProblem) throw settingProblem;
      const loaded = loadAddon(options.addonPath);
      const available = loaded.binding.info().isas;
      const wanted = options.isa ?? (environmentVariable('GRU_CPU_ISA') || undefined);
      if (wanted !== undefined && !available.includes(wanted)) {
        throw new Error(`instruction set '${wanted}' is not available on this CPU (available: ${available.join(', ')})`);
      }
      isa = wanted ?? available[0];
      addon = loaded;
      return loaded.binding;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      throw failure;
    }
  };

  const loaded = (): NativeBinding => {
    if (!addon) {
      throw new GruError('ValueError', `The '${name}' backend is not loaded: await its load() (or loadBackend('${name}')) before synchronous use.`);
    }
    return addon.binding;
  };

  const settings = {
    threads: () => threads,
    syncBelowMacs: () => syncBelowMacs,
    minStepMacsPerThread: () => minStepMacsPerThread,
  };

  const prepareWith = (binding: NativeBinding, givenSpec: GruSpec, weights: GruWeights): CpuPreparedGru => {
    // Read once: the layer keeps this copy, the one checked here and handed to the addon.
    const spec = readSpec(givenSpec);
    checkSpec(spec, 'cpu prepare');
    const act = activationId(spec.activation, spec.units);
    const recAct = activationId(spec.recurrentActivation, spec.units);
    if (typeof act === 'string') throw new GruError('ValueError', `The '${name}' backend cannot prepare this layer: activation ${act}`);
    if (typeof recAct === 'string') throw new GruError('ValueError', `The '${name}' backend cannot prepare this layer: recurrentActivation ${recAct}`);
    if (spec.dtype !== 'float32') throw new GruError('ValueError', `The '${name}' backend computes in float32 only; this layer's dtype is '${spec.dtype}'`);
    const native = new binding.Layer(
      { units: spec.units, inputDim: spec.inputDim, resetAfter: spec.resetAfter, useBias: spec.useBias, activation: act, recurrentActivation: recAct, isa },
      ...nativeWeights(spec, weights, 'prepare'),
    );
    return new CpuPreparedGru(spec, native, settings, binding.Bound);
  };

  const backend: CpuBackend = {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority: options.priority ?? 20,
    options: Object.freeze({ ...options }),
    get threads() {
      return threads;
    },
    set threads(n: number) {
      threads = checkThreads(n, `backend '${name}'`);
      // The load that failed only for want of a thread count may now succeed.
      if (settingProblem && failure === settingProblem) {
        failure = undefined;
        forgetBackendLoad(backend);
      }
      settingProblem = undefined;
    },
    get isa() {
      return isa;
    },
    get addonPath() {
      return addon?.path;
    },
    async load() {
      loadNow();
    },
    isLoaded: () => addon !== undefined,
    supports: cpuSupports,
    // Backward covers exactly what forward does (same activations, masks, dropout, float32).
    supportsBackward: (spec) => cpuSupports(spec, BACKWARD_PROBE),
    async prepare(spec, weights) {
      return prepareWith(loadNow(), spec, weights);
    },
    prepareSync: (spec, weights) => prepareWith(loaded(), spec, weights),
    memoryInUse: () => (addon ? addon.binding.bytesInUse() : 0),
    // The counts are the process's: read them from the addon even before this backend's first
    // prepare, or a reading taken then and one taken later would differ by other backends' calls.
    poolStats: () => {
      try {
        return loadNow().poolStats();
      } catch {
        return { ...NO_POOL_STATS };
      }
    },
    dispose() {
      // The addon stays loaded (Node cannot unload it); prepared layers free their own memory.
    },
  };
  return backend;
}
