import { GruError } from '@gru/core';

const PAGE = 65536;
/** 32-bit WebAssembly addresses at most 65536 pages. */
export const MAX_WASM_BYTES = 4 * 1024 * 1024 * 1024;
const ALIGN = 64;

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/**
 * A first-fit allocator over a module's linear memory, above the module's static data. Blocks
 * are 64-byte aligned (cache lines; SIMD loads need 16). Memory grows on demand and, as in every
 * WebAssembly engine, never shrinks; freed blocks are reused and adjacent ones merged.
 */
export class WasmHeap {
  private readonly used = new Map<number, number>();
  /** Free blocks below `top`, sorted by address. */
  private readonly freeBlocks: { ptr: number; size: number }[] = [];
  private top: number;
  private bytesInUse = 0;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = alignUp(base);
  }

  /** Bytes currently allocated (weights of live prepared layers, and a running call's buffers). */
  get inUse(): number {
    return this.bytesInUse;
  }

  /** Bytes the module's memory has grown to. */
  get reserved(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Allocates `bytes` (rounded up to 64); `what` names the purpose for the out-of-memory error (a
   * function where every call allocates, so the name is built only when memory runs out).
   */
  alloc(bytes: number, what: string | (() => string)): number {
    const size = Math.max(ALIGN, alignUp(bytes));
    const i = this.freeBlocks.findIndex((b) => b.size >= size);
    let ptr: number;
    if (i >= 0) {
      const block = this.freeBlocks[i];
      ptr = block.ptr;
      if (block.size === size) this.freeBlocks.splice(i, 1);
      else {
        block.ptr += size;
        block.size -= size;
      }
    } else {
      ptr = this.top;
      this.ensure(ptr + size, size, what);
      this.top = ptr + size;
    }
    this.used.set(ptr, size);
    this.bytesInUse += size;
    return ptr;
  }

  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new Error(`WasmHeap: address ${ptr} is not allocated (double free?)`);
    this.used.delete(ptr);
    this.bytesInUse -= size;
    let at = this.freeBlocks.findIndex((b) => b.ptr > ptr);
    if (at < 0) at = this.freeBlocks.length;
    this.freeBlocks.splice(at, 0, { ptr, size });
    // Merge with the next block, then the previous one.
    const next = this.freeBlocks[at + 1];
    if (next && ptr + size === next.ptr) {
      this.freeBlocks[at].size += next.size;
      this.freeBlocks.splice(at + 1, 1);
    }
    const prev = this.freeBlocks[at - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.freeBlocks[at].size;
      this.freeBlocks.splice(at, 1);
      at--;
    }
    // A free block at the top is given back to the bump region.
    const last = this.freeBlocks[this.freeBlocks.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.freeBlocks.pop();
    }
  }

  private ensure(end: number, size: number, what: string | (() => string)): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const fail = (why: string) =>
      new GruError(
        'ValueError',
        `The wasm backend cannot allocate ${formatBytes(size)} of WebAssembly memory for ${typeof what === 'function' ? what() : what}: ${why}. ` +
          `Use a smaller batch or shorter sequences per call, or another backend.`,
      );
    if (end > MAX_WASM_BYTES) {
      throw fail(
        `that would take the module's memory to ${formatBytes(end)}, and 32-bit WebAssembly addresses at most 4 GiB (${formatBytes(this.bytesInUse)} already in use)`,
      );
    }
    // Grow geometrically (bounded by the limit) so a sequence of growing calls does not regrow each time.
    const want = Math.min(MAX_WASM_BYTES, Math.max(end, Math.floor(have * 1.25)));
    const pages = Math.ceil((want - have) / PAGE);
    const minPages = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(minPages);
      } catch (err) {
        throw fail(
          `the engine refused to grow the module's memory from ${formatBytes(have)} to ${formatBytes(have + minPages * PAGE)} (${(err as Error).message})`,
        );
      }
    }
  }
}
