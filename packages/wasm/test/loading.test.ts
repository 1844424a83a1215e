import { GRU, referenceForward, registerBackend, unregisterBackend } from '@gru/core';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWasmBackend, defaultWasmUrl } from '../src/index.js';
import { resolveWasmUrl } from '../src/module-loader.js';
import { makeCase, worstRatio } from './helpers.js';

const wasmPath = fileURLToPath(defaultWasmUrl());

async function runsCorrectly(options: Parameters<typeof createWasmBackend>[0]) {
  const b = createWasmBackend({ name: 'wasm-loading', ...options });
  await b.load();
  expect(b.isLoaded()).toBe(true);
  const { spec, weights, request } = makeCase({ B: 2, T: 4, D: 3, H: 5 }, 9);
  const p = await b.prepare(spec, weights);
  const got = p.forwardSync(request);
  expect(worstRatio(got.output, referenceForward(spec, weights, request).output)).toBeLessThanOrEqual(1);
  p.dispose();
  b.dispose();
}

describe('finding gru.wasm', () => {
  it('the default location is dist/gru.wasm next to the package', () => {
    expect(defaultWasmUrl().href).toMatch(/\/packages\/wasm\/dist\/gru\.wasm$/);
  });

  it('from bytes', () => runsCorrectly({ wasmBytes: readFileSync(wasmPath) }));
  it('from a compiled WebAssembly.Module', async () => runsCorrectly({ wasmModule: await WebAssembly.compile(readFileSync(wasmPath)) }));
  it('from a file: URL', () => runsCorrectly({ wasmUrl: defaultWasmUrl() }));
  it('from a file path string', () => runsCorrectly({ wasmUrl: wasmPath }));

  it('the CommonJS build (dist/index.cjs) finds it as well', async () => {
    const cjs = createRequire(import.meta.url)('../dist/index.cjs') as typeof import('../src/index.js');
    expect(cjs.defaultWasmUrl().href).toBe(defaultWasmUrl().href);
    const b = cjs.createWasmBackend({ name: 'wasm-cjs' });
    await b.load();
    expect(b.isLoaded()).toBe(true);
    b.dispose();
  });

  it('a missing file rejects load() with the URL and the reason, and a later load() retries', async () => {
    const b = createWasmBackend({ name: 'wasm-missing', wasmUrl: '/nonexistent/gru.wasm' });
    await expect(b.load()).rejects.toThrow(/could not load gru\.wasm: could not read file:\/\/\/nonexistent\/gru\.wasm: .*ENOENT/);
    expect(b.isLoaded()).toBe(false);
    await expect(b.load()).rejects.toThrow(/ENOENT/);
  });

  it('a relative path string is a path from the working directory in Node', () => runsCorrectly({ wasmUrl: relative(process.cwd(), wasmPath) }));

  // A bundler's asset URL ("./gru-XXXX.wasm" from esbuild's file loader) is relative to the
  // bundle, but a string here can only be resolved against the working directory: say so.
  it('a relative path that is missing names the working directory and suggests new URL(path, import.meta.url)', async () => {
    const b = createWasmBackend({ name: 'wasm-relative', wasmUrl: './gru-ABCD1234.wasm' });
    const err = (await b.load().then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(err.message).toContain(`could not read ${new URL(`file://${process.cwd()}/gru-ABCD1234.wasm`).href}: ENOENT`);
    const hint =
      `; wasmUrl './gru-ABCD1234.wasm' is a relative path, so it was resolved against the working directory (${process.cwd()}); ` +
      "to resolve it against your bundle or module instead, pass wasmUrl: new URL('./gru-ABCD1234.wasm', import.meta.url)";
    expect(err.message.endsWith(hint), err.message).toBe(true);
    // An absolute path or a URL was not resolved against anything: no such hint.
    await expect(createWasmBackend({ wasmUrl: '/nonexistent/gru.wasm' }).load()).rejects.not.toThrow(/working directory/);
    await expect(createWasmBackend({ wasmUrl: new URL('file:///nonexistent/gru.wasm') }).load()).rejects.not.toThrow(/working directory/);
  });

  it("a file path with '#', '?' or '%' in a folder's name loads (they were read as URL syntax)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gru wasm #1 ?a=%41 '));
    try {
      copyFileSync(wasmPath, join(dir, 'gru.wasm'));
      const { url } = resolveWasmUrl(join(dir, 'gru.wasm'));
      expect(fileURLToPath(url)).toBe(join(dir, 'gru.wasm'));
      const backend = createWasmBackend({ wasmUrl: join(dir, 'gru.wasm') });
      await backend.load();
      expect(backend.isLoaded()).toBe(true);
      backend.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in a page, a relative string is relative to the page (unchanged), with no working directory', () => {
    const g = globalThis as { location?: { href: string } };
    g.location = { href: 'https://example.com/app/index.html' };
    try {
      const { url, cwd } = resolveWasmUrl('./gru-ABCD1234.wasm');
      expect([url.href, cwd]).toEqual(['https://example.com/app/gru-ABCD1234.wasm', undefined]);
    } finally {
      delete g.location;
    }
  });

  it('bytes that are not gru.wasm are refused with a reason', async () => {
    await expect(createWasmBackend({ wasmBytes: new Uint8Array([1, 2, 3, 4]) }).load()).rejects.toThrow(
      /^the wasm backend could not load gru\.wasm: the wasmBytes given is not a WebAssembly module \(its first bytes are 01 02 03 04, not 00 61 73 6d\)$/,
    );
    await expect(createWasmBackend({ wasmBytes: new Uint8Array(0) }).load()).rejects.toThrow(/the wasmBytes given is empty, not a WebAssembly module/);
    const page = new TextEncoder().encode('\n  <!DOCTYPE html><html><body>Not found</body></html>');
    await expect(createWasmBackend({ wasmBytes: page }).load()).rejects.toThrow(
      /the wasmBytes given is a web page \(it begins "<!DOCTYPE html>"\), not a WebAssembly module/,
    );
    const bom = new TextEncoder().encode('\uFEFF<!doctype html><title>x</title>');
    await expect(createWasmBackend({ wasmBytes: bom }).load()).rejects.toThrow(/the wasmBytes given is a web page \(it begins "<!doctype html>"\)/);
    const moved = new Uint8Array(16);
    structuredClone(moved.buffer, { transfer: [moved.buffer] });
    await expect(createWasmBackend({ wasmBytes: moved }).load()).rejects.toThrow(
      /the wasmBytes given is a buffer that was transferred or detached \(postMessage with a transfer list\?\), not a WebAssembly module/,
    );
    // A module this engine cannot compile (here: cut short) is where SIMD support is the question.
    const cut = readFileSync(wasmPath).subarray(0, 200);
    await expect(createWasmBackend({ wasmBytes: cut }).load()).rejects.toThrow(/the wasmBytes given is not a valid gru\.wasm for this runtime .*SIMD128/);
    const other = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]); // an empty but valid module
    await expect(createWasmBackend({ wasmBytes: other }).load()).rejects.toThrow(/lacks the exports memory, heapBase/);
  });

  it('a wrong option type is named', async () => {
    await expect(createWasmBackend({ wasmModule: {} as WebAssembly.Module }).load()).rejects.toThrow(/wasmModule must be a WebAssembly.Module/);
    await expect(createWasmBackend({ wasmBytes: 'abc' as unknown as Uint8Array }).load()).rejects.toThrow(/wasmBytes must be an ArrayBuffer or a typed array/);
  });

  it('fetches http(s) URLs (served here from 127.0.0.1)', async () => {
    const { createServer } = await import('node:http');
    const bytes = readFileSync(wasmPath);
    const server = createServer((req, res) => {
      if (req.url === '/gru.wasm') {
        res.writeHead(200, { 'content-type': 'application/wasm' });
        res.end(bytes);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      await runsCorrectly({ wasmUrl: `http://127.0.0.1:${port}/gru.wasm` });
      await expect(createWasmBackend({ wasmUrl: `http://127.0.0.1:${port}/missing.wasm` }).load()).rejects.toThrow(/answered HTTP 404/);
    } finally {
      server.close();
    }
  });
});

describe('a runtime where gru.wasm cannot load', () => {
  it('automatic selection passes over the backend, says why, and runs the call elsewhere', async () => {
    // Stands in for a runtime without SIMD128: compiling fails, load() rejects.
    const broken = createWasmBackend({ name: 'wasm-broken', priority: 100, wasmBytes: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 9]) });
    registerBackend(broken);
    try {
      const layer = new GRU({ units: 3 });
      const result = await layer.forward({ shape: [1, 2, 2], data: [1, 2, 3, 4] });
      expect(result.backend).not.toBe('wasm-broken');
      expect(result.skipped.find((s) => s.name === 'wasm-broken')?.reason).toMatch(/failed to load: the wasm backend could not load gru\.wasm: .*SIMD128/);
      layer.dispose();
    } finally {
      unregisterBackend('wasm-broken');
    }
  });
});
