import {
  GRU_BACKEND_SPEC_VERSION,
  activationDef,
  forgetBackendLoad,
  gruActivationProblem,
  type GruBackend,
  type GruCallInfo,
  type GruSpec,
  type GruWeights,
  type PreparedGru,
  checkSpec,
  readSpec,
  supportsArgsProblem,
} from '@gru/core';
import { isRowActivation, rowwiseBackwardProblem } from './activations-rowwise-wgsl.js';
import { hasWgslActivation } from './activations-wgsl.js';
import type { GpuContext } from './context.js';
import { acquireDevice, type AcquiredDevice, type DeviceOptions } from './device.js';
import { PROJ_TILE } from './kernels/projection.js';
import { createLayouts, type Layouts } from './layouts.js';
import { GpuMemory } from './memory.js';
import { WebGpuPrepared } from './prepared.js';
import { storedWeights } from './snapshot.js';
import { backwardLayout } from './encode-backward.js';

export interface WebGpuBackendOptions extends DeviceOptions {
  /** Registered name (default 'webgpu'). */
  name?: string;
  /** Selection priority (default 30: above the cpu and wasm backends when a real GPU is there). */
  priority?: number;
  /**
   * 'f32' (default), or 'f16': weights stored as f16 (half the memory and bandwidth of the
   * recurrent kernel), arithmetic still f32. Needs the adapter feature `shader-f16`. Results
   * then differ from Keras by f16 rounding of the weights (about 1e-3 relative), beyond the
   * float32 conformance tolerance.
   */
  precision?: 'f32' | 'f16';
  /**
   * Which recurrence kernel runs: 'fused' (one dispatch, state in workgroup memory, when it
   * fits), 'stepwise' (one dispatch per step, all in one submission), or 'auto' (default).
   */
  recurrence?: 'auto' | 'fused' | 'stepwise';
  /**
   * How many forward calls (with `training: true` / keepForBackward) of one layer keep their GPU
   * buffers for backward at once (default 4). Older ones are released, so a training loop's GPU
   * memory stays bounded without waiting for the garbage collector; backward through a released
   * call fails with that reason. A layer's own backward() only ever needs its latest call.
   */
  savedCalls?: number;
}

/** Where WebGPU's guaranteed minimum limits cap a call before a device tells us better. */
const DEFAULT_MAX_BINDING = 134_217_728;
const MAX_WORKGROUPS = 65_535;

/** What the backend found when it loaded (for logs and the demo page). */
export interface WebGpuInfo {
  adapter: string;
  isFallbackAdapter: boolean;
  shaderF16: boolean;
  precision: 'f32' | 'f16';
  ownsDevice: boolean;
}

interface Loaded extends AcquiredDevice {
  layouts: Layouts;
  lost?: string;
  /** Set by dispose() before it destroys the device: that loss is ours, not the GPU's. */
  destroyed?: boolean;
  /**
   * Rejecters of the calls waiting on the GPU. Device loss rejects them all through one
   * listener; a per-call race against `device.lost` would add a reaction to that never-settling
   * promise on every call, a leak for the life of the device.
   */
  waiting: Set<(err: Error) => void>;
  pipelines: Map<GPUPipelineLayout, Map<string, Promise<GPUComputePipeline>>>;
}

/**
 * gru's WebGPU backend: WGSL compute kernels for the whole layer call. Create one with
 * `createWebGpuBackend(options)`, or configure the registered default (`backend.configure()`)
 * before its first use.
 */
export class WebGpuBackend implements GruBackend {
  readonly specVersion = GRU_BACKEND_SPEC_VERSION;
  readonly name: string;
  readonly priority: number;
  private options: WebGpuBackendOptions;
  private loaded: Loaded | undefined;
  private loading: Promise<Loaded> | undefined;
  /** Bumped by dispose(): a load or prepare under way then must not install what it made. */
  private generation = 0;
  private readonly memory = new GpuMemory();
  /** Prepared layers not yet disposed, held weakly so that a dropped layer can be collected. */
  private readonly live = new Set<WeakRef<WebGpuPrepared>>();
  private readonly finalizer = new FinalizationRegistry<() => void>((release) => release());

  constructor(options: WebGpuBackendOptions = {}) {
    checkOptions(options);
    this.name = options.name ?? 'webgpu';
    this.priority = options.priority ?? 30;
    this.options = { ...options };
  }

