import { describe, expect, it } from 'vitest';
import { ThreadPool } from '../src/thread-pool.js';

// The smallest module a pool worker can instantiate: it imports a shared one-page env.memory.
const MODULE = new WebAssembly.Module(
  new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 2, 16, 1, 3, 0x65, 0x6e, 0x76, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 2, 3, 1, 1]),
);
const sharedMemory = () => new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });

describe('ThreadPool.start', () => {
  it("answers on worker_threads' parentPort where a worker also has a self.postMessage (Bun), instead of hanging", async () => {
    // Bun's worker_threads workers have self.postMessage, but the parent's messages never reach
    // self.onmessage: a worker that chose self never heard its job and start() never ended.
    const prelude = "globalThis.self = { postMessage() { throw new Error('answered on self'); } };\n";
    const pool = await ThreadPool.start(MODULE, sharedMemory(), 0, 2, { workerPrelude: prelude });
    expect(pool.size).toBe(2);
    expect(pool.broken).toBeUndefined();
    pool.terminate();
  });

  it('rejects, naming why, when workers never report ready (never pending forever)', async () => {
    // Workers that block before reading their first message stand for a runtime that never delivers it.
    const prelude = 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);\n';
    await expect(ThreadPool.start(MODULE, sharedMemory(), 0, 2, { workerPrelude: prelude, startTimeoutMs: 300 })).rejects.toThrow(
      'could not start 2 wasm worker threads: 0 of 2 workers reported ready within 0.3 s (this runtime may not deliver messages to worker threads made from source); threads: 1 runs without workers',
    );
  });
});
