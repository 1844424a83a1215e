import { GRU, plainCallInfo, referenceForward, registerBackend, unregisterBackend, type GruCallInfo } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { create } from 'webgpu';
import { backend, createWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import { runtimeName } from '../src/device.js';
import { compareWithReference, expectClose, makeRequest, makeSpec, makeWeights } from './helpers.js';
import { useSoftwareAdapterInTests } from './gpu-setup.js';

const call = (over: Partial<GruCallInfo> = {}): GruCallInfo => ({ ...plainCallInfo(2, 3), returnSequences: true, ...over });

// Module scope: Dawn's instance must outlive every device made from it.
const appGpu = create([]);

/** A device of our own, as an application sharing its GPUDevice would have. */
async function appDevice(): Promise<GPUDevice> {
  const adapter = await appGpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter for the application device');
  return adapter.requestDevice();
}

describe('supports()', () => {
  const b = createWebGpuBackend({ name: 'webgpu-supports' });
  it('declines float64 with the reason', () => {
    expect(b.supports(makeSpec({ units: 4, inputDim: 3, dtype: 'float64' }), call())).toMatch(/float64.*no 64-bit floats/);
  });
  it('runs row-wise activations forward (glu at units = 2 only, as Keras) and declines their gradients by name', () => {
    for (const id of ['softmax', 'log_softmax', 'sparsemax']) {
      expect(b.supports(makeSpec({ units: 4, inputDim: 3, activation: id }), call())).toBe(true);
      expect(b.supports(makeSpec({ units: 4, inputDim: 3, recurrentActivation: id }), call())).toBe(true);
      expect(b.supports(makeSpec({ units: 4, inputDim: 3, recurrentActivation: id }), call({ backward: true }))).toBe(
        `recurrentActivation '${id}' is row-wise (over each gate's units): the webgpu backend runs it forward only, with no backward pass; train this layer on the reference backend`,
      );
    }
    expect(b.supports(makeSpec({ units: 2, inputDim: 3, recurrentActivation: 'glu' }), call())).toBe(true);
    expect(b.supports(makeSpec({ units: 2, inputDim: 3, activation: 'glu' }), call({ backward: true }))).toMatch(/^activation 'glu' is row-wise/);
    expect(b.supports(makeSpec({ units: 4, inputDim: 3, recurrentActivation: 'glu' }), call())).toMatch(
      /^recurrentActivation 'glu' halves the last axis.*only at units = 2/,
    );
    expect(b.supports(makeSpec({ units: 4, inputDim: 3, activation: 'threshold' }), call())).toMatch(/^activation 'threshold' needs/);
  });
  it('declines calls whose buffers exceed the binding limit, and accepts ordinary ones', () => {
    expect(b.supports(makeSpec({ units: 4, inputDim: 3 }), call())).toBe(true);
    expect(b.supports(makeSpec({ units: 1024, inputDim: 3 }), call({ batch: 64, timesteps: 1000 }))).toMatch(/input projection .* maxStorageBufferBindingSize/);
  });
  it('has backward for what forward runs, and declines a backward call whose buffers exceed the binding limit', () => {
    expect(b.supportsBackward(makeSpec({ units: 4, inputDim: 3 }))).toBe(true);
    expect(b.supports(makeSpec({ units: 512, inputDim: 3 }), call({ batch: 64, timesteps: 250, backward: true }))).toMatch(
      /work buffer .* maxStorageBufferBindingSize/,
    );
    expect(b.supports(makeSpec({ units: 512, inputDim: 3 }), call({ batch: 64, timesteps: 250 }))).toBe(true);
    expect(b.supports(makeSpec({ units: 3, inputDim: 70_000 }), call({ batch: 1, timesteps: 1, backward: true }))).toMatch(
      /inputDim 70000 exceeds the 65535 workgroups/,
    );
  });
  it('rejects bad options with the argument named', () => {
    expect(() => createWebGpuBackend({ precision: 'f8' as never })).toThrow("precision must be 'f32' or 'f16'; received 'f8'");
    expect(() => createWebGpuBackend({ recurrence: 'fast' as never })).toThrow(/recurrence must be 'auto', 'fused' or 'stepwise'; received 'fast'/);
    expect(() => createWebGpuBackend({ device: {} as never })).toThrow(/device must be a GPUDevice/);
    expect(() => createWebGpuBackend({ savedCalls: 0 })).toThrow('createWebGpuBackend: savedCalls must be an integer >= 1; received 0.');
  });
});

describe('runtimeName (messages on Bun and Deno, which also set process.versions.node)', () => {
  it('names Bun and Deno by their own versions, else Node', () => {
    expect(runtimeName({ node: '24.3.0', bun: '1.4.5' })).toBe('Bun 1.4.5');
    expect(runtimeName({ node: '24.2.0', deno: '2.9.6' })).toBe('Deno 2.9.6');
    expect(runtimeName({ node: '20.20.2' })).toBe('Node 20.20.2');
  });
});

describe('adapters', () => {
  it('a null adapter makes load() fail with the reason (never a silent skip)', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(createWebGpuBackend({ name: 'webgpu-none', gpu }).load()).rejects.toThrow(/no WebGPU adapter: requestAdapter\(\) returned null/);
  });
  it('a software adapter is refused unless allowed', async () => {
    const strict = createWebGpuBackend({ name: 'webgpu-strict', allowFallbackAdapter: false });
    await expect(strict.load()).rejects.toThrow(/software fallback .* allowFallbackAdapter: true/);
  });
  it('the software-adapter refusal offers the environment variable only where the runtime has an environment (not in a page)', async () => {
    const adapter = { info: { vendor: 'google', device: 'swiftshader', isFallbackAdapter: true }, features: new Set(), limits: {} };
    const gpu = { requestAdapter: async () => adapter } as unknown as GPU;
    const refusal = () => createWebGpuBackend({ name: 'webgpu-soft', gpu }).load();
    await expect(refusal()).rejects.toThrow(
      /software fallback \(google swiftshader\).*allowFallbackAdapter: true \(or set GRU_WEBGPU_ALLOW_FALLBACK=1\) to use it anyway$/,
    );
    // A page has no process.env to set.
    vi.stubGlobal('process', { ...process, env: undefined });
    try {
      await expect(refusal()).rejects.toThrow(
        /software fallback \(google swiftshader\), slower than the cpu and wasm backends; create the backend with allowFallbackAdapter: true to use it anyway$/,
      );
    } finally {
      vi.unstubAllGlobals();
    }
  });
  it('a load refused under old options does not keep automatic selection away after configure()', async () => {
    const b = createWebGpuBackend({ name: 'webgpu-reconfigured', priority: 500, allowFallbackAdapter: false });
    registerBackend(b);
    try {
      const layer = new GRU({ units: 2, seed: 1 });
      const before = await layer.forward([[[1, 2]]]);
      expect(before.backend).not.toBe('webgpu-reconfigured');
      expect(before.skipped.find((s) => s.name === 'webgpu-reconfigured')?.reason).toMatch(/failed to load: .*allowFallbackAdapter: true/);
      b.configure({ allowFallbackAdapter: true });
      const after = await layer.forward([[[1, 2]]]);
      expect(after.backend).toBe('webgpu-reconfigured');
      layer.dispose();
    } finally {
      unregisterBackend('webgpu-reconfigured');
    }
  });
  it('reports the adapter it found', async () => {
    const b = createWebGpuBackend({ name: 'webgpu-info', allowFallbackAdapter: true });
    await b.load();
    expect(b.info?.adapter).toMatch(/\S/);
    expect(b.info?.ownsDevice).toBe(true);
    expect(b.isLoaded()).toBe(true);
    b.dispose();
    expect(b.isLoaded()).toBe(false);
  });
});

