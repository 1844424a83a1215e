import { describe, expect, it } from 'vitest';
import { GruError, sizeOf, toNested, toTensor } from '../src/index.js';

function expectGruError(fn: () => unknown, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GruError);
  expect((caught as GruError).kerasType).toBe('ValueError');
  expect((caught as Error).message).toBe(message);
}

describe('toTensor', () => {
  it('reads nested arrays row-major, with their shape', () => {
    const t = toTensor(
      [
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      ],
      'x',
      'float64',
    );
    expect(t.shape).toEqual([1, 3, 2]);
    expect(t.data).toBeInstanceOf(Float64Array);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('casts to the requested dtype (float32 rounds)', () => {
    const t = toTensor({ shape: [2], data: [0.1, 1 / 3] }, 'x', 'float32');
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
  });

  it('accepts typed arrays, integers and booleans, and always copies', () => {
    const src = Int16Array.from([1, -2, 3, 4]);
    const t = toTensor({ shape: [2, 2], data: src }, 'x', 'float64');
    expect(Array.from(t.data)).toEqual([1, -2, 3, 4]);
    t.data[0] = 100;
    expect(src[0]).toBe(1);
    const f = Float64Array.from([1, 2]);
    const same = toTensor({ shape: [2], data: f }, 'x', 'float64');
    expect(same.data).not.toBe(f);
    expect(Array.from(toTensor([[true, false]], 'm', 'float64').data)).toEqual([1, 0]);
    expect(Array.from(toTensor({ shape: [3], data: [true, false, true] }, 'm', 'float32').data)).toEqual([1, 0, 1]);
  });

  it('empty dimensions', () => {
    expect(toTensor([], 'x', 'float64').shape).toEqual([0]);
    expect(toTensor([[], []], 'x', 'float64').shape).toEqual([2, 0]);
    const t = toTensor({ shape: [2, 0, 3], data: [] }, 'x', 'float64');
    expect(t.shape).toEqual([2, 0, 3]);
    expect(t.data.length).toBe(0);
  });

  it('NaN and infinities pass through', () => {
    const t = toTensor([NaN, Infinity, -Infinity], 'x', 'float32');
    expect(Number.isNaN(t.data[0])).toBe(true);
    expect(t.data[1]).toBe(Infinity);
    expect(t.data[2]).toBe(-Infinity);
  });

  it('errors name the argument, the expected and the received', () => {
    expectGruError(
      () => toTensor({ shape: [2, 3], data: [1, 2] }, 'inputs', 'float32'),
      'Argument `inputs` has shape (2, 3), which holds 6 values, but its data has 2.',
    );
    expectGruError(
      () => toTensor({ shape: [2, 1.5], data: [1, 2] }, 'inputs', 'float32'),
      'Argument `inputs` has an invalid shape: expected a list of non-negative integers, received [2,1.5].',
    );
    expectGruError(
      () => toTensor({ shape: 'abc', data: [1] }, 'mask', 'float32'),
      'Argument `mask` has an invalid shape: expected a list of non-negative integers, received "abc".',
    );
    expectGruError(() => toTensor({ shape: [1], data: 5 }, 'mask', 'float32'), 'Argument `mask`.data must be an array or typed array, received number.');
    expectGruError(() => toTensor([[1, 2], [3]], 'inputs', 'float32'), 'Argument `inputs` is a ragged nested array: expected 2 items at depth 1, found 1.');
    expectGruError(() => toTensor([[1, 2], 3], 'inputs', 'float32'), 'Argument `inputs` is a ragged nested array: expected 2 items at depth 1, found number.');
    expectGruError(() => toTensor([1, [2]], 'inputs', 'float32'), 'Argument `inputs` is not a rectangular nested array of numbers: found an array at depth 1.');
    expectGruError(() => toTensor(['1'], 'inputs', 'float32'), 'Argument `inputs` must hold numbers or booleans: found a string ("1") at [0] (flat index 0).');
    expectGruError(
      () => toTensor(null, 'initialState', 'float32'),
      'Argument `initialState` must be a tensor ({shape, data}) or a nested array of numbers, received null.',
    );
    expectGruError(
      () => toTensor(7, 'initialState', 'float32'),
      'Argument `initialState` must be a tensor ({shape, data}) or a nested array of numbers, received number.',
    );
    // A flat typed array has no shape: say so, and how to give one (it said "received object").
    expectGruError(
      () => toTensor(new Float32Array(6), 'dOutput', 'float32'),
      'Argument `dOutput` must be a tensor ({shape, data}) or a nested array of numbers, received a Float32Array of 6 values with no shape (pass {shape: [...], data: thatArray}).',
    );
    expectGruError(
      () => toTensor({ data: [1] }, 'inputs', 'float32'),
      'Argument `inputs` must be a tensor ({shape, data}) or a nested array of numbers, received an object without `shape`.',
    );
    expectGruError(
      () => toTensor(new Int8Array(2), 'inputs', 'float32'),
      'Argument `inputs` must be a tensor ({shape, data}) or a nested array of numbers, received an Int8Array of 2 values with no shape (pass {shape: [...], data: thatArray}).',
    );
    expectGruError(
      () => toTensor(new BigInt64Array(2), 'inputs', 'float32'),
      'Argument `inputs` must be a tensor ({shape, data}) or a nested array of numbers, received a BigInt64Array of 2 values (tensor data must hold numbers: a Float32Array, a Float64Array or an integer array).',
    );
    expectGruError(
      () => toTensor(new ArrayBuffer(8), 'inputs', 'float32'),
      'Argument `inputs` must be a tensor ({shape, data}) or a nested array of numbers, received an ArrayBuffer.',
    );
    expectGruError(
      () => toTensor(new Map(), 'inputs', 'float32'),
      'Argument `inputs` must be a tensor ({shape, data}) or a nested array of numbers, received a Map.',
    );
  });
});

describe('toNested and sizeOf', () => {
  it('toNested inverts toTensor', () => {
    const n = [
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      [
        [7, 8, 9],
        [10, 11, 12],
      ],
    ];
    expect(toNested(toTensor(n, 'x', 'float64'))).toEqual(n);
    expect(toNested({ shape: [], data: Float64Array.from([5]) })).toBe(5);
    expect(toNested({ shape: [2, 0], data: new Float64Array(0) })).toEqual([[], []]);
  });

  it('sizeOf multiplies the dimensions (1 for a scalar)', () => {
    expect(sizeOf([2, 3, 4])).toBe(24);
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([5, 0])).toBe(0);
  });
});
