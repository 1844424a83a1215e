// Reads what a shared library says of itself (ELF on Linux, PE on Windows): its CPU, the symbols
// it exports, the libraries it needs and, for ELF, the newest glibc symbol version it needs. Used
// to check prebuilt binaries that cannot run here: by the packages' test/prebuilds.test.ts and by
// the packing check (check-prebuilds.mjs). Plain JavaScript (types in binary-format.d.mts), so that
// Node imports it as it is.

/** @typedef {import('./binary-format.d.mts').BinaryFacts} BinaryFacts */

/** @type {Record<number, string>} */
const ELF_MACHINES = { 0x3e: 'x64', 0xb7: 'arm64' };
/** @type {Record<number, string>} */
const PE_MACHINES = { 0x8664: 'x64', 0xaa64: 'arm64' };

/** @param {Uint8Array} bytes @param {number} at @returns {string} */
function cString(bytes, at) {
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(at, end));
}

/** @param {string} a @param {string} b @returns {number} */
function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** @param {Uint8Array} bytes @param {DataView} v @returns {BinaryFacts} */
function readElf(bytes, v) {
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new Error('only 64-bit little-endian ELF files are read');
  const machine = v.getUint16(0x12, true);
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const sections = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize;
    return {
      type: v.getUint32(at + 4, true),
      offset: Number(v.getBigUint64(at + 0x18, true)),
      size: Number(v.getBigUint64(at + 0x20, true)),
      link: v.getUint32(at + 0x28, true),
    };
  });
  /** @type {string[]} */
  const exports = [];
  /** @type {string[]} */
  const needs = [];
  /** @type {string[]} */
  const glibc = [];
  for (const s of sections) {
    const strtab = sections[s.link]?.offset ?? 0;
    if (s.type === 11) {
      // SHT_DYNSYM: defined, global or weak, default visibility.
      for (let at = s.offset + 24; at < s.offset + s.size; at += 24) {
        const bind = bytes[at + 4] >> 4;
        if (v.getUint16(at + 6, true) !== 0 && (bind === 1 || bind === 2) && (bytes[at + 5] & 3) === 0)
          exports.push(cString(bytes, strtab + v.getUint32(at, true)));
      }
    } else if (s.type === 6) {
      // SHT_DYNAMIC: DT_NEEDED entries.
      for (let at = s.offset; at < s.offset + s.size; at += 16) {
        if (v.getBigInt64(at, true) === 1n) needs.push(cString(bytes, strtab + Number(v.getBigUint64(at + 8, true))));
      }
    } else if (s.type === 0x6ffffffe) {
      // SHT_GNU_verneed: the symbol versions needed from each library.
      for (let file = s.offset, more = true; more; ) {
        const count = v.getUint16(file + 2, true);
        for (let aux = file + v.getUint32(file + 8, true), k = 0; k < count; k++) {
          const name = cString(bytes, strtab + v.getUint32(aux + 8, true));
          if (name.startsWith('GLIBC_2')) glibc.push(name.slice('GLIBC_'.length));
          aux += v.getUint32(aux + 12, true);
        }
        const next = v.getUint32(file + 12, true);
        more = next !== 0;
        file += next;
      }
    }
  }
  glibc.sort(compareVersions);
  return { format: 'elf', arch: ELF_MACHINES[machine] ?? String(machine), exports, needs, glibc: glibc.at(-1) };
}

/** @param {Uint8Array} bytes @param {DataView} v @returns {BinaryFacts} */
function readPe(bytes, v) {
  const pe = v.getUint32(0x3c, true);
  if (v.getUint32(pe, true) !== 0x4550) throw new Error('no PE signature');
  const coff = pe + 4;
  const machine = v.getUint16(coff, true);
  const nSections = v.getUint16(coff + 2, true);
  const optional = coff + 20;
  if (v.getUint16(optional, true) !== 0x20b) throw new Error('not a PE32+ (64-bit) image');
  const dir = (/** @type {number} */ k) => ({ rva: v.getUint32(optional + 112 + 8 * k, true), size: v.getUint32(optional + 112 + 8 * k + 4, true) });
  const table = optional + v.getUint16(coff + 16, true);
  const sections = Array.from({ length: nSections }, (_, i) => {
    const at = table + 40 * i;
    return { va: v.getUint32(at + 12, true), vsize: Math.max(v.getUint32(at + 8, true), v.getUint32(at + 16, true)), raw: v.getUint32(at + 20, true) };
  });
  const offset = (/** @type {number} */ rva) => {
    const s = sections.find((x) => rva >= x.va && rva < x.va + x.vsize);
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
    return rva - s.va + s.raw;
  };
  /** @type {string[]} */
  const exports = [];
  const exp = dir(0);
  if (exp.size) {
    const at = offset(exp.rva);
    const names = offset(v.getUint32(at + 32, true));
    for (let i = 0; i < v.getUint32(at + 24, true); i++) exports.push(cString(bytes, offset(v.getUint32(names + 4 * i, true))));
  }
  /** @type {string[]} */
  const needs = [];
  const imp = dir(1);
  if (imp.size) {
    for (let at = offset(imp.rva); v.getUint32(at + 12, true) !== 0; at += 20) needs.push(cString(bytes, offset(v.getUint32(at + 12, true))));
  }
  return { format: 'pe', arch: PE_MACHINES[machine] ?? String(machine), exports, needs };
}

/** @param {Uint8Array} bytes @returns {BinaryFacts} */
export function readBinary(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) return readElf(bytes, v);
  if (bytes[0] === 0x4d && bytes[1] === 0x5a) return readPe(bytes, v);
  throw new Error('neither an ELF nor a PE file');
}
