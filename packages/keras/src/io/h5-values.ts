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

/** An IEEE half-precision number from its 16 bits. */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * `count` numbers of any HDF5 numeric kind (`i`, `u`, `f`) and size as float64 values, for a
 * weight Keras casts on load whatever it was saved as (Normalization's sample count); 64-bit
 * integers beyond 2^53 lose precision, which no value read at inference needs. Counted against
 * limits.maxBytes.
 */
export function decodeNumbers(
  file: H5File,
  address: number,
  count: number,
  kind: 'i' | 'u' | 'f',
  itemSize: 1 | 2 | 4 | 8,
  bigEndian: boolean,
  what: string,
): Float64Array {
  file.budget?.take(count * 8, `${file.label}: ${what}`);
  const view = new DataView(file.buffer, address, count * itemSize);
  const le = !bigEndian;
  const key = `${kind}${itemSize}`;
  const get = (at: number): number => {
    switch (key) {
      case 'i1':
        return view.getInt8(at);
      case 'i2':
        return view.getInt16(at, le);
      case 'i4':
        return view.getInt32(at, le);
      case 'i8':
        return Number(view.getBigInt64(at, le));
      case 'u1':
        return view.getUint8(at);
      case 'u2':
        return view.getUint16(at, le);
      case 'u4':
        return view.getUint32(at, le);
      case 'u8':
        return Number(view.getBigUint64(at, le));
      case 'f2':
        return half(view.getUint16(at, le));
      case 'f4':
        return view.getFloat32(at, le);
      default:
        return view.getFloat64(at, le); // f8: the caller refuses other kinds and sizes
    }
  };
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = get(i * itemSize);
  return out;
}
