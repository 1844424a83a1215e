import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Js } from '../src/io/crc32.js';

/** The archive reader's CRC-32: zlib's in Node, the JavaScript loop elsewhere (browsers); both must be exact. */
describe('CRC-32', () => {
  const bytes = new Uint8Array(70_000).map((_, i) => (Math.imul(i, 2654435761) >>> 13) & 0xff);

  it('the check value of "123456789" is 0xcbf43926', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32Js(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
  });

  it("the JavaScript loop equals zlib's at every alignment and length, and continues a CRC", () => {
    for (let offset = 0; offset < 8; offset++) {
      for (const length of [0, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 69_000]) {
        const data = bytes.subarray(offset, offset + length);
        expect(crc32Js(data), `offset ${offset}, length ${length}`).toBe(zlibCrc32(data));
        const half = length >> 1;
        expect(crc32Js(data.subarray(half), crc32Js(data.subarray(0, half)))).toBe(zlibCrc32(data));
      }
    }
    expect(crc32(bytes, 12345)).toBe(zlibCrc32(bytes, 12345));
  });
});
