/**
 * CRC-32 (the zip and gzip checksum, reflected polynomial 0xedb88320). Every byte of a .keras
 * archive's entries is checked as it is read, so this is on the load's path: in Node it is
 * zlib's native crc32 (reached without importing a Node built-in, so browser bundles are
 * unaffected); elsewhere a "slicing-by-16" loop (sixteen 256-entry tables, 16 KiB, built on first
 * use) that reads 4-byte words, about five times as fast as the one-byte-per-step loop. fflate
 * computes CRCs internally but does not export a function for them.
 */
type Crc32 = (data: Uint8Array, crc?: number) => number;

let tables: Int32Array | undefined;

function makeTables(): Int32Array {
  const t = new Int32Array(256 * 16);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 16; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The CRC-32 of `data` in JavaScript, continuing from `crc` (the CRC of the bytes before it; 0 to start). */
export function crc32Js(data: Uint8Array, crc = 0): number {
  const t = (tables ??= makeTables());
  let c = ~crc;
  let i = 0;
  // Bytes one at a time up to a 4-byte boundary, then 16 bytes a step as four words.
  const head = littleEndian ? Math.min(data.length, (4 - (data.byteOffset & 3)) & 3) : data.length;
  for (; i < head; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  const words = ((data.length - i) >>> 4) << 2;
  if (words > 0) {
    const w = new Int32Array(data.buffer, data.byteOffset + i, words);
    for (let j = 0; j < words; j += 4) {
      const a = c ^ w[j];
      const b = w[j + 1];
      const d = w[j + 2];
      const e = w[j + 3];
      c =
        t[3840 + (a & 0xff)] ^
        t[3584 + ((a >>> 8) & 0xff)] ^
        t[3328 + ((a >>> 16) & 0xff)] ^
        t[3072 + (a >>> 24)] ^
        t[2816 + (b & 0xff)] ^
        t[2560 + ((b >>> 8) & 0xff)] ^
        t[2304 + ((b >>> 16) & 0xff)] ^
        t[2048 + (b >>> 24)] ^
        t[1792 + (d & 0xff)] ^
        t[1536 + ((d >>> 8) & 0xff)] ^
        t[1280 + ((d >>> 16) & 0xff)] ^
        t[1024 + (d >>> 24)] ^
        t[768 + (e & 0xff)] ^
        t[512 + ((e >>> 8) & 0xff)] ^
        t[256 + ((e >>> 16) & 0xff)] ^
        t[e >>> 24];
    }
    i += words * 4;
  }
  for (; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** zlib's crc32 (Node 20.15 and later), through process.getBuiltinModule: no import for bundlers to follow. */
function nodeCrc32(): Crc32 | undefined {
  try {
    const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const zlib = p?.getBuiltinModule?.('node:zlib') as { crc32?: Crc32 } | undefined;
    return typeof zlib?.crc32 === 'function' ? zlib.crc32 : undefined;
  } catch {
    return undefined;
  }
}

let chosen: Crc32 | undefined;

/** The CRC-32 of `data`, continuing from `crc` (the CRC of the bytes before it; 0 to start). */
export function crc32(data: Uint8Array, crc = 0): number {
  chosen ??= nodeCrc32() ?? crc32Js;
  return chosen(data, crc);
}
