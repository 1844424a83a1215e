import { describe, expect, it } from 'vitest';
import { SHAPES, describeShape, flops, parseShapes } from '../src/shapes.mjs';

describe('shape table', () => {
  it('holds S1..S6 with the dimensions the benchmark is specified on', () => {
    expect(SHAPES.map(({ id, B, T, D, H }) => ({ id, B, T, D, H }))).toEqual([
      { id: 'S1', B: 1, T: 100, D: 64, H: 128 },
      { id: 'S2', B: 32, T: 100, D: 128, H: 256 },
      { id: 'S3', B: 64, T: 50, D: 256, H: 512 },
      { id: 'S4', B: 1, T: 1, D: 64, H: 128 },
      { id: 'S5', B: 256, T: 100, D: 128, H: 256 },
      { id: 'S6', B: 1, T: 10_000, D: 64, H: 128 },
    ]);
  });

  it('is frozen so a runner cannot change a shape for the runners after it', () => {
    expect(Object.isFrozen(SHAPES)).toBe(true);
    expect(Object.isFrozen(SHAPES[0])).toBe(true);
  });
});

describe('flops', () => {
  it('is 2·B·T·3H·(D+H)', () => {
    expect(flops({ B: 1, T: 100, D: 64, H: 128 })).toBe(2 * 1 * 100 * 3 * 128 * (64 + 128));
    expect(flops({ B: 1, T: 100, D: 64, H: 128 })).toBe(14_745_600);
    expect(flops({ B: 32, T: 100, D: 128, H: 256 })).toBe(1_887_436_800);
    expect(flops({ B: 64, T: 50, D: 256, H: 512 })).toBe(7_549_747_200);
    expect(flops({ B: 1, T: 1, D: 64, H: 128 })).toBe(147_456);
    // The scaling shapes: 8x S2's batch, 100x S1's steps.
    expect(flops(SHAPES[4])).toBe(8 * flops(SHAPES[1]));
    expect(flops(SHAPES[5])).toBe(100 * flops(SHAPES[0]));
  });

  it('scales linearly in batch and timesteps', () => {
    const base = flops({ B: 3, T: 7, D: 5, H: 11 });
    expect(flops({ B: 6, T: 7, D: 5, H: 11 })).toBe(2 * base);
    expect(flops({ B: 3, T: 21, D: 5, H: 11 })).toBe(3 * base);
  });

  it('describes a shape by its dimensions', () => {
    expect(describeShape(SHAPES[1])).toBe('B=32 T=100 D=128 H=256');
  });
});

describe('parseShapes', () => {
  it('defaults to every shape', () => {
    expect(parseShapes(undefined).map((s) => s.id)).toEqual(['S1', 'S2', 'S3', 'S4', 'S5', 'S6']);
  });

  it('keeps the order given, ignores case, spaces and duplicates', () => {
    expect(parseShapes('s4, S1,S4').map((s) => s.id)).toEqual(['S4', 'S1']);
  });

  it('accepts custom BxTxDxH shapes', () => {
    expect(parseShapes('8x20x32x64')).toEqual([{ id: '8x20x32x64', B: 8, T: 20, D: 32, H: 64 }]);
  });

  it('names the flag, the bad value and what is accepted', () => {
    expect(() => parseShapes('S9')).toThrow(/--shapes: unknown shape 'S9'; expected one of S1, S2, S3, S4, S5, S6 or BxTxDxH/);
    expect(() => parseShapes('1x2x3')).toThrow(/unknown shape '1x2x3'/);
    expect(() => parseShapes('0x2x3x4')).toThrow(/every dimension of '0x2x3x4' must be at least 1/);
    expect(() => parseShapes(' , ')).toThrow(/--shapes: expected a comma-separated list/);
  });
});
