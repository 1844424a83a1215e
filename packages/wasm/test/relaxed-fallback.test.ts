import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWasmBackend, relaxedSimdAvailable } from '../src/index.js';

// Review item 4: an app that copied only gru.wasm beside its bundle (esbuild or rollup without a
// plugin leave new URL(...) alone) must keep working in an engine with relaxed SIMD. This file
// stands in for such an engine: the probe validates (spied; this file's module instance caches
// the answer), and the runtime's file reader answers ENOENT, or bytes that are no wasm, for the
// relaxed builds' names, as a server's 404 or HTML fallback page would.

type Reader = (path: string | URL) => Promise<Uint8Array>;
const realGetBuiltin = process.getBuiltinModule.bind(process);
let relaxedFile: 'missing' | 'garbage' | 'none-copied' | 'unreadable' = 'missing';
const read: string[] = [];

const fakeReader: Reader = async (path) => {
  const href = String(path);
  read.push(href.slice(href.lastIndexOf('/') + 1));
  if (relaxedFile === 'unreadable') throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read`), { code: 'EISDIR' });
  if ((/-relaxed\.wasm$/.test(href) && relaxedFile === 'missing') || relaxedFile === 'none-copied') {
    throw Object.assign(new Error(`ENOENT: no such file or directory, open '${href}'`), { code: 'ENOENT' });
  }
  if (/-relaxed\.wasm$/.test(href) && relaxedFile === 'garbage') return new TextEncoder().encode('<!doctype html><title>Not found</title>');
  return readFile(path);
};

beforeEach(() => {
  read.length = 0;
  const validate = WebAssembly.validate.bind(WebAssembly);
  vi.spyOn(WebAssembly, 'validate').mockImplementation(() => true);
  expect(relaxedSimdAvailable()).toBe(true);
  vi.mocked(WebAssembly.validate).mockImplementation(validate);
  vi.spyOn(process, 'getBuiltinModule').mockImplementation(((id: string) =>
    id === 'node:fs/promises' ? { readFile: fakeReader } : realGetBuiltin(id)) as typeof process.getBuiltinModule);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the relaxed-SIMD build missing at the default location', () => {
  for (const threads of [1, 2]) {
    const plain = threads > 1 ? 'gru-threads.wasm' : 'gru.wasm';
    const relaxed = threads > 1 ? 'gru-threads-relaxed.wasm' : 'gru-relaxed.wasm';

    it(`threads: ${threads}: left to choose, a missing ${relaxed} falls back to ${plain}, and the backend says why`, async () => {
      relaxedFile = 'missing';
      const b = createWasmBackend({ name: `wasm-fallback-${threads}`, threads });
      expect(b.relaxedSimdFallback).toBeUndefined();
      await b.load();
      try {
        expect(read).toEqual([relaxed, plain]);
        expect(b.isa).toBe('simd128');
        expect(b.relaxedSimdFallback).toMatch(new RegExp(`loaded the plain SIMD128 build .*/${plain}: could not read .*/${relaxed}: ENOENT`));
      } finally {
        b.dispose();
      }
      expect(b.relaxedSimdFallback).toBeUndefined();
    });
  }

  it('left to choose, a relaxed file that does not compile (an HTML page served in its place) falls back too', async () => {
    relaxedFile = 'garbage';
    const b = createWasmBackend({ name: 'wasm-fallback-garbage' });
    await b.load();
    try {
      expect(read).toEqual(['gru-relaxed.wasm', 'gru.wasm']);
      expect(b.isa).toBe('simd128');
      expect(b.relaxedSimdFallback).toMatch(/gru-relaxed\.wasm is a web page \(it begins "<!doctype html>"\), not a WebAssembly module/);
    } finally {
      b.dispose();
    }
  });

  it('no build at the default location (a bundle for Node that left dist/ behind): load() says where it looked and how to give the files', async () => {
    relaxedFile = 'none-copied';
    const b = createWasmBackend({ name: 'wasm-none-copied' });
    await expect(b.load()).rejects.toThrow(
      /could not read file:\/\/.*\/gru-relaxed\.wasm: ENOENT.*; the plain SIMD128 build did not load either: could not read file:\/\/.*\/gru\.wasm: ENOENT.*\. The default location is beside @gru\/wasm's own code .*pass createWasmBackend\(\{ wasmUrl \}\)/,
    );
  });

  it('something unreadable at the default location (a folder, no permission): load() says so, without advice on where to put the files', async () => {
    relaxedFile = 'unreadable';
    const err = (await createWasmBackend({ name: 'wasm-unreadable' })
      .load()
      .then(
        () => new Error('loaded'),
        (e: Error) => e,
      )) as Error;
    expect(err.message).toMatch(
      /could not read file:\/\/.*\/gru-relaxed\.wasm: EISDIR.*; the plain SIMD128 build did not load either: could not read file:\/\/.*\/gru\.wasm: EISDIR/,
    );
    expect(err.message).not.toMatch(/default location/);
  });

  it('relaxedSimd: true does not fall back: load() rejects, naming the file it looked for', async () => {
    relaxedFile = 'missing';
    const b = createWasmBackend({ name: 'wasm-relaxed-required', relaxedSimd: true });
    await expect(b.load()).rejects.toThrow(
      /relaxedSimd: true, but the relaxed-SIMD build did not load: could not read file:\/\/.*\/dist\/gru-relaxed\.wasm: ENOENT/,
    );
    expect(read).toEqual(['gru-relaxed.wasm']);
    expect(b.isLoaded()).toBe(false);
  });

  it('relaxedSimd: false reads only the plain build and reports no fallback', async () => {
    const b = createWasmBackend({ name: 'wasm-plain-asked', relaxedSimd: false });
    await b.load();
    expect(read).toEqual(['gru.wasm']);
    expect(b.isa).toBe('simd128');
    expect(b.relaxedSimdFallback).toBeUndefined();
    b.dispose();
  });

  it('both builds missing: the error names both', async () => {
    relaxedFile = 'missing';
    vi.mocked(process.getBuiltinModule).mockImplementation(((id: string) =>
      id === 'node:fs/promises'
        ? {
            readFile: async (p: string | URL) => {
              read.push(String(p));
              throw new Error('ENOENT');
            },
          }
        : realGetBuiltin(id)) as typeof process.getBuiltinModule);
    await expect(createWasmBackend({ name: 'wasm-none' }).load()).rejects.toThrow(
      /could not read .*gru-relaxed\.wasm: ENOENT; the plain SIMD128 build did not load either: could not read .*\/gru\.wasm: ENOENT/,
    );
  });
});
