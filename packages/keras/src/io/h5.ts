import * as jsfive from 'jsfive';
import { describeThrown, formatShape, KerasFileError } from '../errors.js';
import type { ByteBudget } from '../budget.js';
import { installAttributeGuard } from './h5-guard.js';
import { H5Layout, type ObjectRecord } from './h5-layout.js';
import { decodeFloats, decodeNumbers } from './h5-values.js';

export interface H5FileOptions {
  /** Counts the copies the reader makes against limits.maxBytes. */
  budget?: ByteBudget;
  /**
   * The bytes belong to the loader (read from a file or inflated from an archive), so weights may
   * be views of them instead of copies. Never set for bytes a caller passed: those may change.
   */
  owned?: boolean;
}

/**
 * A read-only view of an HDF5 file through jsfive. Everything jsfive throws (it throws strings
 * as well as errors) becomes a KerasFileError naming the file and the object being read, and
 * dataset values are only read once their shape, type, layout and size have been checked.
 */
export class H5File {
  readonly root: H5Group;
  /** The whole file, starting at offset 0 (jsfive reads addresses from the buffer's start). */
  readonly buffer: ArrayBuffer;
  /** Whether weights may be views of `buffer` (see H5FileOptions.owned). */
  readonly owned: boolean;
  readonly budget: ByteBudget | undefined;
  /** The file's structures and the datasets' values seen so far, to keep them apart. */
  readonly layout: H5Layout;

  constructor(
    readonly bytes: Uint8Array,
    readonly label: string,
    options: H5FileOptions = {},
  ) {
    // jsfive reads addresses from its buffer's start: a buffer that starts with the file is used as
    // it is (bytes past the file's end, in a buffer the loader owns, are never read as the file's:
    // the layout checks stop at bytes.byteLength); anything else is copied once.
    const atStart = bytes.byteOffset === 0 && bytes.buffer instanceof ArrayBuffer && (options.owned === true || bytes.byteLength === bytes.buffer.byteLength);
    if (!atStart) options.budget?.take(bytes.byteLength, `${label} (a copy of the HDF5 bytes)`);
    this.buffer = atStart ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
    // A copy made here is the reader's own, so views of it are safe too.
    this.owned = options.owned === true || !atStart;
    this.budget = options.budget;
    this.layout = new H5Layout(this.buffer, bytes.byteLength, label);
    checkDeclaredEnd(bytes, label);
    checkReaderResolved();
    const file = guard(label, 'the HDF5 superblock', () => new jsfive.File(this.buffer, label));
    installAttributeGuard(file);
    this.root = new H5Group(this, file, '/');
  }
}

/**
 * jsfive's package points bundlers that read the `browser` field without `exports` (Parcel 2 by
 * default) at a script that exports nothing; every file would then read as malformed.
 */
function checkReaderResolved(): void {
  if (typeof (jsfive as { File?: unknown }).File !== 'function') {
    throw new Error(
      "@gru/keras: its HDF5 reader 'jsfive' was bundled as its browser script, which exports nothing: the bundler ignored " +
        'package.json "exports" (Parcel 2 does by default: add "@parcel/resolver-default": { "packageExports": true } to your package.json).',
    );
  }
}

/**
 * Refuses a file shorter than its superblock says it is, as the HDF5 library does ("truncated
 * file: eof = ..., stored_eof = ..."): a file cut short (an interrupted copy or download) would
 * otherwise fail later with a misleading message (a group with no members, an address outside
 * the file). The superblock (at the file's start, where Keras's h5py writes it) records the
 * end-of-file address, relative to its base address: in versions 0 and 1 the third address after
 * the fixed fields (at byte 24, or 28 for version 1), in versions 2 and 3 the third from byte 12.
 */
/** \x89HDF\r\n\x1a\n, the first 8 bytes of an HDF5 file whose superblock is at offset 0. */
export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function checkDeclaredEnd(bytes: Uint8Array, label: string): void {
  if (bytes.length < 16) return; // jsfive names the missing superblock
  // Only a file that starts with the HDF5 signature has a superblock to read here; anything else
  // is left to jsfive to refuse as not HDF5 (its "declared size" would be noise).
  for (let i = 0; i < HDF5_SIGNATURE.length; i++) if (bytes[i] !== HDF5_SIGNATURE[i]) return;
  const version = bytes[8];
  const size = version < 2 ? bytes[13] : bytes[9];
  const start = version === 0 ? 24 : version === 1 ? 28 : 12;
  if (version > 3 || (size !== 2 && size !== 4 && size !== 8)) return; // not a superblock jsfive reads either
  const address = (at: number): number | undefined => {
    let value = 0;
    let undefinedAddress = true;
    for (let i = size - 1; i >= 0; i--) {
      value = value * 256 + bytes[at + i];
      if (bytes[at + i] !== 0xff) undefinedAddress = false;
    }
    return undefinedAddress ? undefined : value;
  };
  const needed = start + 3 * size;
  if (bytes.length < needed) {
    throw new KerasFileError(`${label} is truncated: it ends inside its HDF5 superblock (${bytes.length} bytes).`);
  }
  const base = address(start) ?? 0;
  const end = address(start + 2 * size);
  if (end !== undefined && base + end > bytes.length) {
    const share = Math.floor((bytes.length / (base + end)) * 100);
    throw new KerasFileError(`${label} is truncated: its HDF5 superblock says the file is ${base + end} bytes long, but it has ${bytes.length} (${share}%).`);
  }
}

