import * as jsfive from 'jsfive';
import { describeThrown, formatShape, KerasFileError } from '../errors.js';
import { installAttributeGuard } from './h5-guard.js';

/**
 * A read-only view of an HDF5 file through jsfive. Everything jsfive throws (it throws strings
 * as well as errors) becomes a KerasFileError naming the file and the object being read, and
 * dataset values are only read once their shape, type, layout and size have been checked.
 */
export class H5File {
  readonly root: H5Group;

  constructor(readonly bytes: Uint8Array, readonly label: string) {
    const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
      ? bytes.buffer
      : bytes.slice().buffer;
    const file = guard(label, 'the HDF5 superblock', () => new jsfive.File(buffer, label));
    installAttributeGuard(file);
    this.root = new H5Group(this, file, '/');
  }
}

export class H5Group {
  private attrCache: Record<string, unknown> | undefined;
  private keyCache: string[] | undefined;
  // jsfive re-parses an object header on every get(); members are looked up once and kept.
  private readonly children = new Map<string, H5Group | H5Dataset>();

  constructor(readonly file: H5File, private readonly node: jsfive.Group, readonly path: string) {}

  keys(): string[] {
    this.keyCache ??= guard(this.file.label, `the members of group '${this.path}'`, () => [...this.node.keys]);
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
    this.attrCache ??= guard(this.file.label, `the attributes of '${this.path}'`, () => ({ ...this.node.attrs }));
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
  constructor(readonly file: H5File, private readonly node: jsfive.Dataset, readonly path: string) {}

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
   * float64 numbers, is stored contiguously without filters (as Keras writes it), and fits in
   * the file: only then is memory allocated for it.
   */
  read(expected: readonly number[], what: string): Float32Array | Float64Array {
    const shape = this.shape;
    if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
      throw new KerasFileError(`${this.file.label}: ${what} ('${this.path}') has shape ${formatShape(shape)}, but the model config needs ${formatShape(expected)}.`);
    }
    const dtype = this.dtype;
    const m = /^([<>|=]?)f([48])$/.exec(dtype);
    if (!m) {
      throw new KerasFileError(`${this.file.label}: ${what} ('${this.path}') holds ${dtype} values; only float32 and float64 weights are supported.`);
    }
    const itemSize = Number(m[2]);
    const count = shape.reduce((a, b) => a * b, 1);
    const layout = this.layout();
    if (layout !== 'contiguous') {
      throw new KerasFileError(`${this.file.label}: ${what} ('${this.path}') is stored ${layout}; Keras writes contiguous, unfiltered datasets and only those are read.`);
    }
    if (count * itemSize > this.file.bytes.byteLength) {
      throw new KerasFileError(`${this.file.label}: ${what} ('${this.path}') declares ${count * itemSize} bytes of data, more than the whole file (${this.file.bytes.byteLength} bytes).`);
    }
    const values = guard(this.file.label, `the values of '${this.path}'`, () => this.node.value);
    if (!values || typeof values.length !== 'number' || values.length !== count) {
      throw new KerasFileError(`${this.file.label}: ${what} ('${this.path}') should hold ${count} values, found ${values?.length ?? 'none'}.`);
    }
    const out = itemSize === 4 ? new Float32Array(count) : new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (typeof v !== 'number') throw new KerasFileError(`${this.file.label}: ${what} ('${this.path}') holds a non-numeric value at index ${i}.`);
      out[i] = v;
    }
    return out;
  }

  /**
   * 'contiguous', or how else the data is stored. jsfive has no public accessor for the layout,
   * so its data-object fields are read here (jsfive is pinned; a test covers this).
   */
  private layout(): string {
    return guard(this.file.label, `the storage layout of '${this.path}'`, () => {
      const objects = (this.node as unknown as { _dataobjects?: { chunks?: unknown; filter_pipeline?: unknown } })._dataobjects;
      if (!objects) return 'in an unknown layout';
      if (objects.filter_pipeline !== null && objects.filter_pipeline !== undefined) return 'with filters (compression)';
      if (objects.chunks !== null && objects.chunks !== undefined) return 'in chunks';
      return 'contiguous';
    });
  }
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
  const { warn, log } = console;
  console.warn = () => {};
  console.log = () => {};
  try {
    return fn();
  } catch (err) {
    if (err instanceof KerasFileError) throw err;
    throw new KerasFileError(`${label} is not a readable HDF5 file (while reading ${what}: ${describeThrown(err)}).`, { cause: err });
  } finally {
    console.warn = warn;
    console.log = log;
  }
}
