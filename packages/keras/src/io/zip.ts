import { Inflate, strFromU8 } from 'fflate';
import { describeThrown, KerasFileError, LimitError } from '../errors.js';
import type { ByteBudget } from '../budget.js';
import type { LoadLimits } from '../limits.js';
import { crc32 } from './crc32.js';

/** The entries of a Keras 3 `.keras` archive that the loader reads. */
export interface KerasArchive {
  config: Uint8Array;
  metadata: Uint8Array | undefined;
  weights: Uint8Array;
  /** Every entry name, in the central directory's order (for messages). */
  names: string[];
}

const WANTED = new Set(['config.json', 'metadata.json', 'model.weights.h5']);

/**
 * Input is fed to the decompressor in small pieces so that a deflate bomb is caught after at
 * most `PUSH_BYTES * 1032` bytes of output (deflate's largest expansion), not after all of it.
 */
const PUSH_BYTES = 4 * 1024;

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const END64 = 0x06064b50;
const LOCATOR64 = 0x07064b50;
const DESCRIPTOR = 0x08074b50;
/** A 32-bit size or offset of this value means "see the zip64 extra field". */
const ZIP64 = 0xffffffff;

/** Refuses entry names that would escape a folder if extracted, as a careful unzip tool does. */
function checkEntryName(name: string, file: string): void {
  const bad =
    name.length === 0 ||
    name.length > 1024 ||
    name.includes('\0') ||
    name.includes('\\') ||
    name.startsWith('/') ||
    /^[a-zA-Z]:/.test(name) ||
    name.split('/').some((part) => part === '..');
  if (bad) {
    throw new KerasFileError(`${file} has an unsafe entry name ${JSON.stringify(name.slice(0, 200))} (absolute, '..' or backslash paths are refused).`);
  }
}

/** The most bytes an entry may inflate to, the limit that sets it, and what that limit is. */
interface EntryBound {
  bytes: number;
  limit: 'maxJsonBytes' | 'maxEntryBytes';
  over: string;
}

/**
 * What bounds the weights entry beyond `limits.maxEntryBytes`: given `config.json` (and
 * `metadata.json` when it came first), the most bytes a weights file for that model can need.
 */
export type WeightsBound = (config: Uint8Array, metadata: Uint8Array | undefined) => number;

function entryBound(name: string, limits: LoadLimits, found: Map<string, Uint8Array>, weightsBound: WeightsBound | undefined): EntryBound {
  // JSON is parsed only up to limits.maxJsonBytes, so inflating more than that is never useful.
  if (name.endsWith('.json') && limits.maxJsonBytes < limits.maxEntryBytes) {
    return { bytes: limits.maxJsonBytes, limit: 'maxJsonBytes', over: `over the JSON limit of ${limits.maxJsonBytes} bytes (limits.maxJsonBytes)` };
  }
  const config = found.get('config.json');
  if (name === 'model.weights.h5' && weightsBound && config) {
    const implied = weightsBound(config, found.get('metadata.json'));
    if (implied < limits.maxEntryBytes) {
      return {
        bytes: implied,
        limit: 'maxEntryBytes',
        over: `more than the ${implied} bytes that config.json's model can need (its weights in float64, optimizer state and HDF5 structure, generously counted)`,
      };
    }
  }
  return { bytes: limits.maxEntryBytes, limit: 'maxEntryBytes', over: `over the limit of ${limits.maxEntryBytes} (limits.maxEntryBytes)` };
}

/**
 * The refusal of an entry past its bound, from the size the central directory declares ("declares
 * N bytes"), before anything is inflated.
 */
function refuse(file: string, name: string, bound: EntryBound, found: string): LimitError {
  return new LimitError(bound.limit, `${file} entry '${name}' ${found}, ${bound.over}; refused before inflating it.`);
}

const hex = (crc: number) => `0x${crc.toString(16).padStart(8, '0')}`;

