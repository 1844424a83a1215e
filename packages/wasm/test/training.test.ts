import { GRU, type GruGradients } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WASM_ACTIVATIONS, backend, createWasmBackend } from '../src/index.js';
import { FIRST_ROWWISE_CODE } from '../src/activation-codes.js';
import { ThreadPool } from '../src/thread-pool.js';
import { compareGradients } from './gradients.js';
import { makeCase, rng, type Config } from './helpers.js';

function bitwiseEqual(a: ArrayLike<number> | null, b: ArrayLike<number> | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const GRADS = ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const;

function cotangents(cfg: Config, seed: number) {
  const rand = rng(seed);
  const rows = cfg.returnSequences === false ? cfg.B : cfg.B * cfg.T;
  return { dOutput: rand.uniform(rows * cfg.H), dLastState: rand.uniform(cfg.B * cfg.H) };
}

beforeAll(() => backend.load());

describe('every activation the wasm backend runs, differentiated', () => {
  // The row-wise ones run forward only: their backward is declined (test below).
  for (const id of WASM_ACTIVATIONS.slice(0, FIRST_ROWWISE_CODE)) {
    for (const role of ['activation', 'recurrentActivation'] as const) {
      it(`${role} ${id}`, async () => {
        const cfg: Config = { B: 3, T: 5, D: 6, H: 9, [role]: id, mask: true, resetAfter: role === 'activation' };
        const { spec, weights, request } = makeCase(cfg, 77);
        const { dOutput, dLastState } = cotangents(cfg, 78);
        const core = await import('@gru/core');
        const ref = core.referenceForward(spec, weights, { ...request, keepForBackward: true });
        const want = core.referenceBackward(spec, ref.saved as NonNullable<typeof ref.saved>, { dOutput, dLastState });
        const p = backend.prepareSync(spec, weights);
        const got = p.backwardSync?.(p.forwardSync({ ...request, keepForBackward: true }).saved, { dOutput, dLastState }) as GruGradients;
        p.dispose();
        for (const [key, r] of Object.entries(compareGradients(got, want))) expect(r, `${key} scaled error ${r}`).toBeLessThanOrEqual(1);
      });
    }
  }
});

describe('row-wise activations: forward runs, backward is declined with the reason', () => {
  for (const id of WASM_ACTIVATIONS.slice(FIRST_ROWWISE_CODE)) {
    it(id, () => {
      const units = id === 'glu' ? 2 : 4;
      const spec = { units, inputDim: 3, activation: 'tanh', recurrentActivation: id, useBias: true, resetAfter: true, dtype: 'float32' } as const;
      expect(backend.supportsBackward?.(spec)).toBe(`recurrentActivation '${id}' has no derivative in the wasm backward kernels`);
    });
  }
});

describe('training on worker threads', () => {
  const two = createWasmBackend({ name: 'wasm-train-threads', threads: 2, syncBelowMacs: 0, minStepMacsPerThread: 0 });
  const three = createWasmBackend({ name: 'wasm-train-threads-3', threads: 3, syncBelowMacs: 0, minStepMacsPerThread: 0 });
  beforeAll(() => Promise.all([two.load(), three.load()]));
  afterAll(() => {
    two.dispose();
    three.dispose();
  });

  it('gives bitwise the gradients of one thread (forward and backward on the workers)', { timeout: 120_000 }, async () => {
    const onPool = vi.spyOn(ThreadPool.prototype, 'runBackward');
    const flags = ['resetAfter', 'goBackwards', 'returnSequences', 'mask', 'initialState', 'inputDropout', 'recurrentDropout'] as const;
    let compared = 0;
    for (let bits = 0; bits < 1 << flags.length; bits += 5) {
      // Units in three 32-unit shares (the last partial), rows of dKernel and dRecurrentKernel that
      // split unevenly, and more dx blocks than workers.
      const cfg: Config = { B: 3, T: 180, D: 13, H: 70 };
      flags.forEach((f, i) => ((cfg as unknown as Record<string, boolean>)[f] = (bits & (1 << i)) !== 0));
      const { spec, weights, request } = makeCase(cfg, bits + 5);
      const { dOutput, dLastState } = cotangents(cfg, bits);
      const one = backend.prepareSync(spec, weights);
      const want = one.backwardSync(one.forwardSync({ ...request, keepForBackward: true }).saved, { dOutput, dLastState });
      one.dispose();
      for (const threaded of [two, three]) {
        const p = await threaded.prepare(spec, weights);
        const fwd = await p.forward({ ...request, keepForBackward: true });
        const got = await p.backward(fwd.saved, { dOutput, dLastState });
        p.dispose();
        for (const key of GRADS) expect(bitwiseEqual(got[key], want[key]), `${threaded.name} ${key} ${JSON.stringify(cfg)}`).toBe(true);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(50);
    expect(onPool).toHaveBeenCalledTimes(compared);
    onPool.mockRestore();
    expect(two.memoryInUse() + three.memoryInUse()).toBe(0);
  });
});

describe('what forward keeps for backward is freed', () => {
  const cfg: Config = { B: 4, T: 12, D: 7, H: 20, mask: true, recurrentDropout: true };

  it('many training steps on one prepared layer hold one call at a time; dispose frees it', () => {
    const { spec, weights, request } = makeCase(cfg, 3);
    const { dOutput } = cotangents(cfg, 4);
    const before = backend.memoryInUse();
    const p = backend.prepareSync(spec, weights);
    const afterPrepare = backend.memoryInUse();
    let held = 0;
    for (let step = 0; step < 300; step++) {
      const fwd = p.forwardSync({ ...request, keepForBackward: true });
      p.backwardSync(fwd.saved, { dOutput });
      if (step === 0) held = backend.memoryInUse();
      // New weights each step, as an optimizer gives: the kept call pins the copy it used.
      if (step % 3 === 0) p.setWeights({ ...weights, kernel: weights.kernel.map((v) => v * 0.999) });
      expect(backend.memoryInUse()).toBeLessThanOrEqual(held + (held - afterPrepare) + 4096);
    }
    expect(held).toBeGreaterThan(afterPrepare);
    p.dispose();
    expect(backend.memoryInUse()).toBe(before);
  });

  it('through the GRU layer: training calls and backward, memory stays flat', async () => {
    const layer = new GRU({ units: 16, returnSequences: false, recurrentDropout: 0.2, dropout: 0.1, seed: 5 });
    const x = { shape: [3, 10, 4], data: rng(9).uniform(120) };
    await layer.forward(x, { training: true, backend: 'wasm' });
    await layer.backward({ shape: [3, 16], data: new Float32Array(48).fill(1) });
    const held = backend.memoryInUse();
    for (let step = 0; step < 100; step++) {
      const out = await layer.forward(x, { training: true, backend: 'wasm' });
      expect(out.backend).toBe('wasm');
      const g = await layer.backward({ shape: [3, 16], data: new Float32Array(48).fill(1) });
      expect(g.kernel.data.every(Number.isFinite)).toBe(true);
    }
    expect(backend.memoryInUse()).toBe(held);
    layer.dispose();
    expect(backend.memoryInUse()).toBe(0);
  });

  it('backward differentiates the weights the forward call used, even after setWeights', () => {
    const { spec, weights, request } = makeCase(cfg, 21);
    const { dOutput } = cotangents(cfg, 22);
    const fresh = backend.prepareSync(spec, weights);
    const want = fresh.backwardSync(fresh.forwardSync({ ...request, keepForBackward: true }).saved, { dOutput });
    fresh.dispose();
    const p = backend.prepareSync(spec, weights);
    const { saved } = p.forwardSync({ ...request, keepForBackward: true });
    p.setWeights({ ...weights, kernel: weights.kernel.map((v) => -v), recurrentKernel: weights.recurrentKernel.map((v) => 2 * v) });
    const got = p.backwardSync(saved, { dOutput });
    for (const key of GRADS) expect(bitwiseEqual(got[key], want[key]), key).toBe(true);
    p.dispose();
    expect(backend.memoryInUse()).toBe(0);
  });

  it('keepForBackwardCalls keeps more calls; an evicted call says so', () => {
    const { spec, weights, request } = makeCase(cfg, 3);
    const { dOutput } = cotangents(cfg, 4);
    const two = createWasmBackend({ name: 'wasm-keep-2', keepForBackwardCalls: 2 });
    return two.load().then(() => {
      const p = two.prepareSync(spec, weights);
      const a = p.forwardSync({ ...request, keepForBackward: true });
      const b = p.forwardSync({ ...request, keepForBackward: true });
      const c = p.forwardSync({ ...request, keepForBackward: true });
      expect(() => p.backwardSync(a.saved, { dOutput })).toThrow(/was released: a prepared layer keeps it for its last 2 keepForBackward calls/);
      expect(bitwiseEqual(p.backwardSync(b.saved, { dOutput }).dKernel, p.backwardSync(c.saved, { dOutput }).dKernel)).toBe(true);
      p.dispose();
      expect(two.memoryInUse()).toBe(0);
      two.dispose();
    });
  });
});

describe('backward says what is wrong with its arguments', () => {
  const cfg: Config = { B: 2, T: 3, D: 4, H: 5 };
  const { spec, weights, request } = makeCase(cfg, 11);

  it('names the argument, the expected and the received value', () => {
    const p = backend.prepareSync(spec, weights);
    const { saved } = p.forwardSync({ ...request, keepForBackward: true });
    const dOutput = new Float32Array(2 * 3 * 5);
    expect(() => p.backwardSync(saved, { dOutput: new Float32Array(7) })).toThrow(
      /wasm backward: `dOutput` must be a Float32Array or Float64Array of 30 values \(\[batch, timesteps, units\] = \[2, 3, 5\]\); received Float32Array\(7\)/,
    );
    expect(() => p.backwardSync(saved, { dOutput: [1, 2] as unknown as Float32Array })).toThrow(
      /`dOutput` must be a Float32Array or Float64Array .* received Array\(2\)/,
    );
    expect(() => p.backwardSync(saved, { dOutput, dLastState: new Float32Array(3) })).toThrow(
      /`dLastState` must be a Float32Array or Float64Array of 10 values/,
    );
    expect(() => p.backwardSync(saved, null as never)).toThrow(
      /wasm backward: `request` must be an object \{dOutput, dLastState\?, inputGradients\?\}; received null/,
    );
    expect(() => p.backwardSync(undefined, { dOutput })).toThrow(
      /needs the `saved` of a forward call made with keepForBackward: true on this prepared layer; received undefined/,
    );
    expect(() => p.backwardSync({ pre: 1 }, { dOutput })).toThrow(/received object\./);
    const other = backend.prepareSync(spec, weights);
    expect(() => other.backwardSync(saved, { dOutput })).toThrow(/received another layer's saved/);
    other.dispose();
    // A forward call without keepForBackward keeps nothing.
    expect(p.forwardSync(request).saved).toBeUndefined();
    p.dispose();
    expect(() => p.backwardSync(saved, { dOutput })).toThrow(/this prepared layer was disposed/);
    expect(backend.memoryInUse()).toBe(0);
  });

  it('rejects (does not throw) from the async backward', async () => {
    const p = backend.prepareSync(spec, weights);
    await expect(p.backward(42, { dOutput: new Float32Array(30) })).rejects.toThrow(/keepForBackward/);
    p.dispose();
  });

  it('an empty batch differentiates to empty and zero gradients', () => {
    const p = backend.prepareSync(spec, weights);
    const { saved } = p.forwardSync({ ...request, x: new Float32Array(0), batch: 0, keepForBackward: true });
    const g = p.backwardSync(saved, { dOutput: new Float32Array(0) });
    expect(g.dx.length).toBe(0);
    expect(g.dKernel.length).toBe(4 * 15);
    expect(g.dKernel.every((v) => v === 0)).toBe(true);
    p.dispose();
  });

  it('says so when the backend was disposed between forward and backward', async () => {
    const own = createWasmBackend({ name: 'wasm-disposed' });
    await own.load();
    const p = own.prepareSync(spec, weights);
    const { saved } = p.forwardSync({ ...request, keepForBackward: true });
    own.dispose();
    expect(() => p.backwardSync(saved, { dOutput: new Float32Array(30) })).toThrow(/the backend this layer was prepared on was disposed/);
  });

  it('rejects a bad keepForBackwardCalls', () => {
    expect(() => createWasmBackend({ keepForBackwardCalls: 0 })).toThrow(/keepForBackwardCalls must be a positive integer; received 0/);
  });
});