describe('the registered backend through the GRU layer', () => {
  beforeAll(async () => {
    useSoftwareAdapterInTests(backend);
    await backend.load();
  });

  it('runs training-mode dropout (per-gate and recurrent masks) like the reference', async () => {
    for (const resetAfter of [true, false]) {
      const options = { units: 6, returnSequences: true, dropout: 0.3, recurrentDropout: 0.2, resetAfter, seed: 3 };
      const gpu = new GRU({ ...options, backend: 'webgpu' });
      const ref = new GRU({ ...options, backend: 'reference' });
      const x = { shape: [3, 5, 4], data: Array.from({ length: 60 }, (_, i) => Math.cos(i * 0.7)) };
      gpu.build([3, 5, 4]);
      ref.build([3, 5, 4]);
      ref.setWeights(gpu.getWeights());
      const masks = {
        dropoutMask: [0, 1, 2].map((g) => ({ shape: [3, 4], data: Array.from({ length: 12 }, (_, i) => ((i + g) % 3 ? 1 / 0.7 : 0)) })),
        recurrentDropoutMask: [0, 1, 2].map((g) => ({ shape: [3, 6], data: Array.from({ length: 18 }, (_, i) => ((i + g) % 4 ? 1 / 0.8 : 0)) })),
      };
      const got = await gpu.forward(x, { training: true, keepForBackward: false, ...masks });
      const want = await ref.forward(x, { training: true, keepForBackward: false, ...masks });
      expect(got.backend).toBe('webgpu');
      expectClose(got.output.data, want.output.data, `resetAfter ${resetAfter}`);
      gpu.dispose();
      ref.dispose();
    }
  });

  it('reuses its buffers across calls and frees them on dispose()', async () => {
    const base = backend.memoryInUse();
    const spec = makeSpec({ units: 8, inputDim: 5 });
    const weights = makeWeights(spec, 1);
    const prepared = await backend.prepare(spec, weights);
    const afterPrepare = backend.memoryInUse();
    expect(afterPrepare).toBeGreaterThan(base);
    await prepared.forward(makeRequest(spec, 2, { batch: 4, timesteps: 6 }));
    const afterFirst = backend.memoryInUse();
    for (let i = 0; i < 5; i++) await prepared.forward(makeRequest(spec, 3 + i, { batch: 4, timesteps: 6 }));
    expect(backend.memoryInUse()).toBe(afterFirst);
    // A smaller call fits in the same buffers.
    await compareWithReference(prepared, weights, makeRequest(spec, 9, { batch: 2, timesteps: 3 }), 'smaller call');
    expect(backend.memoryInUse()).toBe(afterFirst);
    prepared.dispose();
    prepared.dispose();
    expect(backend.memoryInUse()).toBe(base);
    await expect(prepared.forward(makeRequest(spec, 2, { batch: 1, timesteps: 1 }))).rejects.toThrow(/disposed/);
  });

  it('a prepared layer dropped without dispose() frees its GPU memory when collected', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run with --expose-gc (vitest.config.ts passes it)');
    const base = backend.memoryInUse();
    await (async () => {
      const spec = makeSpec({ units: 16, inputDim: 4 });
      const prepared = await backend.prepare(spec, makeWeights(spec, 1));
      await prepared.forward(makeRequest(spec, 2, { batch: 2, timesteps: 3 }));
    })();
    expect(backend.memoryInUse()).toBeGreaterThan(base);
    for (let i = 0; i < 50 && backend.memoryInUse() > base; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(backend.memoryInUse()).toBe(base);
  });

  it('runs concurrent calls on one layer one after another, each with its own result', async () => {
    const spec = makeSpec({ units: 10, inputDim: 3 });
    const weights = makeWeights(spec, 4);
    const prepared = await backend.prepare(spec, weights);
    const requests = Array.from({ length: 6 }, (_, i) => makeRequest(spec, 20 + i, { batch: 1 + i, timesteps: 2 + i, mask: i % 2 === 0 }));
    const results = await Promise.all(requests.map((r) => prepared.forward(r)));
    results.forEach((got, i) => expectClose(got.output, referenceForward(spec, weights, requests[i]).output, `call ${i}`));
    prepared.dispose();
  });

  it('setWeights() re-uploads the weights', async () => {
    const spec = makeSpec({ units: 4, inputDim: 2, resetAfter: false });
    const prepared = await backend.prepare(spec, makeWeights(spec, 5));
    const next = makeWeights(spec, 6);
    await prepared.setWeights(next);
    await compareWithReference(prepared, next, makeRequest(spec, 7, { batch: 2, timesteps: 4 }), 'after setWeights');
    await expect(Promise.resolve().then(() => prepared.setWeights({ ...next, kernel: new Float32Array(3) }))).rejects.toThrow(
      'webgpu setWeights: `weights.kernel` must be a Float32Array or Float64Array of 24 values ([inputDim, 3*units] = [2, 12]); received Float32Array(3).',
    );
    prepared.dispose();
  });

  it('refuses requests whose arrays do not match their shapes, naming the argument', async () => {
    const spec = makeSpec({ units: 4, inputDim: 2 });
    const prepared = await backend.prepare(spec, makeWeights(spec, 8));
    const good = makeRequest(spec, 1, { batch: 2, timesteps: 3 });
    await expect(prepared.forward({ ...good, x: new Float32Array(5) })).rejects.toThrow(
      'webgpu forward: `x` must be a Float32Array or Float64Array of 12 values ([batch, timesteps, inputDim] = [2, 3, 2]); received Float32Array(5).',
    );
    await expect(prepared.forward({ ...good, mask: new Uint8Array(5) })).rejects.toThrow(/`mask` must be a Uint8Array of 6 values .*received Uint8Array\(5\)/);
    await expect(prepared.forward({ ...good, initialState: new Float32Array(3) })).rejects.toThrow(
      /`initialState` must be a Float32Array or Float64Array of 8 values/,
    );
    await expect(prepared.forward({ ...good, recurrentDropoutMasks: [new Float32Array(8), new Float32Array(8), new Float32Array(7)] })).rejects.toThrow(
      /`recurrentDropoutMasks\[2\]` must be a Float32Array or Float64Array of 8 values/,
    );
    // Anything but typed arrays of numbers would have become NaN on the way to the GPU.
    await expect(prepared.forward({ ...good, x: Array.from({ length: 12 }, () => 'a') as never })).rejects.toThrow(
      'webgpu forward: `x` must be a Float32Array or Float64Array of 12 values ([batch, timesteps, inputDim] = [2, 3, 2]); received Array(12).',
    );
    await expect(prepared.forward({ ...good, initialState: { length: 8 } as never })).rejects.toThrow(
      /`initialState` must be a Float32Array .*received object\./,
    );
    await expect(prepared.forward({ ...good, mask: [1, 1, 1, 1, 1, 1] as never })).rejects.toThrow(
      /`mask` must be a Uint8Array of 6 values .*received Array\(6\)/,
    );
    await expect(prepared.forward({ ...good, inputDropoutMasks: {} as never })).rejects.toThrow(
      /`inputDropoutMasks` must be an array of 3 masks .*received object\./,
    );
    await expect(prepared.forward(null as never)).rejects.toThrow('webgpu forward: `request` must be an object {x, batch, timesteps, ...}; received null.');
    await expect(prepared.setWeights(null as never)).rejects.toThrow(
      /webgpu setWeights: `weights` must be an object \{kernel, recurrentKernel, bias\}; received null/,
    );
    await expect(prepared.setWeights({ ...makeWeights(spec, 8), kernel: Array(24).fill('x') as never })).rejects.toThrow(
      /webgpu setWeights: `weights.kernel` must be a Float32Array or Float64Array of 24 values .*; received Array\(24\)/,
    );
    // The layer is still fine after refusing.
    await compareWithReference(prepared, makeWeights(spec, 8), good, 'after refusals');
    prepared.dispose();
  });

  it('configure() is refused once loaded', () => {
    expect(() => backend.configure({ recurrence: 'fused' })).toThrow(/already loaded; call dispose\(\) first/);
  });
});