  /**
   * Changes the device options (your own `device`, `allowFallbackAdapter`, `precision`...).
   * Allowed before the first load, or after dispose(); layers prepared earlier keep their device.
   */
  configure(options: Omit<WebGpuBackendOptions, 'name' | 'priority'>): void {
    if (this.loaded || this.loading) {
      throw new Error(`webgpu configure(): backend '${this.name}' is already loaded; call dispose() first, then configure() and load() again.`);
    }
    checkOptions(options);
    this.options = { ...this.options, ...options };
    // A load that failed under the old options (no adapter without allowFallbackAdapter, say)
    // must not keep automatic selection away under the new ones.
    forgetBackendLoad(this);
  }

  async load(): Promise<void> {
    await this.ensureLoaded();
  }

  isLoaded(): boolean {
    return this.loaded !== undefined && this.loaded.lost === undefined;
  }

  /** Adapter and precision in use (undefined before load). */
  get info(): WebGpuInfo | undefined {
    const l = this.loaded;
    if (!l) return undefined;
    return {
      adapter: l.adapterName,
      isFallbackAdapter: l.isFallbackAdapter,
      shaderF16: l.f16,
      precision: this.options.precision ?? 'f32',
      ownsDevice: l.owned,
    };
  }

  /** The device in use (undefined before load); share it with the rest of your app if you like. */
  get device(): GPUDevice | undefined {
    return this.loaded?.device;
  }

  private ensureLoaded(): Promise<Loaded> {
    if (this.loaded && this.loaded.lost === undefined) return Promise.resolve(this.loaded);
    if (this.loaded?.lost !== undefined && !this.loaded.owned) {
      return Promise.reject(
        new Error(`webgpu: the GPU device supplied to backend '${this.name}' was lost (${this.loaded.lost}); configure a new one after dispose().`),
      );
    }
    // A lost device that we requested ourselves is replaced by a fresh one.
    this.loaded = undefined;
    if (!this.loading) {
      const attempt = this.acquire();
      this.loading = attempt;
      const settled = () => {
        if (this.loading === attempt) this.loading = undefined;
      };
      attempt.then(settled, settled);
    }
    return this.loading;
  }

  private async acquire(): Promise<Loaded> {
    const generation = this.generation;
    const acquired = await acquireDevice(this.options);
    if (generation !== this.generation) {
      if (acquired.owned) acquired.device.destroy();
      throw this.disposedWhile('it loaded');
    }
    if (this.options.precision === 'f16' && !acquired.f16) {
      if (acquired.owned) acquired.device.destroy();
      throw new Error(
        `precision 'f16' needs the WebGPU feature 'shader-f16', which ${acquired.owned ? `the adapter (${acquired.adapterName}) lacks` : 'the supplied device was not created with'}`,
      );
    }
    const loaded: Loaded = {
      ...acquired,
      f16: acquired.f16,
      layouts: createLayouts(acquired.device),
      pipelines: new Map(),
      waiting: new Set(),
    };
    void acquired.device.lost.then((info) => {
      // A device that dispose() destroyed: its loss info is not read. dawn.node's getters abort
      // the process (FATAL ERROR: napi_throw) when they run in a worker being terminated, and a
      // worker that disposes the backend and is then terminated runs this handler just then.
      loaded.lost = loaded.destroyed ? 'destroyed by dispose()' : `${info.reason}${info.message ? `: ${info.message}` : ''}`;
      const err = loaded.destroyed ? this.disposedWhile('a call ran') : lostDuringCall(loaded.lost);
      for (const reject of loaded.waiting) reject(err);
      loaded.waiting.clear();
    });
    this.loaded = loaded;
    return loaded;
  }

