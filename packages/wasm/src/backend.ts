import { GRU_BACKEND_SPEC_VERSION, GruError, type GruBackend, type GruCallInfo, type GruSpec, type GruWeights } from '@gru/core';
import { activationCode } from './activation-codes.js';
import { formatBytes, MAX_WASM_BYTES } from './heap.js';
import { WasmKernel } from './kernel.js';
import { callLayout, DEFAULT_PROJECTION_BUDGET, FLAGS, weightBytes } from './layout.js';
import { compileWasm, type WasmSource } from './module-loader.js';
import { WasmPreparedGru } from './prepared.js';

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
}

export interface WasmBackend extends GruBackend {
  readonly options: Readonly<WasmBackendOptions>;
  prepare(spec: GruSpec, weights: GruWeights): Promise<WasmPreparedGru>;
  prepareSync(spec: GruSpec, weights: GruWeights): WasmPreparedGru;
  memoryInUse(): number;
  /** Bytes the WebAssembly memory has grown to (it never shrinks; freed blocks are reused). */
  memoryReserved(): number;
  dispose(): void;
}

const NO_BACKWARD = 'the wasm backend implements the forward pass only (no backward kernels yet)';

function callFlags(spec: GruSpec, call: GruCallInfo): number {
  let flags = spec.resetAfter ? FLAGS.resetAfter : 0;
  if (call.returnSequences) flags |= FLAGS.returnSequences;
  if (call.mask !== 'none') flags |= FLAGS.mask;
  if (call.initialState) flags |= FLAGS.initialState;
  if (call.inputDropoutPerGate) flags |= FLAGS.inputDropout;
  if (call.recurrentDropout) flags |= FLAGS.recurrentDropout;
  return flags;
}

/** Why the wasm backend cannot run a call, or true. */
export function wasmSupports(spec: GruSpec, call: GruCallInfo, budget = DEFAULT_PROJECTION_BUDGET): true | string {
  if (spec.dtype !== 'float32') return `the wasm backend computes in float32 only (dtype '${spec.dtype}' runs on the reference backend)`;
  const f = activationCode(spec.activation);
  if (typeof f === 'string') return `activation ${f}`;
  const g = activationCode(spec.recurrentActivation);
  if (typeof g === 'string') return `recurrentActivation ${g}`;
  if (call.backward) return NO_BACKWARD;
  const shape = { batch: call.batch, timesteps: call.timesteps, inputDim: spec.inputDim, units: spec.units, flags: callFlags(spec, call) };
  const bytes = weightBytes(spec.inputDim, spec.units) + callLayout(shape, budget).total;
  if (bytes > MAX_WASM_BYTES) {
    return `the call needs ${formatBytes(bytes)} of WebAssembly memory (weights and buffers), beyond the 4 GiB that 32-bit WebAssembly can address`;
  }
  return true;
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
  let kernel: WasmKernel | undefined;
  let loading: Promise<void> | undefined;

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
      loading ??= (async () => {
        try {
          const module = await compileWasm(options);
          kernel = await WasmKernel.instantiate(module);
        } catch (err) {
          throw new Error(`the wasm backend could not load gru.wasm: ${(err as Error).message}`);
        } finally {
          loading = undefined;
        }
      })();
      return loading;
    },
    isLoaded: () => kernel !== undefined,
    supports: (spec, call) => wasmSupports(spec, call, budget),
    supportsBackward: () => NO_BACKWARD,
    async prepare(spec, weights) {
      await backend.load();
      return new WasmPreparedGru(loaded(), spec, weights, budget);
    },
    prepareSync: (spec, weights) => new WasmPreparedGru(loaded(), spec, weights, budget),
    memoryInUse: () => kernel?.heap.inUse ?? 0,
    memoryReserved: () => kernel?.heap.reserved ?? 0,
    dispose() {
      if (kernel) kernel.disposed = true;
      kernel = undefined;
    },
  };
  return backend;
}
