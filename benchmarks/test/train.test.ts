import { describe, expect, it } from 'vitest';
import { flops } from '../src/shapes.mjs';
import { parseTrainOptions, TRAIN_RUNNERS, TRAIN_USAGE, trainFlops } from '../src/train.mjs';

const tiny = { id: '2x3x4x5', B: 2, T: 3, D: 4, H: 5 };

describe('training-step runners (src/train.mjs)', () => {
  it('counts a training step as three forward passes of FLOPs', () => {
    expect(trainFlops(tiny)).toBe(3 * flops(tiny));
  });

  it('reads its flags, answers --help, and names a bad flag or value without a stack', () => {
    expect(parseTrainOptions([])).toEqual({ shapes: 'S2,S3', runners: undefined, minIters: 3, minTimeMs: 2000, help: false });
    expect(parseTrainOptions(['--', '--shapes', 'S3', '--runners', 'gru:wasm,tfjs-wasm', '--min-iters', '5', '--min-time-ms', '0'])).toEqual({
      shapes: 'S3',
      runners: 'gru:wasm,tfjs-wasm',
      minIters: 5,
      minTimeMs: 0,
      help: false,
    });
    expect(parseTrainOptions(['--help']).help).toBe(true);
    expect(TRAIN_USAGE).toContain('gru:wasm-2t');
    expect(() => parseTrainOptions(['--rounds', '3'])).toThrow(/Unknown option '--rounds'\. Run with --help for the flags\./);
    expect(() => parseTrainOptions(['--min-iters', 'many'])).toThrow("--min-iters: expected an integer >= 1; received 'many'.");
    expect(() => parseTrainOptions(['--runners', 'gru:wasm,gru:cpu'])).toThrow(/--runners: expected names from gru:wasm, .*; received 'gru:cpu'\./);
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
