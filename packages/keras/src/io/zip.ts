import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import { describeThrown, KerasFileError, LimitError } from '../errors.js';
import type { ByteBudget } from '../budget.js';
import type { LoadLimits } from '../limits.js';

/** The entries of a Keras 3 `.keras` archive that the loader reads. */
export interface KerasArchive {
  config: Uint8Array;
  metadata: Uint8Array | undefined;
  weights: Uint8Array;
  /** Every entry name, in archive order (for messages). */
  names: string[];
}

const WANTED = new Set(['config.json', 'metadata.json', 'model.weights.h5']);

/**
 * Input is fed to the decompressor in small pieces so that a deflate bomb is caught after at
 * most `PUSH_BYTES * 1032` bytes of output (deflate's largest expansion), not after all of it.
 */
const PUSH_BYTES = 4 * 1024;

/** Refuses entry names that would escape a folder if extracted, as a careful unzip tool does. */
function checkEntryName(name: string): void {
  const bad =
    name.length === 0 ||
    name.length > 1024 ||
    name.includes('\0') ||
    name.includes('\\') ||
    name.startsWith('/') ||
    /^[a-zA-Z]:/.test(name) ||
    name.split('/').some((part) => part === '..');
  if (bad) {
    throw new KerasFileError(`.keras archive has an unsafe entry name ${JSON.stringify(name.slice(0, 200))} (absolute, '..' or backslash paths are refused).`);
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
 * The refusal of an entry past its bound: `found` is "declares N bytes" (refused before
 * inflating) or "inflates to more than N bytes" (stopped while inflating).
 */
function refuse(name: string, bound: EntryBound, found: string, inflating: boolean): LimitError {
  const stopped = inflating ? 'inflation was stopped there' : 'refused before inflating it';
  return new LimitError(bound.limit, `.keras archive entry '${name}' ${found}, ${bound.over}; ${stopped}.`);
}

/**
 * Reads `config.json`, `metadata.json` and `model.weights.h5` from a `.keras` zip, with every
 * size bounded before and while it is decompressed: the entry count, each entry's declared and
 * actual size, and its compression ratio. A JSON entry never inflates past `limits.maxJsonBytes`;
 * the weights entry never past `limits.maxEntryBytes`, nor, when `config.json` comes before it
 * (as Keras writes archives), past what `weightsBound` says that config can need. Other entries
 * (assets) are not decompressed.
 */
export function readKerasArchive(bytes: Uint8Array, limits: LoadLimits, weightsBound?: WeightsBound, budget?: ByteBudget, reuseInput = false): KerasArchive {
  const found = new Map<string, Uint8Array>();
  const names: string[] = [];
  let pending: { name: string; error?: unknown } | undefined;

  const onfile = (file: UnzipFile) => {
    names.push(file.name);
    if (names.length > limits.maxArchiveEntries) {
      throw new LimitError('maxArchiveEntries', `.keras archive has more than ${limits.maxArchiveEntries} entries (limits.maxArchiveEntries).`);
    }
    checkEntryName(file.name);
    if (!WANTED.has(file.name)) return; // never started: its data is skipped, not decompressed
    if (found.has(file.name) || pending?.name === file.name) {
      throw new KerasFileError(`.keras archive has two entries named '${file.name}'; refusing an ambiguous archive.`);
    }
    if (file.compression !== 0 && file.compression !== 8) {
      throw new KerasFileError(
        `.keras archive entry '${file.name}' uses compression method ${file.compression}; only stored (0) and deflate (8) are supported.`,
      );
    }
    const bound = entryBound(file.name, limits, found, weightsBound);
    const declared = file.originalSize;
    if (declared !== undefined && declared > bound.bytes) {
      throw refuse(file.name, bound, `declares ${declared} bytes`, false);
    }
    if (declared !== undefined && file.size !== undefined) {
      const ratioCap = file.compression === 0 ? file.size : file.size * limits.maxCompressionRatio + 64;
      if (declared > ratioCap) {
        throw new LimitError(
          'maxCompressionRatio',
          `.keras archive entry '${file.name}' declares ${declared} bytes from ${file.size} compressed bytes, more than its compression method allows.`,
        );
      }
    }
    // The declared size is at most bound.bytes here; without one (a data descriptor) the bound caps it.
    const cap = declared ?? bound.bytes;
    const what = `.keras archive entry '${file.name}'`;
    // With a declared size the entry is inflated into one buffer of that size, counted against
    // limits.maxBytes before inflating; without one, each inflated piece is counted as it comes.
    // A stored weights entry of an archive the loader read itself is moved to the start of the
    // archive's own buffer instead of being copied: the archive's bytes before the entry (local
    // headers, config.json and metadata.json, already copied out) are no longer needed, and every
    // byte is written below the position being read, so nothing unread is overwritten. The
    // weights then cost no second buffer (a 200 MB model is not held twice).
    const inPlace = reuseInput && file.name === 'model.weights.h5' && file.compression === 0 && declared !== undefined && bytes.byteOffset === 0;
    if (!inPlace) budget?.take(declared ?? 0, what);
    const whole = declared === undefined ? undefined : inPlace ? new Uint8Array(bytes.buffer, 0, declared) : new Uint8Array(declared);
    const chunks: Uint8Array[] = [];
    let total = 0;
    const entry = { name: file.name } as { name: string; error?: unknown };
    pending = entry;
    file.ondata = (err, data, final) => {
      if (err) {
        entry.error = err;
        return;
      }
      total += data.length;
      if (total > cap) {
        // Checked per inflated chunk, before it is kept: at most one chunk (PUSH_BYTES of input) past the cap.
        if (declared === undefined) throw refuse(file.name, bound, `inflates to more than ${cap} bytes (its header declares no size)`, true);
        throw new LimitError(
          'maxCompressionRatio',
          `.keras archive entry '${file.name}' decompresses to more than ${cap} bytes, the size its header declares.`,
        );
      }
      if (whole) whole.set(data, total - data.length);
      else {
        budget?.take(data.length, `${what} (inflating)`);
        chunks.push(data);
      }
      if (final) {
        if (declared !== undefined && total !== declared) {
          throw new KerasFileError(`.keras archive entry '${file.name}' declares ${declared} bytes but holds ${total}; the archive is corrupt.`);
        }
        if (!whole) budget?.take(total, `${what} (joining its inflated pieces)`);
        found.set(file.name, whole ?? concat(chunks, total));
        pending = undefined;
      }
    };
    file.start();
  };

  const unzip = new Unzip(onfile);
  unzip.register(UnzipInflate);
  try {
    for (let off = 0; off < bytes.length; off += PUSH_BYTES) {
      unzip.push(bytes.subarray(off, Math.min(off + PUSH_BYTES, bytes.length)), off + PUSH_BYTES >= bytes.length);
      if (pending?.error !== undefined) throw pending.error;
    }
    if (bytes.length === 0) unzip.push(bytes, true);
  } catch (err) {
    if (err instanceof KerasFileError) throw err;
    const where = pending ? ` while reading entry '${pending.name}'` : '';
    throw new KerasFileError(`.keras archive is not a readable zip file${where}: ${describeThrown(err)}.`);
  }
  if (pending) throw new KerasFileError(`.keras archive ends inside entry '${pending.name}'; the file is truncated.`);
  const config = found.get('config.json');
  const weights = found.get('model.weights.h5');
  if (!config || !weights) {
    const missing = [!config && 'config.json', !weights && 'model.weights.h5'].filter(Boolean).join(' and ');
    const sharded = names.some((n) => n.startsWith('model.weights') && n !== 'model.weights.h5');
    throw new KerasFileError(
      `.keras archive has no ${missing} (entries: ${names.slice(0, 20).join(', ') || 'none'})` +
        (sharded ? '; sharded or non-HDF5 weights (model.weights.json / .npz) are not supported: save with a single model.weights.h5.' : '.'),
    );
  }
  return { config, metadata: found.get('metadata.json'), weights, names };
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0].slice();
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
