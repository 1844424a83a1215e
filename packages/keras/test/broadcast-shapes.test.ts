import { describe, expect, it } from 'vitest';
import { broadcastShapes } from '../src/ops/broadcast.js';

describe('broadcastShapes (the static shapes of op nodes such as NotEqual, x + y)', () => {
  it('keeps an unknown (None) axis unknown, as keras.ops does', () => {
    // NotEqual(tokens, 0): (None, 5) against a scalar is (None, 5), not (1, 5).
    expect(broadcastShapes([null, 5], [])).toEqual([null, 5]);
    expect(broadcastShapes([], [null, 5])).toEqual([null, 5]);
    expect(broadcastShapes([null, 5, 3], [null, 5, 3])).toEqual([null, 5, 3]);
    expect(broadcastShapes([null, 5, 1], [3])).toEqual([null, 5, 3]);
    expect(broadcastShapes([null, 1], [4, 1])).toEqual([4, 1]);
    expect(broadcastShapes([null], [1])).toEqual([null]);
  });
  it('names shapes that do not broadcast', () => {
    expect(broadcastShapes([null, 5], [3])).toBe('shapes [null, 5] and [3] do not broadcast');
  });
});
