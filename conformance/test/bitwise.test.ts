import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { bitwiseDifference } from '../src/testing/bitwise.js';

// compareResult's { bitwiseAgainst } and contract:foreign-arrays hold a result to another bit for
// bit: another kind of array, a value off by less than float32 can show, or a NaN payload must
// fail, each named for what it is.

const want = Float32Array.of(1, -0, Number.NaN, 4);

describe('bitwiseDifference', () => {
  it('the same bits pass, from another realm or a subclass too', () => {
    expect(bitwiseDifference(Float32Array.of(1, -0, Number.NaN, 4), want, 'x')).toBeUndefined();
    const other = runInNewContext('Float32Array.of(1, -0, NaN, 4)') as Float32Array;
    expect(bitwiseDifference(other, want, 'x')).toBeUndefined();
    class Sub extends Float32Array {}
    expect(bitwiseDifference(Sub.of(1, -0, Number.NaN, 4), want, 'x')).toBeUndefined();
  });

  it('another kind of array is named, even where its values round to the same floats', () => {
    expect(bitwiseDifference(Float64Array.of(1 + 1e-12, -0, Number.NaN, 4), want, 'the plain call')).toBe(
      'is a Float64Array where the plain call answered a Float32Array (bit-for-bit comparison needs the same kind)',
    );
    expect(bitwiseDifference([1, -0, Number.NaN, 4], want, 'the plain call')).toMatch(/^is .*Array.* where the plain call answered a Float32Array/);
    expect(bitwiseDifference(null, want, 'the plain call')).toMatch(/^is null where the plain call answered a Float32Array/);
  });

  it('a zero of the other sign and a NaN of another payload are named by element and bits', () => {
    expect(bitwiseDifference(Float32Array.of(1, 0, Number.NaN, 4), want, 'y')).toBe(
      "differs in its bits (a zero's sign or a NaN's payload) from y at element 1 of 4: got 0 = 0x00000000, expected 0 = 0x80000000",
    );
    const payload = new Float32Array(new Uint32Array([0x3f800000, 0x80000000, 0x7fc00001, 0x40800000]).buffer);
    expect(bitwiseDifference(payload, want, 'y')).toBe(
      "differs in its bits (a zero's sign or a NaN's payload) from y at element 2 of 4: got NaN = 0x7fc00001, expected NaN = 0x7fc00000",
    );
  });

  it('a value that differs is told with the element, and a length that differs too', () => {
    expect(bitwiseDifference(Float32Array.of(1, -0, Number.NaN, 5), want, 'z')).toBe(
      `differs from z ("expected" is that call's answer) at element 3 of 4: got 5, expected 4`,
    );
    expect(bitwiseDifference(Float32Array.of(1, -0, Number.NaN, 5), want, 'z', [2, 2])).toBe(
      `differs from z ("expected" is that call's answer) at [1, 1] of shape [2, 2]: got 5, expected 4`,
    );
    expect(bitwiseDifference(Float32Array.of(1, -0), want, 'z')).toBe(`differs from z ("expected" is that call's answer): length 2, expected 4`);
  });
});
