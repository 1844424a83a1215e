import { GRU, GRUCell, getBackend, listBackends, loadBackend, referenceForward, type GruCallInfo, type GruSpec } from '@gru/core';
import { describe, expect, it } from 'vitest';
import cpu, { backend, cpuSupports, createCpuBackend } from '../src/index.js';
import { loadAddon } from '../src/loader.js';
import { assertClose, makeCase } from './helpers.js';

const spec: GruSpec = { units: 4, inputDim: 3, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const call: GruCallInfo = {
  batch: 2,
  timesteps: 5,
  mask: 'any',
  initialState: true,
  goBackwards: true,
  returnSequences: true,
  inputDropoutPerGate: true,
  recurrentDropout: true,
  recurrentDropoutRate: 0.2,
  training: true,
  backward: false,
  unroll: true,
};

describe('the cpu backend', () => {
  it('registers itself on import, above wasm and the reference backend', () => {
    expect(cpu).toBe(backend);
    expect(getBackend('cpu')).toBe(backend);
    expect(backend.priority).toBeGreaterThan(10);
    expect(listBackends()[0].priority).toBeGreaterThanOrEqual(backend.priority);
  });

  it('supports every call option Keras has, for elementwise activations', () => {
    expect(cpuSupports(spec, call)).toBe(true);
    expect(cpuSupports({ ...spec, resetAfter: false, useBias: false, activation: 'relu', recurrentActivation: 'keras2_hard_sigmoid' }, call)).toBe(true);
    for (const a of ['linear', 'hard_sigmoid', 'gelu', 'silu', 'elu', 'selu', 'softsign', 'mish'])
      expect(cpuSupports({ ...spec, activation: a }, call)).toBe(true);
  });

  it('declines what it cannot run, with the reason', () => {
    expect(cpuSupports({ ...spec, dtype: 'float64' }, call)).toBe("the cpu backend computes in float32 only (dtype 'float64' runs on the reference backend)");
    // Row-wise activations run forward; glu only at units = 2 (as in Keras), with core's reason elsewhere.
    expect(cpuSupports({ ...spec, activation: 'softmax' }, { ...call, backward: false })).toBe(true);
    expect(cpuSupports({ ...spec, recurrentActivation: 'log_softmax' }, { ...call, backward: false })).toBe(true);
    expect(cpuSupports({ ...spec, units: 2, activation: 'glu' }, { ...call, backward: false })).toBe(true);
    expect(cpuSupports({ ...spec, activation: 'glu' }, call)).toMatch(/^activation 'glu' halves the last axis/);
    expect(cpuSupports({ ...spec, recurrentActivation: 'sparsemax' }, { ...call, backward: true })).toMatch(
      /^the cpu backend has no backward pass for the row-wise activation 'sparsemax'/,
    );
    expect(cpuSupports(spec, { ...call, backward: true })).toBe(true);
    expect(backend.supportsBackward?.(spec)).toBe(true);
    expect(backend.supportsBackward?.({ ...spec, dtype: 'float64' })).toMatch(/float32 only/);
    expect(backend.supportsBackward?.({ ...spec, activation: 'softmax' })).toMatch(/no backward pass for the row-wise activation 'softmax'/);
    expect(cpuSupports({ ...spec, units: 2 ** 21 }, call)).toMatch(/at most 1048576 units/);
  });

  it('runs GRU layers through @gru/core, async and sync, and matches the reference', async () => {
    const layer = new GRU({ units: 24, returnSequences: true, returnState: true, goBackwards: true });
    const c = makeCase({ B: 3, T: 7, D: 5, H: 24 });
    layer.setWeights({
      kernel: { shape: [5, 72], data: c.weights.kernel },
      recurrentKernel: { shape: [24, 72], data: c.weights.recurrentKernel },
      bias: { shape: [2, 72], data: c.weights.bias! },
    });
    const x = { shape: [3, 7, 5], data: c.request.x };
    const r = await layer.forward(x);
    expect(r.backend).toBe('cpu');
    await loadBackend('cpu');
    const s = layer.forwardSync(x);
    expect(s.backend).toBe('cpu');
    const want = referenceForward(c.spec, c.weights, { ...c.request, goBackwards: true });
    assertClose(r.output.data, want.output, 'output');
    assertClose(s.state!.data, want.lastState, 'state');
    layer.dispose();
  });

  it('falls back to the reference backend for what it declines, and says why', async () => {
    const f64 = new GRU({ units: 4, dtype: 'float64' });
    const r = await f64.forward({ shape: [1, 2, 3], data: new Float64Array(6) });
    expect(r.backend).toBe('reference');
    expect(r.skipped.find((s) => s.name === 'cpu')?.reason).toMatch(/the cpu backend computes in float32 only/);
  });

  it('trains through @gru/core: forward with training, then backward, matching the reference backend', async () => {
    const make = () => {
      const layer = new GRU({ units: 6, dropout: 0.3, recurrentDropout: 0.2, seed: 3, returnSequences: true, goBackwards: true });
      layer.build([2, 4, 5]);
      return layer;
    };
    const c = makeCase({ B: 2, T: 4, D: 5, H: 6 });
    const x = { shape: [2, 4, 5], data: c.request.x };
    const dOut = { shape: [2, 4, 6], data: Float32Array.from({ length: 48 }, (_, i) => Math.sin(i)) };
    const onCpu = make();
    const onRef = make();
    onRef.setWeights(onCpu.getWeights());
    const a = await onCpu.forward(x, { training: true });
    const b = await onRef.forward(x, { training: true, backend: 'reference' });
    expect(a.backend).toBe('cpu');
    assertClose(a.output.data, b.output.data, 'output');
    const ga = await onCpu.backward(dOut);
    const gb = await onRef.backward(dOut);
    for (const k of ['inputs', 'kernel', 'recurrentKernel', 'bias'] as const) {
      assertClose(ga[k]!.data, gb[k]!.data, k, { atol: 1e-5, rtol: 1e-4 });
    }
    const sync = onCpu.backwardSync(dOut);
    expect(Array.from(sync.kernel.data)).toEqual(Array.from(ga.kernel.data));
  });

  it('a GRUCell step request runs as a one-step sequence', async () => {
    const cell = new GRUCell({ units: 6 });
    cell.build([null, 4]);
    const states = cell.getInitialState(2);
    const request = cell.stepRequest({ shape: [2, 4], data: new Float32Array(8).fill(0.25) }, states, {});
    const prepared = await backend.prepare(cell.spec(), cell.gruWeights());
    const got = await prepared.forward(request);
    const want = referenceForward(cell.spec(), cell.gruWeights(), request);
    assertClose(got.output, want.output, 'output');
    prepared.dispose();
  });
});

describe('saturation (issue 13)', () => {
  // sigmoid(100) is exactly 1 in float32, so h = z h0 + (1 - z) hh = 0; the old kernels' sigmoid
  // stopped at 0.99999988 and gave (1 - z) 1000 = 1.19e-4.
  it('units=1, activation linear, kernel [100, 0, 1000], x = 1 gives 0, as Keras, on every instruction set', async () => {
    const one: GruSpec = { units: 1, inputDim: 1, activation: 'linear', recurrentActivation: 'sigmoid', useBias: false, resetAfter: true, dtype: 'float32' };
    for (const isa of loadAddon().binding.info().isas) {
      const onIsa = createCpuBackend({ isa, name: `cpu-${isa}` });
      await onIsa.load();
      const prepared = onIsa.prepareSync(one, { kernel: Float32Array.of(100, 0, 1000), recurrentKernel: new Float32Array(3), bias: null });
      try {
        const r = prepared.forwardSync({ x: Float32Array.of(1), batch: 1, timesteps: 1, goBackwards: false, returnSequences: false });
        expect(Array.from(r.output), `isa ${isa}`).toEqual([0]);
      } finally {
        prepared.dispose();
      }
    }
  });
});

describe('row-wise activations (issue 13): per gate, as Keras, on the plain forward path', () => {
  const pairs = [
    ['tanh', 'softmax'],
    ['softmax', 'sigmoid'],
    ['log_softmax', 'softmax'],
    ['tanh', 'sparsemax'],
    ['sparsemax', 'hard_sigmoid'],
  ] as const;
  it('matches the reference backend over every call option', () => {
    let compared = 0;
    for (const [activation, recurrentActivation] of pairs) {
      for (let bits = 0; bits < 32; bits++) {
        const o = {
          B: 3,
          T: recurrentActivation === 'softmax' && activation === 'log_softmax' ? 3 : 6,
          D: 4,
          H: 11,
          activation,
          recurrentActivation,
          resetAfter: (bits & 1) !== 0,
          useBias: (bits & 2) !== 0,
          goBackwards: (bits & 4) !== 0,
          mask: (bits & 8) !== 0 ? ('any' as const) : ('none' as const),
          initialState: (bits & 16) !== 0,
          inputDropout: bits % 3 === 0,
          recurrentDropout: bits % 5 === 0,
          returnSequences: true,
          seed: bits + 1,
        };
        const c = makeCase(o);
        const prepared = backend.prepareSync(c.spec, c.weights);
        try {
          const got = prepared.forwardSync(c.request);
          const want = referenceForward(c.spec, c.weights, c.request);
          assertClose(got.output, want.output, `output ${JSON.stringify(o)}`);
          assertClose(got.lastState, want.lastState, `lastState ${JSON.stringify(o)}`);
          compared++;
        } finally {
          prepared.dispose();
        }
      }
    }
    expect(compared).toBe(pairs.length * 32);
  });

  it('runs as one chunk when the call has several threads, with the one-thread result', async () => {
    const many = createCpuBackend({ name: 'cpu-rowwise-threads', threads: 3, minStepMacsPerThread: 0, syncBelowMacs: 0 });
    const one = createCpuBackend({ name: 'cpu-rowwise-one', threads: 1 });
    await Promise.all([many.load(), one.load()]);
    const c = makeCase({ B: 5, T: 9, D: 6, H: 40, activation: 'softmax', recurrentActivation: 'sparsemax' });
    const a = many.prepareSync(c.spec, c.weights);
    const b = one.prepareSync(c.spec, c.weights);
    try {
      expect(Array.from((await a.forward(c.request)).output)).toEqual(Array.from(b.forwardSync(c.request).output));
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('units=1, recurrent_activation softmax, one step gives 0 (both gates are 1), as Keras', async () => {
    await backend.load();
    const one: GruSpec = { units: 1, inputDim: 1, activation: 'tanh', recurrentActivation: 'softmax', useBias: true, resetAfter: true, dtype: 'float32' };
    const prepared = backend.prepareSync(one, {
      kernel: Float32Array.of(0.3, -0.2, 0.5),
      recurrentKernel: Float32Array.of(0.1, 0.2, 0.3),
      bias: new Float32Array(6),
    });
    const r = prepared.forwardSync({ x: Float32Array.of(1), batch: 1, timesteps: 1, goBackwards: false, returnSequences: false });
    expect(Array.from(r.output)).toEqual([0]);
    expect(() => prepared.backwardSync(undefined, { dOutput: new Float32Array(1) })).toThrow(/no backward pass for the row-wise activation 'softmax'/);
    prepared.dispose();
  });
});
