import type { H5File } from './h5.js';

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `count` floats of `itemSize` bytes at `address` of an HDF5 file, straight from its bytes: a
 * view when the loader owns the buffer and the values are aligned and in the host's byte order
 * (nothing is allocated), otherwise one copy (counted against limits.maxBytes), byte-swapped
 * when the file's order differs from the host's. The caller has checked the range.
 */
export function decodeFloats(file: H5File, address: number, count: number, itemSize: 4 | 8, bigEndian: boolean, what: string): Float32Array | Float64Array {
  const Array_ = itemSize === 4 ? Float32Array : Float64Array;
  const native = bigEndian !== HOST_LITTLE_ENDIAN;
  if (file.owned && native && address % itemSize === 0) return new Array_(file.buffer, address, count);
  const length = count * itemSize;
  file.budget?.take(length, `${file.label}: ${what}`);
  const copy = file.buffer.slice(address, address + length);
  if (!native) swapBytes(new Uint8Array(copy), itemSize);
  return new Array_(copy);
}

function swapBytes(bytes: Uint8Array, itemSize: number): void {
  for (let i = 0; i < bytes.length; i += itemSize) {
    for (let a = i, b = i + itemSize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/**
 * `count` integers (Normalization's sample count) as float64 values; 64-bit ones beyond 2^53 lose
 * precision, which no value they hold at inference needs. Counted against limits.maxBytes.
 */
export function decodeIntegers(
  file: H5File,
  address: number,
  count: number,
  itemSize: 4 | 8,
  unsigned: boolean,
  bigEndian: boolean,
  what: string,
): Float64Array {
  file.budget?.take(count * 8, `${file.label}: ${what}`);
  const view = new DataView(file.buffer, address, count * itemSize);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const at = i * itemSize;
    if (itemSize === 4) out[i] = unsigned ? view.getUint32(at, !bigEndian) : view.getInt32(at, !bigEndian);
    else out[i] = Number(unsigned ? view.getBigUint64(at, !bigEndian) : view.getBigInt64(at, !bigEndian));
  }
  return out;
}