  supports(givenSpec: GruSpec, call: GruCallInfo): true | string {
    // Read once, as prepare does: every answer below is about the same layer.
    const spec = readSpec(givenSpec);
    const problem = supportsArgsProblem(spec, call);
    if (problem) return problem;
    const layer = call.backward ? this.supportsBackward(spec) : this.layerProblem(spec);
    if (layer !== true) return layer;
    const l = this.loaded;
    if (this.options.precision === 'f16' && l && !l.f16) return "precision 'f16' needs the WebGPU feature 'shader-f16', which this device lacks";
    const maxBinding = l ? l.device.limits.maxStorageBufferBindingSize : DEFAULT_MAX_BINDING;
    const { units: H, inputDim: D } = spec;
    const { batch: B, timesteps: T } = call;
    const sizes: Array<[string, number]> = [
      ['the input projection [batch*timesteps, 3*units]', B * T * 3 * H * 4],
      ['the input [batch, timesteps, inputDim]', B * T * D * 4],
      ['the kernel [inputDim, 3*units]', D * 3 * H * 4],
      ['the recurrent kernel [units, 3*units]', H * 3 * H * 4],
    ];
    if (call.returnSequences || call.backward) sizes.push(['the output sequence [batch, timesteps, units]', B * T * H * 4]);
    if (call.backward) {
      const l = backwardLayout(B, T, D, H, call.returnSequences);
      sizes.push(["the backward pass's work buffer (about [batch, timesteps, 5*units])", l.workFloats * 4], ['the gradients', l.outFloats * 4]);
    }
    for (const [what, bytes] of sizes) {
      if (bytes > maxBinding) return `${what} needs ${bytes} bytes, more than the device's maxStorageBufferBindingSize (${maxBinding})`;
    }
    if (B > MAX_WORKGROUPS) return `batch ${B} exceeds the ${MAX_WORKGROUPS} workgroups WebGPU allows per dispatch dimension`;
    if (Math.ceil((B * T) / PROJ_TILE) > MAX_WORKGROUPS) {
      return `batch*timesteps ${B * T} exceeds what one projection dispatch covers (${MAX_WORKGROUPS * PROJ_TILE})`;
    }
    if (call.backward && D > MAX_WORKGROUPS) return `inputDim ${D} exceeds the ${MAX_WORKGROUPS} workgroups the kernel gradient's dispatch allows`;
    if (call.backward && 3 * H > MAX_WORKGROUPS) {
      return `3*units ${3 * H} exceeds the ${MAX_WORKGROUPS} workgroups the recurrent kernel's transpose dispatch allows`;
    }
    return true;
  }

  /** Why no call of this layer can run here (dtype, activations), or true. */
  private layerProblem(spec: GruSpec): true | string {
    if (spec.dtype !== 'float32') {
      return `dtype ${spec.dtype}: WebGPU has no 64-bit floats (WGSL has no f64), so the webgpu backend runs float32 only`;
    }
    for (const [arg, id] of [
      ['activation', spec.activation],
      ['recurrentActivation', spec.recurrentActivation],
    ] as const) {
      const def = activationDef(id);
      const problem = gruActivationProblem(def, spec.units);
      if (problem) return `${arg} ${problem}`;
      if (!hasWgslActivation(id) && !isRowActivation(id)) return `${arg} '${def.name}' is not implemented by the webgpu backend`;
    }
    return true;
  }

  /** Gradients run for every layer the forward pass runs except those with a row-wise activation. */
  supportsBackward(givenSpec: GruSpec): true | string {
    const spec = readSpec(givenSpec);
    const problem = supportsArgsProblem(spec, {});
    if (problem) return problem;
    const layer = this.layerProblem(spec);
    if (layer !== true) return layer;
    return rowwiseBackwardProblem(spec) ?? true;
  }

  async prepare(givenSpec: GruSpec, weights: GruWeights): Promise<PreparedGru> {
    // Read once: the layer keeps this copy, the one checked here and that sizes every call's buffers.
    const spec = readSpec(givenSpec);
    checkSpec(spec, 'webgpu prepare');
    const why = this.supports(spec, { batch: 1, timesteps: 1 } as GruCallInfo);
    if (why !== true) throw new Error(`webgpu prepare: ${why}`);
    // Copied before the first await: the layer gets the weights it was prepared with.
    const stored = storedWeights(spec, weights, this.options.precision === 'f16', 'prepare');
    const generation = this.generation;
    const loaded = await this.ensureLoaded();
    const ctx = this.context(loaded);
    const { device } = loaded;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let prepared: WebGpuPrepared | undefined;
    let thrown: unknown;
    try {
      prepared = new WebGpuPrepared(ctx, spec, stored, this.options.savedCalls);
    } catch (err) {
      thrown = err;
    }
    const [vErr, oErr] = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
    if (thrown !== undefined || vErr || oErr) {
      prepared?.dispose();
      if (thrown !== undefined) throw thrown;
      throw new Error(`webgpu prepare: the GPU rejected the weights upload: ${(vErr ?? oErr)?.message}`);
    }
    const p = prepared as WebGpuPrepared;
    try {
      await loaded.device.queue.onSubmittedWorkDone();
      await p.warmUp();
    } catch (err) {
      p.dispose();
      throw generation === this.generation ? err : this.disposedWhile('the layer was prepared');
    }
    if (generation !== this.generation) {
      p.dispose();
      throw this.disposedWhile('the layer was prepared');
    }
    const ref = new WeakRef(p);
    this.live.add(ref);
    // A layer dropped without dispose() still frees its GPU memory when collected.
    const owned = p.owned;
    const memory = this.memory;
    this.finalizer.register(
      p,
      () => {
        for (const b of owned) memory.destroy(b);
        owned.clear();
        this.live.delete(ref);
      },
      p,
    );
    return p;
  }