/** jsfive's data-object record of a group or dataset (not part of its typed API). */
function recordOf(node: jsfive.Group | jsfive.Dataset): ObjectRecord {
  return (node as unknown as { _dataobjects: ObjectRecord })._dataobjects;
}

type AttrValueReader = (dtype: unknown, buf: unknown, count: number, offset: number) => unknown;

/**
 * A group's attributes with every variable-length string decoded as UTF-8, as h5py decodes them.
 * Keras (through h5py) writes `layer_names`, `weight_names` and the like as variable-length
 * strings tagged with the ASCII character set but holding UTF-8 bytes ('gru_ü'); jsfive decodes
 * that tag with TextDecoder('ascii'), which is windows-1252, so 'ü' came back as 'Ã¼' and the
 * layer's group was not found. Fixed-length strings jsfive already decodes as UTF-8.
 */
function utf8Attributes(node: jsfive.Group): Record<string, unknown> {
  const record = recordOf(node) as unknown as { _attr_value: AttrValueReader; get_attributes(): Record<string, unknown> };
  const decode = record._attr_value;
  // An own property for this one read: the nested reads (a list of strings) come back through it too.
  record._attr_value = function (this: unknown, dtype, ...rest) {
    const utf8 = Array.isArray(dtype) && dtype[0] === 'VLEN_STRING' && dtype[2] === 0 ? [dtype[0], dtype[1], 1, ...dtype.slice(3)] : dtype;
    return decode.call(this, utf8, ...rest);
  };
  try {
    return { ...record.get_attributes() };
  } finally {
    delete (record as Partial<typeof record>)._attr_value;
  }
}

export class H5Group {
  private attrCache: Record<string, unknown> | undefined;
  private keyCache: string[] | undefined;
  // jsfive re-parses an object header on every get(); members are looked up once and kept.
  private readonly children = new Map<string, H5Group | H5Dataset>();

  constructor(
    readonly file: H5File,
    private readonly node: jsfive.Group,
    readonly path: string,
  ) {}

  keys(): string[] {
    this.keyCache ??= guard(this.file.label, `the members of group '${this.path}'`, () => {
      this.file.layout.addObject(recordOf(this.node), this.path);
      return [...this.node.keys];
    });
    return [...this.keyCache];
  }

  has(name: string): boolean {
    return this.keys().includes(name);
  }

  /** The member `name` (one path level), or undefined if the group has no such member. */
  private member(name: string): H5Group | H5Dataset | undefined {
    const cached = this.children.get(name);
    if (cached) return cached;
    if (!this.has(name)) return undefined;
    const path = joinPath(this.path, name);
    const node = guard(this.file.label, `'${path}'`, () => this.node.get(name));
    let member: H5Group | H5Dataset;
    if (node instanceof jsfive.Group) member = new H5Group(this.file, node, path);
    else if (node instanceof jsfive.Dataset) member = new H5Dataset(this.file, node, path);
    else throw new KerasFileError(`${this.file.label}: '${path}' is a dangling link.`);
    this.children.set(name, member);
    return member;
  }

  /** Follows a slash-separated path below this group. */
  private resolve(path: string): H5Group | H5Dataset {
    let at: H5Group | H5Dataset = this;
    for (const part of path.split('/')) {
      const next: H5Group | H5Dataset | undefined = at instanceof H5Group ? at.member(part) : undefined;
      if (!next) {
        const holder = at instanceof H5Group ? `group '${at.path}' holds: ${at.keys().slice(0, 20).join(', ') || 'nothing'}` : `'${at.path}' is a dataset`;
        throw new KerasFileError(`${this.file.label} has no '${joinPath(this.path, path)}' (${holder}).`);
      }
      at = next;
    }
    return at;
  }

  group(path: string): H5Group {
    const member = this.resolve(path);
    if (!(member instanceof H5Group)) throw new KerasFileError(`${this.file.label}: '${member.path}' is a dataset where a group was expected.`);
    return member;
  }

