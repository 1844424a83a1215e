import { describe, expect, it } from 'vitest';
import { trainToy } from '../examples/train-toy.js';

describe('README training example', () => {
  it('fits a GRU to a toy task with Adam on top of backward(): the loss goes down', async () => {
    const losses = await trainToy({ iterations: 200 });
    const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
    const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(last).toBeLessThan(first * 0.25);
  });
});
