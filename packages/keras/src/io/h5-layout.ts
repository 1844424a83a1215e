import { KerasFileError } from '../errors.js';

/**
 * Where an HDF5 file keeps its own structures, as far as the loader has walked it: the
 * superblock, the object headers (with their continuation blocks) of every group and dataset
 * it opened, and each group's symbol table (B-tree nodes, symbol-table nodes, local heap). A
 * dataset's data must lie in the file, outside all of these and outside every other dataset's
 * data: a data address pointing into metadata would decode headers as weights (the model then
 * predicts NaN), and two datasets sharing bytes is no file Keras writes.
 */

const UNDEFINED = 0xffffffffffffffffn;
const OBJECT_CONTINUATION = 0x10;
const SYMBOL_TABLE = 0x11;
/** More B-tree and symbol-table nodes than a file of this size can hold means a cycle or garbage. */
const NODE_BYTES = 24;

interface Span {
  start: number;
  end: number;
  what: string;
  /** The dataset whose values these are (data spans only). */
  dataset?: string;
}

/** The parts of jsfive's data-object record the walk reads (jsfive is pinned; test/h5-guard.test.ts covers them). */
export interface ObjectRecord {
  offset: number;
  msgs: { get(key: string): number }[];
  _header: { get(key: string): number };
}

export class H5Layout {
  private readonly metadata: Span[] = [];
  private readonly data: Span[] = [];
  private readonly walked = new Set<string>();
  private readonly view: DataView;

  /** `length`: the file's bytes are `buffer`'s first `length` bytes. */
  constructor(
    buffer: ArrayBuffer,
    private readonly length: number,
    private readonly label: string,
  ) {
    this.view = new DataView(buffer, 0, length);
    const version = length > 8 ? this.view.getUint8(8) : 0;
    // Version 0 and 1 superblocks (56 and 60 bytes with 8-byte addresses) are followed by the
    // root group's symbol-table entry (40 bytes); versions 2 and 3 are 48 bytes with a checksum.
    this.addMetadata(0, version === 0 ? 96 : version === 1 ? 100 : 48, 'the superblock');
  }

  /** Records the object header of `path` (and, for a group, its symbol table). */
  addObject(record: ObjectRecord, path: string): void {
    const key = `o${record.offset}`;
    if (this.walked.has(key)) return;
    this.walked.add(key);
    const what = `the object header of '${path}'`;
    const header = record._header;
    if (header.get('version') === 1) {
      this.addMetadata(record.offset, 16 + header.get('object_header_size'), what);
    } else {
      const flags = header.get('flags');
      const prefix = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0) + (1 << (flags & 3));
      this.addMetadata(record.offset, prefix + header.get('size_of_chunk_0') + 4, what);
    }
    for (const msg of record.msgs) {
      const at = msg.get('offset_to_message');
      if (msg.get('type') === OBJECT_CONTINUATION) {
        const block = this.address(at);
        if (block !== undefined) this.addMetadata(block, this.number(at + 8), `${what} (a continuation block)`);
      } else if (msg.get('type') === SYMBOL_TABLE) {
        const btree = this.address(at);
        const heap = this.address(at + 8);
        if (heap !== undefined) this.addHeap(heap, path);
        if (btree !== undefined) this.addGroupTree(btree, path);
      }
    }
  }

  /**
   * Claims `length` bytes at `start` for the values of `path`: refused when they leave the
   * file, overlap the file's structures or another dataset's values.
   */
  claimData(start: number, length: number, path: string): void {
    const end = start + length;
    if (!Number.isSafeInteger(end) || end > this.length) {
      throw new KerasFileError(
        `${this.label}: dataset '${path}' stores its ${length} bytes of values at offset ${start}, past the end of the file (${this.length} bytes).`,
      );
    }
    if (length === 0) return;
    const span = { start, end, what: `the values of dataset '${path}'`, dataset: path };
    const hit = this.metadata.find((m) => overlaps(m, span)) ?? this.data.find((d) => overlaps(d, span));
    if (hit) throw overlapError(this.label, span, hit);
    this.data.push(span);
  }

  private addMetadata(start: number, length: number, what: string): void {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || length <= 0) return;
    const span = { start, end: Math.min(start + length, this.length), what };
    if (span.end <= span.start) return;
    // Structures found after a dataset's values were claimed are checked against them too.
    const hit = this.data.find((d) => overlaps(d, span));
    if (hit) throw overlapError(this.label, hit, span);
    this.metadata.push(span);
  }

  /** A local heap: its 32-byte header and its data segment. */
  private addHeap(at: number, path: string): void {
    if (!this.walk(`h${at}`) || !this.signature(at, 'HEAP')) return;
    this.addMetadata(at, 32, `the local heap of group '${path}'`);
    const size = this.number(at + 8);
    const segment = this.address(at + 24);
    if (segment !== undefined) this.addMetadata(segment, size, `the local heap of group '${path}'`);
  }

  /** A group's version-1 B-tree: every node, and the symbol-table nodes its leaves point to. */
  private addGroupTree(root: number, path: string): void {
    const pending = [root];
    let budget = Math.floor(this.length / NODE_BYTES) + 1;
    while (pending.length > 0 && budget-- > 0) {
      const at = pending.pop() as number;
      if (!this.walk(`t${at}`) || !this.signature(at, 'TREE')) continue;
      const level = this.view.getUint8(at + 5);
      const entries = this.view.getUint16(at + 6, true);
      this.addMetadata(at, NODE_BYTES + entries * 16 + 8, `a B-tree node of group '${path}'`);
      for (let i = 0; i < entries; i++) {
        const child = this.address(at + NODE_BYTES + 8 + 16 * i);
        if (child === undefined) continue;
        if (level > 0) pending.push(child);
        else if (this.walk(`s${child}`) && this.signature(child, 'SNOD')) {
          this.addMetadata(child, 8 + 40 * this.view.getUint16(child + 6, true), `a symbol-table node of group '${path}'`);
        }
      }
    }
  }

  private walk(key: string): boolean {
    if (this.walked.has(key)) return false;
    this.walked.add(key);
    return true;
  }

  private signature(at: number, text: string): boolean {
    if (at + 8 > this.length) return false;
    for (let i = 0; i < 4; i++) if (this.view.getUint8(at + i) !== text.charCodeAt(i)) return false;
    return true;
  }

  /** An 8-byte file address, or undefined when undefined (all ones), unsafe or outside the file. */
  private address(at: number): number | undefined {
    if (at < 0 || at + 8 > this.length) return undefined;
    const value = this.view.getBigUint64(at, true);
    if (value === UNDEFINED || value >= BigInt(this.length)) return undefined;
    return Number(value);
  }

  /** An 8-byte length, clamped to what a file of this size can hold. */
  private number(at: number): number {
    if (at < 0 || at + 8 > this.length) return 0;
    const value = this.view.getBigUint64(at, true);
    return value > BigInt(this.length) ? this.length : Number(value);
  }
}

function overlapError(label: string, data: Span, other: Span): KerasFileError {
  return new KerasFileError(
    `${label}: dataset '${data.dataset}' stores its values at bytes ${data.start}..${data.end}, which overlap ${other.what} (bytes ${other.start}..${other.end}); ` +
      'refusing a file whose weights would be read from its own structures or from another dataset.',
  );
}

function overlaps(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end;
}