  dataset(path: string): H5Dataset {
    const member = this.resolve(path);
    if (!(member instanceof H5Dataset)) throw new KerasFileError(`${this.file.label}: '${member.path}' is a group where a dataset was expected.`);
    return member;
  }

  attrs(): Record<string, unknown> {
    this.attrCache ??= guard(this.file.label, `the attributes of '${this.path}'`, () => utf8Attributes(this.node));
    return this.attrCache;
  }

  /** A string attribute (HDF5 fixed-length strings come back NUL-padded; the padding is removed as h5py does). */
  stringAttr(name: string): string | undefined {
    const value = this.attrs()[name];
    if (value === undefined) return undefined;
    const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
    if (typeof v !== 'string') {
      throw new KerasFileError(`${this.file.label}: attribute '${name}' of '${this.path}' should be a string, found ${describeValue(v)}.`);
    }
    return stripNul(v);
  }

  /**
   * A list-of-strings attribute. Keras splits lists larger than an HDF5 object header into
   * `name0`, `name1`, ... (save_attributes_to_hdf5_group); those are joined back.
   */
  stringListAttr(name: string): string[] | undefined {
    const attrs = this.attrs();
    let parts: unknown[];
    if (name in attrs) parts = [attrs[name]];
    else {
      parts = [];
      while (`${name}${parts.length}` in attrs) parts.push(attrs[`${name}${parts.length}`]);
      if (parts.length === 0) return undefined;
    }
    const out: string[] = [];
    for (const part of parts) {
      const list = Array.isArray(part) ? part : [part];
      for (const item of list) {
        if (typeof item !== 'string') {
          throw new KerasFileError(`${this.file.label}: attribute '${name}' of '${this.path}' should list strings, found ${describeValue(item)}.`);
        }
        out.push(stripNul(item));
      }
    }
    return out;
  }
}

export class H5Dataset {
  constructor(
    readonly file: H5File,
    private readonly node: jsfive.Dataset,
    readonly path: string,
  ) {
    guard(file.label, `the object header of '${path}'`, () => file.layout.addObject(recordOf(node), path));
  }

  private shapeCache: number[] | undefined;
  private dtypeCache: string | undefined;

  get shape(): number[] {
    if (this.shapeCache) return [...this.shapeCache];
    const shape = guard(this.file.label, `the shape of '${this.path}'`, () => this.node.shape);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new KerasFileError(`${this.file.label}: dataset '${this.path}' has an invalid shape ${describeValue(shape)}.`);
    }
    this.shapeCache = [...shape];
    return shape;
  }

  get dtype(): string {
    if (this.dtypeCache === undefined) {
      const dtype = guard(this.file.label, `the type of '${this.path}'`, () => this.node.dtype);
      this.dtypeCache = typeof dtype === 'string' ? dtype : JSON.stringify(dtype);
    }
    return this.dtypeCache;
  }

  /**
   * The values, after checking that the dataset has exactly `expected` shape, holds float32 or
   * float64 numbers (`integer`: any integer, or a float of 2, 4 or 8 bytes, read as float64), is stored contiguously without filters (as Keras writes it), and that its
   * bytes lie in the file apart from the file's structures and other datasets' values. They are
   * read straight from those bytes (a view when the loader owns them, else one copy counted
   * against limits.maxBytes), never through jsfive's per-value decoder.
   */
  read(expected: readonly number[], what: string, integer = false): Float32Array | Float64Array {
    const shape = this.shape;
    if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
      throw new KerasFileError(
        `${this.file.label}: ${what} ('${this.path}') has shape ${formatShape(shape)}, but the model config needs ${formatShape(expected)}.`,
      );
    }
    const dtype = this.dtype;
    const m = (integer ? /^([<>|=]?)([iuf])([1248])$/ : /^([<>|=]?)(f)([48])$/).exec(dtype);
    if (!m || (m[2] === 'f' && m[3] === '1')) {
      const want = integer ? 'integer or float' : 'float32 and float64';
      throw new KerasFileError(`${this.file.label}: ${what} ('${this.path}') holds ${dtype} values; only ${want} weights are supported.`);
    }
    const itemSize = Number(m[3]) as 1 | 2 | 4 | 8;
    const count = shape.reduce((a, b) => a * b, 1);
    const length = count * itemSize;
    const storage = guard(this.file.label, `the storage layout of '${this.path}'`, () => contiguousStorage(recordOf(this.node), this.file.buffer));
    if (typeof storage === 'string') {
      throw new KerasFileError(
        `${this.file.label}: ${what} ('${this.path}') is stored ${storage}; Keras writes contiguous, unfiltered datasets and only those are read.`,
      );
    }
    if (length > this.file.bytes.byteLength) {
      throw new KerasFileError(
        `${this.file.label}: ${what} ('${this.path}') declares ${length} bytes of data, more than the whole file (${this.file.bytes.byteLength} bytes).`,
      );
    }
    if (count === 0) return integer ? new Float64Array(0) : itemSize === 4 ? new Float32Array(0) : new Float64Array(0);
    if (storage.address === undefined) {
      throw new KerasFileError(`${this.file.label}: ${what} ('${this.path}') has no stored values (its data address is undefined).`);
    }
    if (storage.size !== undefined && storage.size !== length) {
      throw new KerasFileError(
        `${this.file.label}: ${what} ('${this.path}') declares ${storage.size} bytes of storage for ${count} values of ${itemSize} bytes (${length} bytes).`,
      );
    }
    this.file.layout.claimData(storage.address, length, this.path);
    if (integer) return decodeNumbers(this.file, storage.address, count, m[2] as 'i' | 'u' | 'f', itemSize, m[1] === '>', `${what} ('${this.path}')`);
    return decodeFloats(this.file, storage.address, count, itemSize as 4 | 8, m[1] === '>', `${what} ('${this.path}')`);
  }
}

