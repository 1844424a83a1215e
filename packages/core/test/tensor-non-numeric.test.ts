import { describe, expect, it } from 'vitest';
import { GRU, toTensor } from '../src/index.js';
import { expectKerasError } from './helpers/errors.js';

// Data that is not numbers or booleans used to become NaN or 0 without a word (Number(x)).

describe('toTensor refuses non-numeric data, naming the argument, the index and what it found', () => {
  it('{shape, data} with strings, objects, null, undefined and bigints', () => {
    expectKerasError(
      () => toTensor({ shape: [3], data: [1, 'x', 3] }, 'inputs', 'float32'),
      'ValueError',
      'Argument `inputs` must hold numbers or booleans: found a string ("x") at index 1.',
    );
    expectKerasError(() => toTensor({ shape: [2], data: [1, {}] }, 'mask', 'float64'), 'ValueError', 'Argument `mask`', 'found an object (Object) at index 1');
    expectKerasError(() => toTensor({ shape: [2], data: [null, 1] }, 'initialState', 'float32'), 'ValueError', 'found null at index 0');
    expectKerasError(() => toTensor({ shape: [2], data: [1, undefined] }, 'inputs', 'float32'), 'ValueError', 'found undefined at index 1');
    expectKerasError(() => toTensor({ shape: [2], data: [1, 2n] }, 'inputs', 'float32'), 'ValueError', 'found a bigint (2n) at index 1');
    expectKerasError(() => toTensor({ shape: [2], data: [1, [2]] }, 'inputs', 'float32'), 'ValueError', 'found an array of length 1 at index 1');
  });

  it('sparse arrays: a hole is refused as a hole', () => {
    // eslint-disable-next-line no-sparse-arrays
    expectKerasError(
      () => toTensor({ shape: [3], data: [1, , 3] }, 'inputs', 'float32'),
      'ValueError',
      'found a hole (an empty slot of a sparse array) at index 1',
    );
    expectKerasError(() => toTensor({ shape: [4], data: new Array(4) }, 'inputs', 'float32'), 'ValueError', 'a hole', 'at index 0');
    // eslint-disable-next-line no-sparse-arrays
    expectKerasError(
      () =>
        toTensor(
          [
            [1, 2],
            [3, ,],
          ],
          'inputs',
          'float32',
        ),
      'ValueError',
      'found a hole',
      'at [1, 1] (flat index 3)',
    );
    // eslint-disable-next-line no-sparse-arrays
    expectKerasError(() => toTensor([[1, 2], , [5, 6]], 'inputs', 'float32'), 'ValueError', 'found a hole', 'at [1]');
  });

  it('an array-like {length: n} is refused at index 0, without allocating for n', () => {
    expectKerasError(() => toTensor({ shape: [1e9], data: { length: 1e9 } }, 'inputs', 'float32'), 'ValueError', 'found undefined at index 0');
    expectKerasError(() => toTensor({ shape: [3], data: { length: 3 } }, 'inputs', 'float64'), 'ValueError', 'found undefined at index 0');
  });

  it('nested arrays name the position and the flat index', () => {
    expectKerasError(
      () =>
        toTensor(
          [
            [
              [1, 2],
              [3, '4'],
            ],
          ],
          'inputs',
          'float32',
        ),
      'ValueError',
      'found a string ("4") at [0, 1, 1] (flat index 3)',
    );
    expectKerasError(() => toTensor([[1, null]], 'dOutput', 'float32'), 'ValueError', 'Argument `dOutput`', 'found null at [0, 1] (flat index 1)');
    expectKerasError(() => toTensor([[1, { valueOf: () => 2 }]], 'inputs', 'float32'), 'ValueError', 'found an object (Object) at [0, 1]');
  });

  it('BigInt64Array is refused with a way out', () => {
    expectKerasError(
      () => toTensor({ shape: [2], data: new BigInt64Array(2) }, 'inputs', 'float32'),
      'ValueError',
      'Argument `inputs` is a BigInt64Array',
      'Float64Array.from(data, Number)',
    );
    expectKerasError(() => toTensor({ shape: [2], data: new BigUint64Array(2) }, 'inputs', 'float64'), 'ValueError', 'BigUint64Array');
  });

  it('still takes numbers, booleans, NaN, Infinity and every numeric typed array', () => {
    expect(Array.from(toTensor({ shape: [4], data: [1, true, false, -2.5] }, 'x', 'float64').data)).toEqual([1, 1, 0, -2.5]);
    const special = toTensor([[NaN, Infinity, -Infinity]], 'x', 'float32').data;
    expect(Number.isNaN(special[0])).toBe(true);
    expect([special[1], special[2]]).toEqual([Infinity, -Infinity]);
    for (const Ctor of [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array]) {
      const t = toTensor({ shape: [3], data: Ctor.from([1, 2, 3]) }, 'x', 'float32');
      expect(t.data).toBeInstanceOf(Float32Array);
      expect(Array.from(t.data)).toEqual([1, 2, 3]);
    }
  });
});

describe('every layer argument refuses non-numeric data', () => {
  const x = [[[1, 2]], [[3, 4]]];
  const layer = (o: Record<string, unknown> = {}) => new GRU({ units: 3, ...o });

  it('inputs, mask, initialState, dropout masks, setWeights, resetStates, dOutput', () => {
    expectKerasError(
      () => layer().forwardSync([[[1, 'a']], [[3, 4]]] as never),
      'ValueError',
      'Argument `inputs`',
      'found a string ("a") at [0, 0, 1] (flat index 1)',
    );
    expectKerasError(() => layer().forwardSync(x, { mask: [[true], ['no']] as never }), 'ValueError', 'Argument `mask`', 'found a string ("no") at [1, 0]');
    expectKerasError(
      () => layer().forwardSync(x, { initialState: { shape: [2, 3], data: [0, 0, 0, 0, 0, {}] as never } }),
      'ValueError',
      'Argument `initialState`',
      'at index 5',
    );
    expectKerasError(
      () => layer({ dropout: 0.5 }).forwardSync(x, { training: true, dropoutMask: { shape: [2, 2], data: [1, 1, 1, 'x'] } as never }),
      'ValueError',
      'Argument `dropoutMask`',
      'at index 3',
    );
    const l = layer();
    l.build([2, 1, 2]);
    const w = l.getWeights();
    expectKerasError(
      () => l.setWeights([w[0], { shape: w[1].shape, data: Array.from(w[1].data, (v, i) => (i === 4 ? 'bad' : v)) } as never, w[2]]),
      'ValueError',
      'Argument `recurrent_kernel`',
      'at index 4',
    );
    const s = layer({ stateful: true });
    s.forwardSync(x);
    expectKerasError(
      () =>
        s.resetStates([
          [0, 0, 0],
          [0, 0, undefined],
        ] as never),
      'ValueError',
      'Argument `states`',
      'found undefined at [1, 2]',
    );
    const t = layer({ returnSequences: true });
    t.forwardSync(x, { training: true });
    expectKerasError(() => t.backwardSync([[[0, 0, 0]], [[0, 0, '1']]] as never), 'ValueError', 'Argument `dOutput`', 'at [1, 0, 2]');
  });

  it('async forward() rejects (never resolves with NaN)', async () => {
    await expect(layer().forward({ shape: [2, 1, 2], data: [1, 2, 3, { length: 1 }] } as never)).rejects.toThrow(
      /Argument `inputs` must hold numbers or booleans: found an object \(Object\) at index 3/,
    );
  });
});
