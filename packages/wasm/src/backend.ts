import {
  availableCores,
  GRU_BACKEND_SPEC_VERSION,
  GruError,
  type GruBackend,
  type GruCallInfo,
  type GruSpec,
  type GruWeights,
  readSpec,
  readWeights,
  supportsArgsProblem,
} from '@gru/core';
import { activationCode } from './activation-codes.js';
import { formatBytes, MAX_WASM_BYTES } from './heap.js';
import { WasmKernel } from './kernel.js';
import { backwardLayout, callLayout, DEFAULT_PROJECTION_BUDGET, FLAGS, threading, weightBytes } from './layout.js';
import { compileWasm, type WasmSource } from './module-loader.js';
import { checkWeights, copyWeights, specCodes, WasmPrepared, type WasmPreparedGru } from './prepared.js';
import { CONTROL_BYTES, ThreadPool, threadsUnavailable } from './thread-pool.js';
import { backwardProblem, checkKeptCalls } from './training-support.js';

const MAX_THREADS = 256;

function checkThreads(value: unknown): number | 'auto' {
  if (value === 'auto') return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    throw new TypeError(`createWasmBackend: threads must be 'auto' or an integer from 1 to ${MAX_THREADS}; received ${String(value)}.`);
  }
  return value;
}

function checkNonNegative(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`createWasmBackend: ${name} must be a non-negative number; received ${String(value)}.`);
  }
  return value;
}

/** Shared memory for gru-threads.wasm: 32-bit WebAssembly's 4 GiB, or 1 GiB where that is refused. */
function sharedMemory(): WebAssembly.Memory {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
  } catch {
    return new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true });
  }
}

/** gru-threads.wasm on shared memory, with `threads` workers on it. */
/** Failures of getting, compiling or instantiating the file name it; later ones (workers) do not. */
async function fromFile<T>(file: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw new Error(`could not load ${file}: ${(err as Error).message}`);
  }
}

async function loadThreaded(options: WasmSource, threads: number): Promise<Loaded> {
  const why = threadsUnavailable();
  if (why) throw new Error(`could not load gru-threads.wasm: threads: ${threads} needs WebAssembly memory shared with workers, but ${why}`);
  const { kernel, module, memory, relaxedFallback } = await fromFile('gru-threads.wasm', async () => {
    const compiled = await compileWasm(options, true);
    const memory = sharedMemory();
    return { ...compiled, memory, kernel: await WasmKernel.instantiate(compiled.module, memory) };
  });
  let control: number;
  try {
    control = kernel.heap.alloc(CONTROL_BYTES, "the worker threads' control block");
  } catch (err) {
    throw new Error(`could not start ${threads} wasm worker threads: ${(err as Error).message}`);
  }
  kernel.u8(control, CONTROL_BYTES).fill(0);
  // Its failures say "could not start N wasm worker threads: ..." and why.
  kernel.pool = await ThreadPool.start(module, memory, control, threads);
  return { kernel, relaxedFallback };
}

interface Loaded {
  kernel: WasmKernel;
  relaxedFallback?: string;
}

async function loadSingle(options: WasmSource): Promise<Loaded> {
  return fromFile('gru.wasm', async () => {
    const { module, relaxedFallback } = await compileWasm(options);
    return { kernel: await WasmKernel.instantiate(module), relaxedFallback };
  });
}

export interface WasmBackendOptions extends WasmSource {
  /** Registry name (default 'wasm'). */
  name?: string;
  /** Selection priority (default 10: above the reference backend, below native and GPU backends). */
  priority?: number;
  /**
   * Bytes of input projections computed at once (default 2 MiB): longer sequences are projected
   * in chunks of timesteps, which bounds memory and keeps the chunk in cache.
   */
  projectionBudgetBytes?: number;
  /**
   * Worker threads for `forward()` (default 1: none). Above 1, or 'auto' (@gru/core's
   * availableCores(): in Node the CPUs this process may use, capped by a Linux control group's CPU
   * quota; in a page `navigator.hardwareConcurrency`), load() starts that many workers on gru-threads.wasm, which share the module's
   * memory, and large calls are split between them by units; results are bitwise identical to
   * one thread. Needs SharedArrayBuffer and workers: Node, or a cross-origin-isolated page
   * (elsewhere load() rejects, saying why). `forwardSync()` always runs on the calling thread.
   */
  threads?: number | 'auto';
  /**
   * With threads, calls of fewer multiply-adds than this run on the calling thread (default
   * 2,000,000): waking the workers and hearing back costs tens of microseconds.
   */
  syncBelowMacs?: number;
  /**
   * The fewest multiply-adds per recurrence step worth one more worker (default 150,000): the
   * workers meet once per step, which costs a few microseconds between the cores of a VM.
   * Measured on 2 cores: a batch of 4 with 128 units (196,608 per step) ran slower on two
   * workers, a batch of 8 (393,216) faster.
   */
  minStepMacsPerThread?: number;
  /**
   * Forward calls made with keepForBackward whose kept state (in wasm memory) each prepared layer
   * holds for backward (default 1: the last call made, the one a GRU layer differentiates). An
   * older call's is freed when a newer one completes; backward on it then throws.
   */
  keepForBackwardCalls?: number;
}