/** Little-endian reads that never throw: past the end they read zeros (callers check bounds first). */
class Reader {
  constructor(readonly bytes: Uint8Array) {}
  u16(at: number): number {
    const b = this.bytes;
    return b[at] | (b[at + 1] << 8);
  }
  u32(at: number): number {
    const b = this.bytes;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  }
  /** A 64-bit size or offset; past 2^53 it is imprecise, but then far past any real archive's size. */
  u64(at: number): number {
    return this.u32(at) + this.u32(at + 4) * 2 ** 32;
  }
}

/** One entry of the central directory. */
interface CentralEntry {
  name: string;
  nameBytes: Uint8Array;
  flags: number;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  /** Where its local header starts. */
  offset: number;
}

/**
 * The zip64 values of an extra field (header id 1) between `start` and `end`: each value is
 * present only where its 32-bit field is 0xffffffff (`wanted`), in the order the zip
 * specification fixes (uncompressed size, compressed size, offset). A local header's field holds
 * both sizes whenever it holds either (`both`, when the field is long enough for them).
 */
function zip64Values(r: Reader, start: number, end: number, wanted: boolean[], what: string, both = false): number[] | undefined {
  for (let p = start; p + 4 <= end; p += 4 + r.u16(p + 2)) {
    if (r.u16(p) !== 1) continue;
    const length = Math.min(r.u16(p + 2), end - p - 4);
    const values: number[] = [];
    const all = both && length >= 16;
    let q = p + 4;
    for (const w of wanted) {
      if (!w && !all) continue;
      if (q + 8 > p + 4 + length) throw new KerasFileError(`${what} has a zip64 extra field too short for its sizes; the archive is corrupt.`);
      if (w) values.push(r.u64(q));
      q += 8;
    }
    return values;
  }
  return undefined;
}

/** The end-of-central-directory record: the last one whose comment fits in the file, or -1. */
function findEnd(r: Reader): number {
  const b = r.bytes;
  const lowest = Math.max(0, b.length - 22 - 0xffff);
  for (let p = b.length - 22; p >= lowest; p--) {
    if (b[p] === 0x50 && r.u32(p) === END && p + 22 + r.u16(p + 20) <= b.length) return p;
  }
  return -1;
}

/** An entry name fit to print in a message (a truncated or random header may hold anything). */
function printable(name: string): boolean {
  if (name.length === 0 || name.length > 1024) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0xfffd) return false;
  }
  return true;
}

/**
 * The refusal of a file without an end-of-central-directory record, saying where it ends when
 * its local entries can be followed from the start (a truncated download or copy).
 */
function noEndRecord(r: Reader, file: string, limits: LoadLimits): KerasFileError {
  const b = r.bytes;
  let p = 0;
  for (let walked = 0; walked <= limits.maxArchiveEntries && p + 4 <= b.length && r.u32(p) === LOCAL; walked++) {
    const n = r.u16(p + 26);
    const m = r.u16(p + 28);
    const dataStart = p + 30 + n + m;
    if (dataStart > b.length) break;
    const name = strFromU8(b.subarray(p + 30, p + 30 + n), !(r.u16(p + 6) & 0x800));
    if (!printable(name) || r.u16(p + 6) & 8) break; // garbage, or a size known only after the data
    let csize = r.u32(p + 18);
    if (csize === ZIP64 || r.u32(p + 22) === ZIP64) {
      let z: number[] | undefined;
      try {
        z = zip64Values(r, p + 30 + n, dataStart, [r.u32(p + 22) === ZIP64, csize === ZIP64], 'entry', true);
      } catch {
        break;
      }
      if (!z) break;
      if (csize === ZIP64) csize = z[z.length - 1];
    }
    const dataEnd = dataStart + csize;
    if (dataEnd > b.length) {
      return new KerasFileError(
        `${file} is truncated: it ends inside entry '${name}' (${b.length - dataStart} of its ${csize} bytes are there) and has no end-of-central-directory record.`,
      );
    }
    p = dataEnd;
  }
  if (p > 0 && p + 4 <= b.length && r.u32(p) === CENTRAL) {
    return new KerasFileError(`${file} is truncated: it ends inside its central directory (no end-of-central-directory record).`);
  }
  return new KerasFileError(`${file} is not a zip file (no end-of-central-directory record: truncated?).`);
}

