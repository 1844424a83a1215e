import { referenceBackend, type GruSpec } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { emulatedBackend } from './helpers.js';

/**
 * cuDNN runs at least one row and one step; Keras, the reference and every other backend answer a
 * call with no rows or no steps with empty outputs (and, with no steps, the initial state). The
 * cudnn backend answers them the same, without queuing device work.
 */
const [D, H] = [3, 4];
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const weights = {
  kernel: Float32Array.from({ length: D * 3 * H }, (_, i) => Math.sin(i)),
  recurrentKernel: Float32Array.from({ length: H * 3 * H }, (_, i) => Math.cos(i)),
  bias: Float32Array.from({ length: 6 * H }, (_, i) => i / 10),
};

describe('cuDNN backend: calls with no rows or no steps', () => {
  it.each([
    ['batch 0', 0, 5, true],
    ['batch 0, last output only', 0, 5, false],
    ['timesteps 0', 2, 0, true],
    ['timesteps 0, last output only, with an initial state', 2, 0, false],
  ])("%s: the reference backend's outputs and gradients, and no device call", async (_what, B, T, returnSequences) => {
    const { backend, runtime } = emulatedBackend('cudnn-empty');
    const p = await backend.prepare(spec, weights);
    const ref = await referenceBackend.prepare(spec, weights);
    const before = runtime.log.length;
    const request = {
      x: new Float32Array(B * T * D),
      batch: B,
      timesteps: T,
      initialState: Float32Array.from({ length: B * H }, (_, i) => i + 1),
      goBackwards: false,
      returnSequences,
      keepForBackward: true,
    };
    const got = await p.forward(request);
    const want = await ref.forward(request);
    expect(got.output).toEqual(want.output);
    expect(got.lastState).toEqual(want.lastState);
    const n = returnSequences ? B * T * H : B * H;
    const grad = { dOutput: Float32Array.from({ length: n }, (_, i) => i / 2), dLastState: Float32Array.from({ length: B * H }, () => 1) };
    const g = await p.backward!(got.saved, grad);
    const r = await ref.backward!(want.saved, grad);
    for (const k of ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const) expect(Array.from(g[k]!), k).toEqual(Array.from(r[k]!));
    expect(runtime.log.slice(before)).toEqual([]);
    p.dispose();
  });
});
