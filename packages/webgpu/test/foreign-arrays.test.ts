import { referenceForward } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';
import { expectClose, makeRequest, makeSpec, makeWeights } from './helpers.js';
import { FULL } from './views.js';

// Weights core's checks accept (honest `length`) whose subarray() (@@species) answers other values:
// what reaches the GPU must be the values that were checked.
class Species32 extends Float32Array {
  // A constructor: a new array of `length` (for slice) filled with 100, whatever buffer subarray() gives it.
  static get [Symbol.species]() {
    return class extends Float32Array {
      constructor(...args: [number] | [ArrayBuffer, number, number]) {
        super(args.length === 1 ? args[0] : args[2]);
        this.fill(100);
      }
    };
  }
}

const b = createWebGpuBackend({ name: 'webgpu-foreign-arrays', allowFallbackAdapter: true });
beforeAll(() => b.load(), 120_000);
afterAll(() => b.dispose());

describe('webgpu: typed-array subclasses are copied as checked', { timeout: 120_000 }, () => {
  const spec = makeSpec({ units: 6, inputDim: 4 });
  const weights = makeWeights(spec, 4);
  const req = makeRequest(spec, 5, { batch: 2, timesteps: 3, ...FULL });
  const want = referenceForward(spec, weights, req);
  const sub = () => ({
    kernel: Species32.from(weights.kernel),
    recurrentKernel: Species32.from(weights.recurrentKernel),
    bias: weights.bias && Species32.from(weights.bias),
  });

  it('prepare and setWeights upload the weights that were checked', async () => {
    expect(spec.useBias).toBe(true);
    const p = await b.prepare(spec, sub());
    expectClose((await p.forward(req)).output, want.output, 'output after prepare');
    await p.setWeights(makeWeights(spec, 9));
    await p.setWeights(sub());
    expectClose((await p.forward(req)).output, want.output, 'output after setWeights');
    p.dispose();
  });
});
