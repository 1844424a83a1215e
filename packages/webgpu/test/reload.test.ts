import { GRU, registerBackend, unregisterBackend } from '@gru/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';

// dispose() destroys the backend's device, and with it every prepared layer's buffers. A layer
// that ran on the backend prepares again once the backend is loaded again (core asks the prepared
// layer isDisposed()), instead of answering every later call "the GPU device was lost".

const b = createWebGpuBackend({ name: 'webgpu-reload', allowFallbackAdapter: true, priority: -1 });
registerBackend(b);
afterAll(() => {
  unregisterBackend('webgpu-reload');
});

describe('a layer outlives dispose() and load() of the webgpu backend', () => {
  it('the same layer runs again after the reload, with the same result', async () => {
    await b.load();
    const gru = new GRU({ units: 5, seed: 7, returnSequences: true, backend: 'webgpu-reload' });
    const x = { shape: [2, 4, 3], data: Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.3)) };
    const before = await gru.forward(x);
    expect(before.backend).toBe('webgpu-reload');
    b.dispose();
    await b.load();
    const after = await gru.forward(x);
    expect(after.backend).toBe('webgpu-reload');
    expect(Array.from(after.output.data)).toEqual(Array.from(before.output.data));
    gru.dispose();
  });
});
