import { describe, expect, it } from 'vitest';
import { emulatedBackend, rng } from './helpers.js';

/**
 * A prepared layer queues its calls; the queue must not keep the last call's result alive
 * (arrays the caller dropped, and with keepForBackward the saved handle and what it holds).
 */
describe('prepared layer call queue', () => {
  it('lets the caller drop the latest result: nothing in the queue keeps it alive', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run with --expose-gc (vitest.config.ts passes it)');
    const r = rng(3);
    const spec = { units: 4, inputDim: 3, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float64' } as const;
    const weights = { kernel: r.uniform(3 * 12, 0.5), recurrentKernel: r.uniform(4 * 12, 0.5), bias: r.uniform(24, 0.1) };
    const { backend } = emulatedBackend();
    const prepared = await backend.prepare(spec, weights);
    // A finalizer, not a WeakRef: deref() would keep the target alive through the job that calls gc().
    let collected = false;
    const registry = new FinalizationRegistry(() => {
      collected = true;
    });
    // In a function, so that no reference to the result stays in this frame.
    await (async () => {
      const result = await prepared.forward({
        x: r.uniform(2 * 5 * 3, 1),
        batch: 2,
        timesteps: 5,
        goBackwards: false,
        returnSequences: true,
        keepForBackward: true,
      });
      registry.register(result.output, 'output');
    })();
    for (let i = 0; i < 50 && !collected; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(collected).toBe(true);
    prepared.dispose();
  });
});
