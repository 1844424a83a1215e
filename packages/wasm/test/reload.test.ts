import { GRU, registerBackend, unregisterBackend } from '@gru/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../src/index.js';

// dispose() frees the backend's module, and with it every prepared layer's weights. A layer that
// ran on the backend prepares again once the backend is loaded again (core asks the prepared layer
// isDisposed()), instead of answering every later call "the backend this layer was prepared on was
// disposed" (the only way out was gru.dispose()).

const b = createWasmBackend({ name: 'wasm-reload', priority: -1 });
registerBackend(b);
afterAll(() => {
  unregisterBackend('wasm-reload');
});

const x = { shape: [2, 4, 3], data: Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.3)) };

describe('a layer outlives dispose() and load() of the wasm backend', () => {
  it('forward, forwardSync and a new stream on the same layer after the reload, with the same results', async () => {
    await b.load();
    const gru = new GRU({ units: 5, seed: 7, returnSequences: true, backend: 'wasm-reload' });
    const before = await gru.forward(x);
    b.dispose();
    await b.load();
    const after = await gru.forward(x);
    expect(after.backend).toBe('wasm-reload');
    expect(Array.from(after.output.data)).toEqual(Array.from(before.output.data));
    b.dispose();
    await b.load();
    expect(Array.from(gru.forwardSync(x).output.data)).toEqual(Array.from(before.output.data));
    gru.dispose();

    const stateful = new GRU({ units: 5, seed: 7, stateful: true, backend: 'wasm-reload' });
    const input = Float32Array.from(x.data.slice(0, 6));
    const first = stateful.stream({ batch: 2, features: 3 });
    const step = Array.from(first.step(input));
    first.close();
    stateful.resetStates();
    b.dispose();
    await b.load();
    const second = stateful.stream({ batch: 2, features: 3 });
    expect(Array.from(second.step(input))).toEqual(step);
    second.close();
    stateful.dispose();
  });

  it('the prepared layer says it is disposed once its backend is', async () => {
    await b.load();
    const gru = new GRU({ units: 2 });
    gru.build([1, 1, 2]);
    const [kernel, recurrentKernel, bias] = gru.getWeights();
    const p = await b.prepare(
      { units: 2, inputDim: 2, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' },
      { kernel: Float32Array.from(kernel.data), recurrentKernel: Float32Array.from(recurrentKernel.data), bias: Float32Array.from(bias!.data) },
    );
    expect(p.isDisposed?.()).toBe(false);
    b.dispose();
    expect(p.isDisposed?.()).toBe(true);
    p.dispose();
  });
});