/** Where a dataset's values lie, or how it is stored when that is not one contiguous block. */
interface ContiguousStorage {
  /** Undefined when the file stores no values (HDF5's undefined address). */
  address: number | undefined;
  /** The storage size the layout message declares (layout versions 3 and 4 record it). */
  size: number | undefined;
}

const DATA_LAYOUT = 0x08;
const EXTERNAL_FILES = 0x07;
const FILTER_PIPELINE = 0x0b;

/**
 * Reads the data-layout message of a dataset's object header itself (jsfive has no accessor
 * for it): 'contiguous' datasets give their address and size; anything else is named.
 */
function contiguousStorage(record: ObjectRecord, buffer: ArrayBuffer): ContiguousStorage | string {
  const types = record.msgs.map((m) => m.get('type'));
  if (types.includes(FILTER_PIPELINE)) return 'with filters (compression)';
  if (types.includes(EXTERNAL_FILES)) return 'in external files';
  const msg = record.msgs.find((m) => m.get('type') === DATA_LAYOUT);
  if (!msg) return 'without a data layout';
  const view = new DataView(buffer);
  const at = msg.get('offset_to_message');
  const version = view.getUint8(at);
  let layoutClass: number;
  let property: number;
  if (version === 1 || version === 2) {
    layoutClass = view.getUint8(at + 2);
    property = at + 8;
  } else if (version === 3 || version === 4) {
    layoutClass = view.getUint8(at + 1);
    property = at + 2;
  } else return `with an unknown data layout version ${version}`;
  if (layoutClass === 0) return 'compactly (inside its header)';
  if (layoutClass === 2) return 'in chunks';
  if (layoutClass !== 1) return `with an unknown layout class ${layoutClass}`;
  const raw = view.getBigUint64(property, true);
  const address = raw === 0xffffffffffffffffn ? undefined : raw > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(raw);
  let size: number | undefined;
  if (version >= 3) {
    const rawSize = view.getBigUint64(property + 8, true);
    size = rawSize > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(rawSize);
  }
  return { address, size };
}

function joinPath(base: string, name: string): string {
  return base === '/' ? `/${name}` : `${base}/${name}`;
}

function stripNul(s: string): string {
  const i = s.indexOf('\0');
  return i === -1 ? s : s.slice(0, i);
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 60))}`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return v === null ? 'null' : typeof v;
}

/**
 * Runs a jsfive call on untrusted bytes. Any failure is reported as a malformed file; jsfive's
 * console warnings about unusual attribute types are silenced while it runs, so that a file
 * cannot write to the host's console.
 */
export function guard<T>(label: string, what: string, fn: () => T): T {
  const restore = muteConsole();
  try {
    return fn();
  } catch (err) {
    if (err instanceof KerasFileError) throw err;
    throw new KerasFileError(`${label} is not a readable HDF5 file (while reading ${what}: ${describeThrown(err)}).`, { cause: err });
  } finally {
    restore();
  }
}

/**
 * Silences console.warn and console.log, returning what puts them back. A host that froze
 * `console` (node --frozen-intrinsics, SES lockdown) keeps it as it is: Reflect.set reports the
 * refusal where an assignment would throw.
 */
function muteConsole(): () => void {
  const { warn, log } = console;
  const quiet = () => {};
  if (!Reflect.set(console, 'warn', quiet)) return () => {};
  Reflect.set(console, 'log', quiet);
  return () => {
    Reflect.set(console, 'warn', warn);
    Reflect.set(console, 'log', log);
  };
}