describe('a device supplied by the application', () => {
  let device: GPUDevice;
  let shared: WebGpuBackend;
  beforeAll(async () => {
    device = await appDevice();
    shared = createWebGpuBackend({ name: 'webgpu-shared', device });
  });
  afterAll(() => device.destroy());

  it('is used as given and survives the backend being disposed', async () => {
    await shared.load();
    expect(shared.device).toBe(device);
    expect(shared.info?.ownsDevice).toBe(false);
    const spec = makeSpec({ units: 5, inputDim: 3 });
    const weights = makeWeights(spec, 1);
    const prepared = await shared.prepare(spec, weights);
    await compareWithReference(prepared, weights, makeRequest(spec, 2, { batch: 2, timesteps: 4 }), 'shared device');
    shared.dispose();
    expect(shared.memoryInUse()).toBe(0);
    // The app's device still works.
    const buf = device.createBuffer({ size: 16, usage: 0x01 | 0x08 });
    await buf.mapAsync(0x01);
    buf.destroy();
  });

  it('device loss is reported as an error on the next call, not a hang', async () => {
    const own = await appDevice();
    const b = createWebGpuBackend({ name: 'webgpu-lost', device: own });
    const spec = makeSpec({ units: 5, inputDim: 3 });
    const prepared = await b.prepare(spec, makeWeights(spec, 1));
    own.destroy();
    await own.lost;
    await expect(prepared.forward(makeRequest(spec, 2, { batch: 2, timesteps: 4 }))).rejects.toThrow(/device was lost \(destroyed/);
    expect(b.isLoaded()).toBe(false);
    await expect(b.prepare(spec, makeWeights(spec, 1))).rejects.toThrow(/supplied to backend 'webgpu-lost' was lost/);
    b.dispose();
  });

  it("precision 'f16' on a device without shader-f16 fails with the reason", async () => {
    const plain = await appDevice();
    const b = createWebGpuBackend({ name: 'webgpu-no-f16', device: plain, precision: 'f16' });
    await expect(b.load()).rejects.toThrow(/'shader-f16', which the supplied device was not created with/);
    plain.destroy();
  });
});

describe("precision 'f16' (weights stored as f16)", () => {
  it('stays within f16 rounding of the reference, and really differs from f32', async (ctx) => {
    const b = createWebGpuBackend({ name: 'webgpu-f16', precision: 'f16', allowFallbackAdapter: true });
    try {
      await b.load();
    } catch (err) {
      // SwiftShader-class adapters lack shader-f16; lavapipe (what CI uses) has it.
      if (/shader-f16/.test((err as Error).message)) return ctx.skip(`adapter has no shader-f16: ${(err as Error).message}`);
      throw err;
    }
    for (const recurrence of ['fused', 'stepwise'] as const) {
      const spec = makeSpec({ units: 24, inputDim: 6, resetAfter: recurrence === 'fused' });
      const weights = makeWeights(spec, 31);
      const req = makeRequest(spec, 32, { batch: 3, timesteps: 10, mask: true });
      const prepared = await b.prepare(spec, weights);
      const got = await prepared.forward(req);
      const want = referenceForward(spec, weights, req);
      expectClose(got.output, want.output, `f16 ${recurrence}`, 5e-3, 5e-3);
      const maxDiff = Math.max(...Array.from(got.output, (v, i) => Math.abs(v - want.output[i])));
      expect(maxDiff).toBeGreaterThan(1e-5);
      prepared.dispose();
    }
    b.dispose();
  });
});