export interface WasmBackend extends GruBackend {
  readonly options: Readonly<WasmBackendOptions>;
  prepare(spec: GruSpec, weights: GruWeights): Promise<WasmPreparedGru>;
  prepareSync(spec: GruSpec, weights: GruWeights): WasmPreparedGru;
  memoryInUse(): number;
  /** Bytes the WebAssembly memory has grown to (it never shrinks; freed blocks are reused). */
  memoryReserved(): number;
  /** Worker threads running calls (0 before load() and without the threads option). */
  threadCount(): number;
  /**
   * The loaded build's instruction set: 'relaxed-simd128' (GEMM multiply-adds as relaxed_madd,
   * fused where the engine and CPU do it: V8 on FMA CPUs; not JavaScriptCore) or 'simd128'; undefined before load().
   */
  readonly isa: 'simd128' | 'relaxed-simd128' | undefined;
  /**
   * Why `isa` is 'simd128' although the engine has relaxed SIMD: with `relaxedSimd` left out, the
   * relaxed build at the default location could not be fetched or compiled (say, only gru.wasm was
   * copied beside a bundle), so the plain build loaded instead. Undefined otherwise.
   */
  readonly relaxedSimdFallback: string | undefined;
  dispose(): void;
}

function callFlags(spec: GruSpec, call: GruCallInfo): number {
  let flags = spec.resetAfter ? FLAGS.resetAfter : 0;
  if (call.returnSequences) flags |= FLAGS.returnSequences;
  if (call.mask !== 'none') flags |= FLAGS.mask;
  if (call.initialState) flags |= FLAGS.initialState;
  if (call.inputDropoutPerGate) flags |= FLAGS.inputDropout;
  if (call.recurrentDropout) flags |= FLAGS.recurrentDropout;
  return flags;
}

/**
 * Why the wasm backend cannot run a call, or true. `workers`: the most threads a call may be
 * laid out for (some scratch is per thread).
 */
export function wasmSupports(givenSpec: GruSpec, call: GruCallInfo, budget = DEFAULT_PROJECTION_BUDGET, workers = 1): true | string {
  // Read once, as prepare does: every answer below is about the same layer.
  const spec = readSpec(givenSpec);
  const problem = supportsArgsProblem(spec, call);
  if (problem) return problem;
  if (spec.dtype !== 'float32') return `the wasm backend computes in float32 only (dtype '${spec.dtype}' runs on the reference backend)`;
  // prepare refuses it (the kernels' panels assume a feature): declining lets selection fall back.
  if (spec.inputDim === 0) return 'the wasm kernels need at least one input feature (inputDim 0 runs on the reference backend)';
  const f = activationCode(spec.activation, spec.units);
  if (typeof f === 'string') return `activation ${f}`;
  const g = activationCode(spec.recurrentActivation, spec.units);
  if (typeof g === 'string') return `recurrentActivation ${g}`;
  if (call.backward) {
    const why = backwardProblem(spec);
    if (why !== true) return why;
  }
  const flags = callFlags(spec, call) | (call.backward ? FLAGS.keep : 0);
  const shape = { batch: call.batch, timesteps: call.timesteps, inputDim: spec.inputDim, units: spec.units, flags };
  // backward's own allocation (training.ts) lives beside the forward call it differentiates.
  const backward = call.backward ? backwardLayout(shape, workers).total : 0;
  const bytes = weightBytes(spec.inputDim, spec.units) + callLayout(shape, budget, workers).total + backward;
  if (bytes > MAX_WASM_BYTES) {
    const what = call.backward ? "weights, the forward call's buffers and the backward pass's" : 'weights and buffers';
    return `the call needs ${formatBytes(bytes)} of WebAssembly memory (${what}), beyond the 4 GiB that 32-bit WebAssembly can address`;
  }
  return true;
}

