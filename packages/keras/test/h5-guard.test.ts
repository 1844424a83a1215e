import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attributeItemSize, checkAttributeBounds } from '../src/io/h5-guard.js';
import { H5File } from '../src/io/h5.js';
import { KerasFileError, loadModel } from '../src/index.js';
import { FIXTURES, readBytes } from './helpers.js';

describe('HDF5 attribute guard (jsfive loops over declared item counts)', () => {
  it('knows the item size of every attribute type jsfive decodes', () => {
    expect(attributeItemSize('S7')).toBe(7);
    expect(attributeItemSize('|S0')).toBe(0);
    expect(attributeItemSize('<f4')).toBe(4);
    expect(attributeItemSize('>i8')).toBe(8);
    expect(attributeItemSize('<u1')).toBe(1);
    expect(attributeItemSize(['VLEN_STRING', 0, 1])).toBe(16);
    expect(attributeItemSize(['REFERENCE', 8])).toBe(8);
    expect(attributeItemSize(['COMPOUND'])).toBeUndefined();
  });

  it('accepts counts that fit in the bytes after the offset, refuses the rest', () => {
    expect(() => checkAttributeBounds('<f4', 100, 25, 0)).not.toThrow();
    expect(() => checkAttributeBounds('<f4', 100, 0, 100)).not.toThrow();
    expect(() => checkAttributeBounds('<f4', 100, 26, 0)).toThrow(/declares 26 items of 4 bytes, more than the 100 bytes/);
    expect(() => checkAttributeBounds('S0', 100, 5, 0)).toThrow(/item type of 0 bytes/);
    expect(() => checkAttributeBounds(['VLEN_STRING', 0, 1], 64, 5, 0)).toThrow(/5 items of 16 bytes/);
    expect(() => checkAttributeBounds('<f8', 100, 2 ** 60, 0)).toThrow(/invalid item count/);
  });

  it('is installed on the jsfive version this package pins (the hook point exists)', () => {
    const file = new H5File(readBytes(join(FIXTURES, 'k2_hard_sigmoid.h5')), 'k2_hard_sigmoid.h5');
    const objects = (file as unknown as { root: { node: { _dataobjects: object } } }).root.node._dataobjects;
    const proto = Object.getPrototypeOf(objects) as { __gruGuarded?: boolean; _attr_value: { name: string } };
    expect(proto.__gruGuarded).toBe(true);
    expect(proto._attr_value.name).toBe('guardedAttrValue');
  });

  it('refuses a 66 KB file declaring two billion attribute strings at once (unguarded, jsfive spins for minutes)', async () => {
    const started = performance.now();
    const err = await loadModel(join(FIXTURES, 'attribute_bomb.h5')).catch((e) => e);
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toMatch(/attribute declares 2147483647 items of 1 bytes, more than the \d+ bytes that hold it/);
    // A hang guard, not a speed goal: unguarded, jsfive spins for minutes.
    expect(performance.now() - started).toBeLessThan(120_000);
  });

  it('turns jsfive failures (it throws strings) into errors naming the file and object', () => {
    const bytes = readBytes(join(FIXTURES, 'k2_hard_sigmoid.h5'));
    const file = new H5File(bytes, 'k2.h5');
    expect(() => file.root.group('model_weights/nope')).toThrow(/k2\.h5 has no '\/model_weights\/nope' \(group '\/model_weights' holds: dense, gru, gru_1\)/);
    // A superblock version jsfive does not read (a file cut inside its superblock is refused before jsfive, as truncated).
    const version7 = bytes.slice();
    version7[8] = 7;
    expect(() => new H5File(version7, 'v7.h5')).toThrow(
      /v7\.h5 is not a readable HDF5 file \(while reading the HDF5 superblock: unsupported superblock version: 7\)/,
    );
    expect(() => new H5File(bytes.slice(0, 40), 'cut.h5')).toThrow(/cut\.h5 is truncated: it ends inside its HDF5 superblock \(40 bytes\)/);
  });
});
