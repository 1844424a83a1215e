import { describe, expect, it } from 'vitest';
import { MAX_WASM_BYTES, WasmHeap } from '../src/heap.js';

const memory = () => new WebAssembly.Memory({ initial: 1 });

describe('WasmHeap', () => {
  it('aligns blocks to 64 bytes above the base and counts bytes in use', () => {
    const heap = new WasmHeap(memory(), 1000);
    const a = heap.alloc(10, 'a');
    const b = heap.alloc(100, 'b');
    expect(a % 64).toBe(0);
    expect(a).toBeGreaterThanOrEqual(1000);
    expect(b).toBe(a + 64);
    expect(heap.inUse).toBe(64 + 128);
    heap.release(a);
    heap.release(b);
    expect(heap.inUse).toBe(0);
  });

  it('reuses freed blocks first-fit and merges neighbours', () => {
    const heap = new WasmHeap(memory(), 0);
    const [a, b, c, d] = [64, 64, 64, 64].map((n) => heap.alloc(n, 'x'));
    heap.release(b);
    heap.release(c); // merges with b: a 128-byte hole
    expect(heap.alloc(128, 'y')).toBe(b);
    heap.release(a);
    heap.release(d);
    expect(heap.alloc(64, 'z')).toBe(a);
  });

  it('gives a freed top block back, so the next allocation starts there again', () => {
    const heap = new WasmHeap(memory(), 0);
    const a = heap.alloc(64, 'a');
    const b = heap.alloc(4096, 'b');
    heap.release(b);
    heap.release(a);
    expect(heap.alloc(8192, 'c')).toBe(a);
  });

  it('grows the memory on demand and keeps earlier contents', () => {
    const mem = memory();
    const heap = new WasmHeap(mem, 0);
    const a = heap.alloc(16, 'a');
    new Float32Array(mem.buffer, a, 4).set([1, 2, 3, 4]);
    const big = heap.alloc(3 * 65536, 'big');
    expect(mem.buffer.byteLength).toBeGreaterThanOrEqual(big + 3 * 65536);
    expect(Array.from(new Float32Array(mem.buffer, a, 4))).toEqual([1, 2, 3, 4]);
  });

  it('refuses more than 4 GiB with a message naming the purpose and the sizes', () => {
    const heap = new WasmHeap(memory(), 0);
    heap.alloc(64, 'a');
    expect(() => heap.alloc(MAX_WASM_BYTES, 'a call with batch=1')).toThrow(
      /cannot allocate 4\.00 GiB of WebAssembly memory for a call with batch=1: that would take the module's memory to 4\.00 GiB, and 32-bit WebAssembly addresses at most 4 GiB \(64 bytes already in use\)/,
    );
  });

  it('reports a refused grow with the engine reason', () => {
    const heap = new WasmHeap(new WebAssembly.Memory({ initial: 1, maximum: 2 }), 0);
    expect(() => heap.alloc(5 * 65536, 'the weights')).toThrow(/for the weights: the engine refused to grow the module's memory from 64\.0 KiB/);
  });

  it('rejects freeing an address twice', () => {
    const heap = new WasmHeap(memory(), 0);
    const a = heap.alloc(8, 'a');
    heap.release(a);
    expect(() => heap.release(a)).toThrow(/not allocated/);
  });
});