/**
 * The central directory, found from the end-of-central-directory record (zip64 included) and
 * checked to lie just before it, with at most `limits.maxArchiveEntries` entries.
 */
function readCentralDirectory(r: Reader, limits: LoadLimits, file: string): { entries: CentralEntry[]; start: number } {
  const end = findEnd(r);
  if (end < 0) throw noEndRecord(r, file, limits);
  let disk = r.u16(end + 4);
  let directoryDisk = r.u16(end + 6);
  let count = r.u16(end + 10);
  let size = r.u32(end + 12);
  let start = r.u32(end + 16);
  let directoryEnd = end;
  if (end >= 20 && r.u32(end - 20) === LOCATOR64) {
    const at = r.u64(end - 12);
    if (r.u32(end - 16) !== 0 || r.u32(end - 4) > 1) throw new KerasFileError(`${file} spans several disks (a split zip); join its parts into one file.`);
    if (at + 56 > end - 20 || r.u32(at) !== END64) {
      throw new KerasFileError(
        `${file} has a zip64 end-of-central-directory locator pointing to byte ${at}, where there is no zip64 end record; the archive is corrupt.`,
      );
    }
    disk = r.u32(at + 16);
    directoryDisk = r.u32(at + 20);
    count = r.u64(at + 32);
    size = r.u64(at + 40);
    start = r.u64(at + 48);
    directoryEnd = at;
  }
  if (disk !== 0 || directoryDisk !== 0) throw new KerasFileError(`${file} spans several disks (a split zip); join its parts into one file.`);
  const tooMany = () => new LimitError('maxArchiveEntries', `${file} has more than ${limits.maxArchiveEntries} entries (limits.maxArchiveEntries).`);
  if (count > limits.maxArchiveEntries) throw tooMany();
  if (start + size !== directoryEnd) {
    throw new KerasFileError(
      `${file}: its end record places the central directory at bytes ${start} to ${start + size}, but the end record is at byte ${directoryEnd}; the archive is corrupt.`,
    );
  }
  const entries: CentralEntry[] = [];
  for (let p = start; p < directoryEnd; ) {
    if (entries.length >= limits.maxArchiveEntries) throw tooMany();
    const n = r.u16(p + 28);
    const m = r.u16(p + 30);
    const k = r.u16(p + 32);
    if (p + 46 > directoryEnd || r.u32(p) !== CENTRAL || p + 46 + n + m + k > directoryEnd) {
      throw new KerasFileError(`${file}: its central directory is damaged at byte ${p} (entry ${entries.length + 1}); the archive is corrupt.`);
    }
    const flags = r.u16(p + 8);
    const nameBytes = r.bytes.subarray(p + 46, p + 46 + n);
    const name = strFromU8(nameBytes, !(flags & 0x800));
    let usize = r.u32(p + 24);
    let csize = r.u32(p + 20);
    let offset = r.u32(p + 42);
    if (usize === ZIP64 || csize === ZIP64 || offset === ZIP64) {
      const wanted = [usize === ZIP64, csize === ZIP64, offset === ZIP64];
      const z = zip64Values(r, p + 46 + n, p + 46 + n + m, wanted, `${file} entry ${JSON.stringify(name.slice(0, 200))}`);
      if (!z) throw new KerasFileError(`${file} entry ${JSON.stringify(name.slice(0, 200))} has zip64 sizes but no zip64 extra field; the archive is corrupt.`);
      let i = 0;
      if (wanted[0]) usize = z[i++];
      if (wanted[1]) csize = z[i++];
      if (wanted[2]) offset = z[i++];
    }
    entries.push({ name, nameBytes, flags, method: r.u16(p + 10), crc: r.u32(p + 16), csize, usize, offset });
    p += 46 + n + m + k;
  }
  if (entries.length !== count) {
    throw new KerasFileError(`${file}: its end record counts ${count} entries, but its central directory holds ${entries.length}; the archive is corrupt.`);
  }
  return { entries, start };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Where an entry's data lies, its local header checked against the central directory. */
function locateEntry(r: Reader, e: CentralEntry, limit: number, file: string): { start: number; end: number } {
  const what = `${file} entry '${e.name}'`;
  const p = e.offset;
  if (p + 30 > limit || r.u32(p) !== LOCAL) {
    throw new KerasFileError(`${what}: the central directory places its local header at byte ${p}, where there is none; the archive is corrupt.`);
  }
  const flags = r.u16(p + 6);
  const method = r.u16(p + 8);
  const n = r.u16(p + 26);
  const m = r.u16(p + 28);
  const start = p + 30 + n + m;
  if (start > limit) throw new KerasFileError(`${what}: its local header runs past the next entry; the archive is corrupt.`);
  for (const used of [method, e.method]) {
    if (used !== 0 && used !== 8) throw new KerasFileError(`${what} uses compression method ${used}; only stored (0) and deflate (8) are supported.`);
  }
  if (flags & 0x41 || e.flags & 0x41) throw new KerasFileError(`${what} is encrypted; encrypted archives are not supported.`);
  const disagree = (field: string, local: string | number, central: string | number, source = 'local header') =>
    new KerasFileError(`${what}: its ${source} and the central directory disagree on its ${field} (${local} and ${central}); the archive is corrupt.`);
  if (!sameBytes(r.bytes.subarray(p + 30, p + 30 + n), e.nameBytes)) {
    throw disagree('name', JSON.stringify(strFromU8(r.bytes.subarray(p + 30, p + 30 + n), !(flags & 0x800)).slice(0, 200)), JSON.stringify(e.name));
  }
  if (method !== e.method) throw disagree('compression method', method, e.method);
  const descriptor = (flags & 8) !== 0;
  if (!descriptor) {
    // Sizes and CRC are in the local header too (a data descriptor would carry them after the data).
    let csize = r.u32(p + 18);
    let usize = r.u32(p + 22);
    if (usize === ZIP64 || csize === ZIP64) {
      const wanted = [usize === ZIP64, csize === ZIP64];
      const z = zip64Values(r, p + 30 + n, start, wanted, what, true);
      if (!z) throw new KerasFileError(`${what} has zip64 sizes in its local header but no zip64 extra field; the archive is corrupt.`);
      if (wanted[0]) usize = z[0];
      if (wanted[1]) csize = z[z.length - 1];
    }
    if (r.u32(p + 14) !== e.crc) throw disagree('CRC-32', hex(r.u32(p + 14)), hex(e.crc));
    if (csize !== e.csize) throw disagree('compressed size', csize, e.csize);
    if (usize !== e.usize) throw disagree('size', usize, e.usize);
  }
  const end = start + e.csize;
  if (end > limit) {
    const next = limit === r.bytes.length ? 'the end of the file' : 'the next entry or the central directory';
    throw new KerasFileError(`${what} declares ${e.csize} bytes of data, but only ${limit - start} lie before ${next}; the archive is corrupt.`);
  }
  if (descriptor) {
    // The data descriptor: an optional signature, the CRC-32, then both sizes in 4 bytes (8 in zip64).
    let q = end;
    if (q + 4 <= limit && r.u32(q) === DESCRIPTOR) q += 4;
    const small = q + 12 <= limit && r.u32(q + 4) === e.csize && r.u32(q + 8) === e.usize;
    const large = q + 20 <= limit && r.u64(q + 4) === e.csize && r.u64(q + 12) === e.usize;
    if (q + 12 > limit) throw new KerasFileError(`${what} has no data descriptor after its data; the archive is corrupt.`);
    if (r.u32(q) !== e.crc) throw disagree('CRC-32', hex(r.u32(q)), hex(e.crc), 'data descriptor');
    if (!small && !large) {
      // A zip64 entry (one with a zip64 extra field) writes 8-byte sizes in its descriptor.
      const wide = zip64Values(r, p + 30 + n, start, [], what) !== undefined;
      const said = wide ? `${r.u64(q + 4)}/${r.u64(q + 12)}` : `${r.u32(q + 4)}/${r.u32(q + 8)}`;
      throw disagree('compressed/uncompressed sizes', said, `${e.csize}/${e.usize}`, 'data descriptor');
    }
  }
  return { start, end };
}

export interface ArchiveOptions {
  /** How messages name the archive ('model.keras', 'the given bytes'). */
  label?: string;
  /** Bounds the weights entry by what the config can need (see WeightsBound). */
  weightsBound?: WeightsBound;
  /** Counts what is allocated against limits.maxBytes. */
  budget?: ByteBudget;
  /**
   * The archive's bytes belong to the loader (it read them): a stored weights entry may then be
   * moved to the start of their buffer instead of copied.
   */
  reuseInput?: boolean;
}

/**
 * Reads `config.json`, `metadata.json` and `model.weights.h5` from a `.keras` zip as Python's
 * zipfile (and so Keras) does: from the central directory, which the end-of-central-directory
 * record must locate (a file without one is not a zip, often a truncated one), each entry's local
 * header checked to agree with it (name, method, sizes, CRC-32, and the data descriptor's) and its
 * bytes checked against their CRC-32 as they are read, so a damaged archive is refused rather
 * than loaded with wrong weights. Every size is bounded before and while an entry is
 * decompressed: the entry count, each entry's declared and actual size, and its compression
 * ratio. A JSON entry never inflates past `limits.maxJsonBytes`; the weights entry never past
 * `limits.maxEntryBytes`, nor, when `config.json` comes before it (as Keras writes archives), past
 * what `weightsBound` says that config can need. Other entries (assets) are not decompressed.
 * Entries are read in archive order.
 */
export function readKerasArchive(bytes: Uint8Array, limits: LoadLimits, options: ArchiveOptions = {}): KerasArchive {
  const { label = 'the archive', weightsBound, budget, reuseInput = false } = options;
  const file = `${label}: .keras archive`;
  const r = new Reader(bytes);
  const found = new Map<string, Uint8Array>();
  let current: string | undefined;
  try {
    const directory = readCentralDirectory(r, limits, file);
    const names = directory.entries.map((e) => e.name);
    const wanted: CentralEntry[] = [];
    for (const e of directory.entries) {
      checkEntryName(e.name, file);
      if (!WANTED.has(e.name)) continue; // assets are never read
      if (wanted.some((w) => w.name === e.name)) throw new KerasFileError(`${file} has two entries named '${e.name}'; refusing an ambiguous archive.`);
      wanted.push(e);
    }
    // An entry's bytes end before the next local header (any entry's) or the central directory:
    // entries that overlap are refused, as Python's zipfile refuses them.
    const starts = [...new Set(directory.entries.map((e) => e.offset))].sort((a, b) => a - b);
    const limitOf = (offset: number) => Math.min(starts.find((s) => s > offset) ?? directory.start, directory.start);
    for (const e of wanted.sort((a, b) => a.offset - b.offset)) {
      current = e.name;
      found.set(e.name, readEntry(r, e, limitOf(e.offset), file, limits, entryBound(e.name, limits, found, weightsBound), budget, reuseInput));
    }
    current = undefined;
    const config = found.get('config.json');
    const weights = found.get('model.weights.h5');
    if (!config || !weights) {
      const missing = [!config && 'config.json', !weights && 'model.weights.h5'].filter(Boolean).join(' and ');
      const sharded = names.some((n) => n.startsWith('model.weights') && n !== 'model.weights.h5');
      throw new KerasFileError(
        `${file} has no ${missing} (entries: ${names.slice(0, 20).join(', ') || 'none'})` +
          (sharded ? '; sharded or non-HDF5 weights (model.weights.json / .npz) are not supported: save with a single model.weights.h5.' : '.'),
      );
    }
    return { config, metadata: found.get('metadata.json'), weights, names };
  } catch (err) {
    if (err instanceof KerasFileError) throw err;
    const where = current ? ` while reading entry '${current}'` : '';
    throw new KerasFileError(`${file} is not a readable zip file${where}: ${describeThrown(err)}.`, { cause: err });
  }
}

/** One entry's bytes, bounded while they are inflated and checked against their CRC-32. */
function readEntry(
  r: Reader,
  e: CentralEntry,
  limit: number,
  file: string,
  limits: LoadLimits,
  bound: EntryBound,
  budget: ByteBudget | undefined,
  reuseInput: boolean,
): Uint8Array {
  const bytes = r.bytes;
  const what = `${file} entry '${e.name}'`;
  const { start, end } = locateEntry(r, e, limit, file);
  const stored = e.method === 0;
  if (stored && e.csize !== e.usize) {
    throw new KerasFileError(`${what} is stored (not compressed) but declares ${e.usize} bytes in ${e.csize}; the archive is corrupt.`);
  }
  // The central directory's size, which the local header (or the data descriptor after the data)
  // was checked to agree with: every entry is sized before it is read, bounded, and inflated into
  // one buffer of that size (never pieces joined later, which held it twice).
  const declared = e.usize;
  if (declared > bound.bytes) throw refuse(file, e.name, bound, `declares ${declared} bytes`);
  if (!stored && declared > e.csize * limits.maxCompressionRatio + 64) {
    throw new LimitError(
      'maxCompressionRatio',
      `${what} declares ${declared} bytes from ${e.csize} compressed bytes, more than its compression method allows.`,
    );
  }
  const checkCrc = (computed: number) => {
    if (computed !== e.crc) {
      throw new KerasFileError(`${what} fails its CRC-32 check (stored ${hex(e.crc)}, computed ${hex(computed)}): the archive is corrupt.`);
    }
  };

  if (stored) {
    const data = bytes.subarray(start, end);
    checkCrc(crc32(data));
    // A stored weights entry of an archive the loader read itself is moved to the start of the
    // archive's own buffer instead of being copied: the archive's bytes before the entry (local
    // headers, config.json and metadata.json, already copied out; entries are read in archive
    // order) are no longer needed, and the move only writes below the entry's end, so nothing
    // still to be read is overwritten. The weights then cost no second buffer (a 200 MB model is
    // not held twice).
    if (reuseInput && e.name === 'model.weights.h5' && bytes.byteOffset === 0) {
      bytes.copyWithin(0, start, end);
      return new Uint8Array(bytes.buffer, 0, data.length);
    }
    budget?.take(data.length, what);
    const copy = new Uint8Array(data.length); // not data.slice(): a Node Buffer's slice is a view
    copy.set(data);
    return copy;
  }

  // Inflated into one buffer of the declared size, counted against limits.maxBytes before inflating.
  budget?.take(declared, what);
  const whole = new Uint8Array(declared);
  let total = 0;
  let crc = 0;
  let done = false;
  const inflate = new Inflate((data, final) => {
    total += data.length;
    if (total > declared) {
      // Checked per inflated chunk, before it is kept: at most one chunk (PUSH_BYTES of input) past the declared size.
      throw new KerasFileError(`${what} inflates past its declared size of ${declared} bytes (inflation was stopped there): the archive is corrupt.`);
    }
    crc = crc32(data, crc);
    whole.set(data, total - data.length);
    if (final) done = true;
  });
  try {
    for (let off = start; off < end || off === start; off += PUSH_BYTES) {
      const stop = Math.min(off + PUSH_BYTES, end);
      inflate.push(bytes.subarray(off, stop), stop === end);
    }
  } catch (err) {
    if (err instanceof KerasFileError) throw err;
    throw new KerasFileError(`${what} is not valid deflate data (${describeThrown(err)}); the archive is corrupt.`, { cause: err });
  }
  if (!done || total !== e.usize) {
    throw new KerasFileError(`${what} declares ${e.usize} bytes but holds ${total}; the archive is corrupt.`);
  }
  checkCrc(crc);
  return whole;
}
