import { plainCallInfo, type GruCallInfo, type GruSpec } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend, createWasmBackend } from '../src/index.js';
import { makeCase } from './helpers.js';

const call: GruCallInfo = { ...plainCallInfo(2, 3), returnSequences: true };
const spec: GruSpec = { units: 4, inputDim: 3, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };

beforeAll(() => backend.load());

describe('supports() says why it declines', () => {
  it('accepts every mask kind, goBackwards, initial state and dropout masks', () => {
    for (const mask of ['none', 'right-padded', 'any'] as const) {
      expect(
        backend.supports(spec, { ...call, mask, goBackwards: true, initialState: true, inputDropoutPerGate: true, recurrentDropout: true, training: true }),
      ).toBe(true);
    }
    expect(backend.supports({ ...spec, useBias: false, resetAfter: false }, call)).toBe(true);
  });

  it('declines float64, naming the dtype', () => {
    expect(backend.supports({ ...spec, dtype: 'float64' }, call)).toMatch(/float32 only \(dtype 'float64'/);
  });

  it("runs row-wise activations, and declines the ones a GRU of these units cannot run with core's reason", () => {
    expect(backend.supports({ ...spec, activation: 'softmax' }, call)).toBe(true);
    expect(backend.supports({ ...spec, recurrentActivation: 'sparsemax' }, call)).toBe(true);
    expect(backend.supports({ ...spec, units: 2, activation: 'glu' }, call)).toBe(true);
    expect(backend.supports({ ...spec, activation: 'glu' }, call)).toMatch(/^activation 'glu' halves the last axis/);
    expect(backend.supports({ ...spec, recurrentActivation: 'threshold' }, call)).toMatch(/^recurrentActivation 'threshold' needs/);
  });

  it('accepts calls that want gradients in float32, and says why not in float64', () => {
    expect(backend.supports(spec, { ...call, backward: true, training: true, recurrentDropout: true, mask: 'any' })).toBe(true);
    expect(backend.supportsBackward?.(spec)).toBe(true);
    expect(backend.supportsBackward?.({ ...spec, dtype: 'float64' })).toMatch(/float32 only \(dtype 'float64'/);
    expect(backend.supportsBackward?.({ ...spec, activation: 'softmax' })).toMatch(/^activation 'softmax'/);
  });

  it('counts what a training call keeps for backward against the 4 GiB', () => {
    const big = { ...call, batch: 64, timesteps: 20_000 };
    expect(backend.supports({ ...spec, units: 256 }, big)).toBe(true);
    expect(backend.supports({ ...spec, units: 256 }, { ...big, backward: true, training: true })).toMatch(/beyond the 4 GiB/);
  });

  it("counts all of backward's memory (output gradients, dx, transposed weights, scratch) against the 4 GiB", () => {
    // Forward with what it keeps (~3.4 GB) fits; the backward pass adds dx, as large as x.
    const wide = { ...spec, inputDim: 4096, units: 8 };
    const long = { ...call, batch: 1, timesteps: 200_000 };
    expect(backend.supports(wide, long)).toBe(true);
    expect(backend.supports(wide, { ...long, backward: true, training: true })).toMatch(
      /^the call needs 6\.\d+ GiB of WebAssembly memory \(weights, the forward call's buffers and the backward pass's\), beyond the 4 GiB/,
    );
  });

  it('declines calls that cannot fit in 4 GiB of WebAssembly memory', () => {
    expect(backend.supports({ ...spec, units: 1024, inputDim: 1 }, { ...call, batch: 1, timesteps: 1_100_000 })).toMatch(
      /GiB of WebAssembly memory .* beyond the 4 GiB/,
    );
  });
});

describe('bad input gets an error naming the argument, the expected and the received value', () => {
  const { weights, request } = makeCase({ B: 2, T: 3, D: 3, H: 4 }, 1);

  it('weights', () => {
    expect(() => backend.prepareSync(spec, { ...weights, kernel: new Float32Array(5) })).toThrow(
      'wasm prepare: `weights.kernel` must be a Float32Array or Float64Array of 36 values ([inputDim, 3*units] = [3, 12]); received Float32Array(5).',
    );
    expect(() => backend.prepareSync(spec, { ...weights, recurrentKernel: [1, 2] as unknown as Float32Array })).toThrow(
      /`weights.recurrentKernel` must be a Float32Array or Float64Array .* received Array\(2\)/,
    );
    expect(() => backend.prepareSync(spec, { ...weights, bias: new Float32Array(12) })).toThrow(
      '`weights.bias` must be a Float32Array or Float64Array of 24 values ([2, 3*units] = [2, 12]); received Float32Array(12).',
    );
    expect(() => backend.prepareSync({ ...spec, useBias: false }, weights)).toThrow(/`weights.bias` must be null when spec.useBias is false/);
  });

  it('spec', () => {
    expect(() => backend.prepareSync({ ...spec, units: 0 }, weights)).toThrow('wasm prepare: `spec.units` must be an integer >= 1; received number 0.');
    expect(() => backend.prepareSync({ ...spec, dtype: 'float64' }, weights)).toThrow(/spec.dtype must be 'float32'.*received 'float64'/);
    expect(() => backend.prepareSync({ ...spec, activation: 'glu' }, weights)).toThrow(/spec.activation: 'glu' halves the last axis/);
  });

  it('requests', () => {
    const p = backend.prepareSync(spec, weights);
    try {
      expect(() => p.forwardSync({ ...request, x: new Float32Array(17) })).toThrow(
        'wasm forward: `x` must be a Float32Array or Float64Array of 18 values ([batch, timesteps, inputDim] = [2, 3, 3]); received Float32Array(17).',
      );
      expect(() => p.forwardSync({ ...request, batch: 1.5 })).toThrow('`batch` must be a non-negative integer; received number 1.5.');
      expect(() => p.forwardSync({ ...request, timesteps: -1, x: new Float32Array(0) })).toThrow(
        'wasm forward: `timesteps` must be a non-negative integer; received number -1.',
      );
      expect(() => p.forwardSync({ ...request, initialState: new Float32Array(7) })).toThrow(
        '`initialState` must be a Float32Array or Float64Array of 8 values ([batch, units] = [2, 4]); received Float32Array(7).',
      );
      expect(() => p.forwardSync({ ...request, mask: new Uint8Array(5) })).toThrow(
        '`mask` must be a Uint8Array of 6 values ([batch, timesteps] = [2, 3]); received Uint8Array(5).',
      );
      expect(() => p.forwardSync({ ...request, mask: [1, 1, 1, 1, 1, 1] as unknown as Uint8Array })).toThrow(
        /`mask` must be a Uint8Array .* received Array\(6\)/,
      );
      const two = [new Float32Array(8), new Float32Array(8)] as unknown as [Float32Array, Float32Array, Float32Array];
      expect(() => p.forwardSync({ ...request, recurrentDropoutMasks: two })).toThrow(
        '`recurrentDropoutMasks` must be an array of 3 masks (gates z, r, h); received Array(2).',
      );
      const bad = [new Float32Array(6), new Float32Array(6), new Float32Array(5)] as const;
      expect(() => p.forwardSync({ ...request, inputDropoutMasks: bad })).toThrow(
        '`inputDropoutMasks[2]` must be a Float32Array or Float64Array of 6 values ([batch, inputDim] = [2, 3]); received Float32Array(5).',
      );
      // A failed call leaves nothing allocated behind it.
      const inUse = backend.memoryInUse();
      expect(() => p.forwardSync({ ...request, x: new Float32Array(1) })).toThrow();
      expect(backend.memoryInUse()).toBe(inUse);
    } finally {
      p.dispose();
    }
  });

  it('refuses look-alike arrays (a Proxy passes instanceof) before they reach wasm memory, and answers supports() on a non-object', () => {
    const p = backend.prepareSync(spec, weights);
    try {
      expect(() => p.forwardSync({ ...request, x: new Proxy(request.x, {}) })).toThrow(
        /wasm forward: `x` must be a Float32Array or Float64Array of 18 values .*received object that claims to be a Float32Array but is not one/,
      );
      expect(() => p.forwardSync({ ...request, batch: '2' as never })).toThrow('`batch` must be a non-negative integer; received string "2".');
    } finally {
      p.dispose();
    }
    expect(backend.supports(null as never, call)).toMatch(/`spec` must be an object .*received null/);
    expect(backend.supports(spec, undefined as never)).toMatch(/`call` must be an object .*received undefined/);
    expect(backend.supportsBackward?.(null as never)).toMatch(/`spec` must be an object .*received null/);
  });

  it('a call too large for 32-bit WebAssembly memory gets a clear error before anything is allocated', () => {
    const big: GruSpec = { ...spec, units: 1024, inputDim: 1 };
    const H = 1024;
    const p = backend.prepareSync(big, { kernel: new Float32Array(3 * H), recurrentKernel: new Float32Array(3 * H * H), bias: new Float32Array(6 * H) });
    try {
      const T = 1_100_000;
      expect(() => p.forwardSync({ x: new Float32Array(T), batch: 1, timesteps: T, goBackwards: false, returnSequences: true })).toThrow(
        /a call with batch=1, timesteps=1100000 \(inputDim=1, units=1024\) needs 4\.\d+ GiB of WebAssembly memory .* beyond the 4 GiB .* Split the batch or the sequence/,
      );
    } finally {
      p.dispose();
    }
  });

  it('a disposed layer, and a layer of a disposed backend, refuse to run', () => {
    const own = createWasmBackend({ name: 'wasm-disposable' });
    return own.load().then(() => {
      const p = own.prepareSync(spec, weights);
      const q = own.prepareSync(spec, weights);
      p.dispose();
      p.dispose(); // idempotent
      expect(() => p.forwardSync(request)).toThrow(/was disposed; prepare it again/);
      own.dispose();
      expect(() => q.forwardSync(request)).toThrow(/backend this layer was prepared on was disposed/);
      expect(own.memoryInUse()).toBe(0);
    });
  });

  it('prepareSync before load() says what to do', () => {
    const fresh = createWasmBackend({ name: 'wasm-unloaded' });
    expect(fresh.isLoaded()).toBe(false);
    expect(() => fresh.prepareSync(spec, weights)).toThrow(
      "The 'wasm-unloaded' backend is not loaded: await its load() (or loadBackend('wasm-unloaded')) before synchronous use.",
    );
  });

  it('createWasmBackend checks its options', () => {
    expect(() => createWasmBackend({ projectionBudgetBytes: -1 })).toThrow(/projectionBudgetBytes must be a positive number; received -1/);
    expect(() => createWasmBackend(null as unknown as object)).toThrow(/options must be an object/);
  });
});
