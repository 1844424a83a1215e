import { describe, expect, it } from 'vitest';
import { flops } from '../src/shapes.mjs';
import { TRAIN_RUNNERS, trainFlops } from '../src/train.mjs';

const tiny = { id: '2x3x4x5', B: 2, T: 3, D: 4, H: 5 };

describe('training-step runners (src/train.mjs)', () => {
  it('counts a training step as three forward passes of FLOPs', () => {
    expect(trainFlops(tiny)).toBe(3 * flops(tiny));
  });

  it('lists gru wasm (both resetAfter, threads) and the tfjs-wasm peer', () => {
    expect(TRAIN_RUNNERS.map((r) => r.name)).toEqual(['gru:wasm', 'gru:wasm:reset-before', 'gru:wasm-2t', 'tfjs-wasm']);
  });

  for (const runner of TRAIN_RUNNERS) {
    it(`${runner.name} runs a forward pass and a training step`, { timeout: 120_000 }, async () => {
      const t = await runner.setup(tiny);
      try {
        await t.forward();
        await t.train();
        await t.train();
        // The gru runners also time a step without input gradients; tfjs's variableGrads has none.
        expect(t.trainNoDx === undefined).toBe(runner.name === 'tfjs-wasm');
        await t.trainNoDx?.();
      } finally {
        t.dispose();
      }
    });
  }
});