function disposeKernel(kernel: WasmKernel): void {
  kernel.disposed = true;
  kernel.pool?.terminate();
}

/**
 * A wasm backend with its own module instance and memory. `createWasmBackend()` lets an app
 * say where gru.wasm is (a bundler's asset URL, a CDN, bytes, a compiled Module); the package's
 * default `backend` finds it next to the package's own files.
 */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`createWasmBackend: options must be an object; received ${String(options)}.`);
  }
  const name = options.name ?? 'wasm';
  const budget = options.projectionBudgetBytes ?? DEFAULT_PROJECTION_BUDGET;
  if (!(Number.isFinite(budget) && budget > 0)) {
    throw new TypeError(`createWasmBackend: projectionBudgetBytes must be a positive number; received ${String(options.projectionBudgetBytes)}.`);
  }
  const threadsOption = options.threads === undefined ? 1 : checkThreads(options.threads);
  if (options.relaxedSimd !== undefined && typeof options.relaxedSimd !== 'boolean') {
    throw new TypeError(`createWasmBackend: relaxedSimd must be true, false or left out; received ${String(options.relaxedSimd)}.`);
  }
  const keptCalls = checkKeptCalls(options.keepForBackwardCalls);
  const split = threading(
    checkNonNegative(options.syncBelowMacs, 'syncBelowMacs', 2_000_000),
    checkNonNegative(options.minStepMacsPerThread, 'minStepMacsPerThread', 150_000),
  );
  let kernel: WasmKernel | undefined;
  let relaxedFallback: string | undefined;
  let loading: Promise<void> | undefined;
  /** Bumped by dispose(): a load that was under way then must not install its module after it. */
  let generation = 0;

  const loaded = (): WasmKernel => {
    if (!kernel) {
      throw new GruError('ValueError', `The '${name}' backend is not loaded: await its load() (or loadBackend('${name}')) before synchronous use.`);
    }
    return kernel;
  };

  const backend: WasmBackend = {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority: options.priority ?? 10,
    options: Object.freeze({ ...options }),
    load() {
      if (kernel) return Promise.resolve();
      if (loading) return loading;
      const started = generation;
      // Declared first: the attempt reads it when it settles.
      let attempt: Promise<void> | undefined;
      attempt = (async () => {
        const threads = threadsOption === 'auto' ? availableCores() : threadsOption;
        let result: Loaded;
        try {
          result = threads > 1 ? await loadThreaded(options, threads) : await loadSingle(options);
        } catch (err) {
          throw new Error(`the wasm backend ${(err as Error).message}`);
        } finally {
          if (loading === attempt) loading = undefined;
        }
        if (started !== generation) {
          disposeKernel(result.kernel);
          throw new Error(`the '${name}' backend was disposed while it loaded; call load() again to use it.`);
        }
        kernel = result.kernel;
        relaxedFallback = result.relaxedFallback;
      })();
      loading = attempt;
      return attempt;
    },
    isLoaded: () => kernel !== undefined,
    supports: (spec, call) => wasmSupports(spec, call, budget, kernel?.pool?.size ?? 1),
    supportsBackward: (givenSpec) => {
      const spec = readSpec(givenSpec);
      return supportsArgsProblem(spec, {}) ?? backwardProblem(spec);
    },
    async prepare(givenSpec, given) {
      // Read once: the copies are what is checked, kept and packed.
      const spec = readSpec(givenSpec);
      let weights = readWeights(given);
      // The layer gets the weights it was prepared with: packed now when loaded, else copied
      // before waiting for the module.
      if (!kernel) {
        specCodes(spec);
        checkWeights(spec, weights, 'wasm prepare');
        weights = copyWeights(weights);
        await backend.load();
      }
      return new WasmPrepared(loaded(), spec, weights, budget, split, keptCalls);
    },
    prepareSync: (spec, weights) => new WasmPrepared(loaded(), spec, weights, budget, split, keptCalls),
    // The threads' control block is the backend's, not a layer's.
    memoryInUse: () => (kernel ? kernel.heap.inUse - (kernel.pool ? CONTROL_BYTES : 0) : 0),
    memoryReserved: () => kernel?.heap.reserved ?? 0,
    threadCount: () => kernel?.pool?.size ?? 0,
    get isa() {
      return kernel?.isa;
    },
    get relaxedSimdFallback() {
      return kernel ? relaxedFallback : undefined;
    },
    dispose() {
      if (kernel) disposeKernel(kernel);
      kernel = undefined;
      loading = undefined;
      generation++;
    },
  };
  return backend;
}