  private context(loaded: Loaded): GpuContext {
    return {
      device: loaded.device,
      memory: this.memory,
      layouts: loaded.layouts,
      f16: this.options.precision === 'f16',
      recurrence: this.options.recurrence ?? 'auto',
      pipeline: (code, layout) => {
        let byCode = loaded.pipelines.get(layout);
        if (!byCode) loaded.pipelines.set(layout, (byCode = new Map()));
        let p = byCode.get(code);
        if (!p) {
          p = compilePipeline(loaded.device, code, layout);
          byCode.set(code, p);
          // A failed compile is reported to its caller, and not cached for the next one.
          p.catch(() => byCode.delete(code));
        }
        return p;
      },
      lostReason: () => loaded.lost,
      whileAlive: <T>(work: Promise<T>) =>
        new Promise<T>((resolve, reject) => {
          if (loaded.lost !== undefined) {
            work.catch(() => undefined);
            reject(lostDuringCall(loaded.lost));
            return;
          }
          loaded.waiting.add(reject);
          work.then(resolve, reject).finally(() => loaded.waiting.delete(reject));
        }),
      forget: (p) => {
        for (const ref of this.live) if (ref.deref() === p) this.live.delete(ref);
        this.finalizer.unregister(p);
      },
    };
  }

  memoryInUse(): number {
    return this.memory.bytes;
  }

  private disposedWhile(what: string): Error {
    return new Error(`webgpu: backend '${this.name}' was disposed while ${what}; load it again to use it.`);
  }

  /** Frees every prepared layer's buffers and the device (if the backend requested it). */
  dispose(): void {
    this.generation++;
    this.loading = undefined;
    for (const ref of [...this.live]) ref.deref()?.dispose();
    this.live.clear();
    const l = this.loaded;
    this.loaded = undefined;
    if (l?.owned) {
      l.destroyed = true;
      l.device.destroy();
    }
  }
}

const lostDuringCall = (reason: string) => new Error(`webgpu: the GPU device was lost during the call (${reason})`);

async function compilePipeline(device: GPUDevice, code: string, layout: GPUPipelineLayout): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ code, label: 'gru-webgpu' });
  try {
    return await device.createComputePipelineAsync({ layout, compute: { module, entryPoint: 'main' } });
  } catch (err) {
    const info = await module.getCompilationInfo();
    const messages = info.messages.filter((m) => m.type === 'error').map((m) => `line ${m.lineNum}: ${m.message}`);
    throw new Error(`webgpu: a kernel failed to compile: ${(err as Error).message}${messages.length ? ` (${messages.join('; ')})` : ''}`);
  }
}

function checkOptions(options: WebGpuBackendOptions): void {
  const bad = (name: string, expected: string, got: unknown) => {
    throw new TypeError(`createWebGpuBackend: ${name} must be ${expected}; received ${typeof got === 'string' ? `'${got}'` : String(got)}.`);
  };
  if (options.precision !== undefined && options.precision !== 'f32' && options.precision !== 'f16') bad('precision', "'f32' or 'f16'", options.precision);
  if (options.recurrence !== undefined && !['auto', 'fused', 'stepwise'].includes(options.recurrence)) {
    bad('recurrence', "'auto', 'fused' or 'stepwise'", options.recurrence);
  }
  if (options.savedCalls !== undefined && (!Number.isInteger(options.savedCalls) || options.savedCalls < 1))
    bad('savedCalls', 'an integer >= 1', options.savedCalls);
  if (options.name !== undefined && (typeof options.name !== 'string' || !options.name)) bad('name', 'a non-empty string', options.name);
  if (options.priority !== undefined && (typeof options.priority !== 'number' || Number.isNaN(options.priority))) bad('priority', 'a number', options.priority);
  if (options.device !== undefined && (typeof options.device !== 'object' || options.device === null || typeof options.device.createBuffer !== 'function')) {
    bad('device', 'a GPUDevice', options.device);
  }
}

export function createWebGpuBackend(options: WebGpuBackendOptions = {}): WebGpuBackend {
  return new WebGpuBackend(options);
}
