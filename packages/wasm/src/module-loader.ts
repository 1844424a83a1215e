/**
 * Finds and compiles gru.wasm without assuming Node: in a browser, a worker or an edge runtime it
 * is fetched; where the URL is a file: URL (Node, Deno, Bun running from disk) it is read from the
 * file system through the runtime's built-in fs module, reached without a static `node:` import
 * so bundlers for the browser have nothing to resolve.
 */

import { fileReadRefused } from '@gru/core';

/**
 * Where gru.wasm (or, for worker threads, gru-threads.wasm; with `relaxed`, their relaxed-SIMD
 * builds gru-relaxed.wasm and gru-threads-relaxed.wasm) sits next to the built package (dist/),
 * also correct from src/ in this repo. Four literal `new URL(...)` so bundlers see every file.
 */
export function defaultWasmUrl(threads = false, relaxed = false): URL {
  if (relaxed) {
    return threads ? new URL('../dist/gru-threads-relaxed.wasm', import.meta.url) : new URL('../dist/gru-relaxed.wasm', import.meta.url);
  }
  return threads ? new URL('../dist/gru-threads.wasm', import.meta.url) : new URL('../dist/gru.wasm', import.meta.url);
}

/** A function returning three v128 constants combined by f32x4.relaxed_madd (opcode 0xfd 0x105). */
function relaxedProbe(): Uint8Array<ArrayBuffer> {
  const constant = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
  const body = [0x00, ...constant, ...constant, ...constant, 0xfd, 0x85, 0x02, 0x0b];
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = [0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b]; // () -> v128
  const funcs = [0x03, 0x02, 0x01, 0x00];
  return new Uint8Array([...header, ...types, ...funcs, 0x0a, body.length + 2, 0x01, body.length, ...body]);
}

let relaxed: boolean | undefined;

/**
 * Whether this engine runs WebAssembly relaxed SIMD (Chrome/Edge 114+, Node 22+; Node 20 only with
 * --experimental-wasm-relaxed-simd), found by validating a tiny module that uses it.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxed === undefined) {
    try {
      relaxed = typeof WebAssembly === 'object' && WebAssembly.validate(relaxedProbe());
    } catch {
      relaxed = false;
    }
  }
  return relaxed;
}

/**
 * `WebAssembly.Module` where the program's TypeScript libs declare it (the DOM lib does; Node's
 * types do not), else any object: the public types must compile in a Node-only project too.
 * `load()` checks the value is a WebAssembly.Module either way.
 */
export type CompiledModule = typeof globalThis extends { WebAssembly: { Module: { prototype: infer M } } } ? M : object;

export interface WasmSource {
  /**
   * URL or path of gru.wasm (a bundler's asset URL, a CDN address, a file path in Node); of
   * gru-threads.wasm when `threads` is above 1. The same holds for wasmBytes and wasmModule.
   */
  wasmUrl?: string | URL;
  /** The bytes of gru.wasm. */
  wasmBytes?: ArrayBuffer | ArrayBufferView;
  /** An already compiled gru.wasm module. */
  wasmModule?: CompiledModule;
  /**
   * From the default location: load the relaxed-SIMD build (true), the plain SIMD128 one (false),
   * or the relaxed one where the engine has relaxed SIMD (default). Its fused multiply-adds round
   * once where the plain build rounds twice, so the two differ in the last bits (both well within
   * float32 tolerance of Keras); each is deterministic on one machine, for any thread count. A
   * module given by URL, bytes or Module is used as it is.
   */
  relaxedSimd?: boolean;
}

type Builtins = { readFile(path: string | URL): Promise<Uint8Array> };

interface RuntimeProcess {
  getBuiltinModule?: (id: string) => unknown;
  cwd?: () => string;
}

function runtimeProcess(): RuntimeProcess | undefined {
  return (globalThis as { process?: RuntimeProcess }).process;
}

async function fileSystem(): Promise<Builtins> {
  const fromProcess = runtimeProcess()?.getBuiltinModule?.('node:fs/promises') as Builtins | undefined;
  if (fromProcess) return fromProcess;
  // A runtime without process.getBuiltinModule (older Deno/Bun): a computed specifier keeps bundlers out.
  const specifier = ['node', 'fs/promises'].join(':');
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as Builtins;
}

const hasScheme = (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s);

/** A resolved wasmUrl, and the working directory it was resolved against where it was a relative path. */
interface ResolvedUrl {
  url: URL;
  cwd?: string;
}

/**
 * A file path as a file: URL, with `#`, `?` and `%` in it escaped (glued into a URL string, a
 * `#` in a folder's name cut the path short): Node's pathToFileURL where the runtime has it.
 */
function toFileUrl(absolute: string): URL {
  const nodeUrl = runtimeProcess()?.getBuiltinModule?.('node:url') as { pathToFileURL?: (path: string) => URL } | undefined;
  if (nodeUrl?.pathToFileURL) return nodeUrl.pathToFileURL(absolute);
  const url = new URL('file:///');
  // The pathname setter escapes `#` and `?`, not `%`.
  url.pathname = absolute.replace(/\\/g, '/').replace(/%/g, '%25');
  return url;
}

/** A string without a scheme is relative to the page in a browser, or a file path elsewhere. */
export function resolveWasmUrl(given: string | URL): ResolvedUrl {
  if (given instanceof URL) return { url: given };
  if (typeof given !== 'string' || given === '') {
    throw new TypeError(`createWasmBackend: wasmUrl must be a URL or a non-empty string; received ${String(given)}.`);
  }
  if (hasScheme(given)) return { url: new URL(given) };
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  if (page) return { url: new URL(given, page) };
  if (given.startsWith('/') || /^[a-z]:[\\/]/i.test(given)) return { url: toFileUrl(given) };
  const cwd = runtimeProcess()?.cwd?.() ?? '/';
  return { url: toFileUrl(`${cwd.replace(/[\\/]$/, '')}/${given}`), cwd };
}

/**
 * Why a relative path was not found, where the working directory is the likely mistake: a
 * bundler's asset URL ("./gru-XXXX.wasm") is relative to the bundle, which only the app knows.
 */
function relativePathHint(given: string, cwd: string): string {
  return (
    `wasmUrl '${given}' is a relative path, so it was resolved against the working directory (${cwd}); ` +
    `to resolve it against your bundle or module instead, pass wasmUrl: new URL('${given}', import.meta.url)`
  );
}

/** The file is not where it was looked for (not read, not fetched, or not a WebAssembly module). */
class WasmLocationError extends Error {}

/** The engine refuses to compile any WebAssembly here (a page's Content-Security-Policy): no other build would load either. */
class WasmCompileRefused extends Error {}

async function fetchBytes(url: URL, notFoundHint?: string): Promise<ArrayBuffer | Uint8Array> {
  if (url.protocol === 'file:') {
    try {
      return await (await fileSystem()).readFile(url);
    } catch (err) {
      const refused = fileReadRefused(url, err);
      if (refused) throw new Error(refused);
      const code = (err as { code?: unknown }).code;
      const hint = notFoundHint && code === 'ENOENT' ? `; ${notFoundHint}` : '';
      const message = `could not read ${url.href}: ${(err as Error).message}${hint}`;
      // Only a file that is not there says where to put the files; one that is there but unreadable (EACCES, EISDIR) does not.
      throw code === 'ENOENT' || code === 'ENOTDIR' ? new WasmLocationError(message) : new Error(message);
    }
  }
  if (typeof fetch !== 'function') throw new Error(`cannot fetch ${url.href}: this runtime has no fetch()`);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new WasmLocationError(`could not fetch ${url.href}: ${(err as Error).message}`);
  }
  if (!response.ok) throw new WasmLocationError(`fetching ${url.href} answered HTTP ${response.status} ${response.statusText}`);
  return response.arrayBuffer();
}

/** gru-threads.wasm imports its (shared) memory; gru.wasm has its own. */
function checkBuild(module: WebAssembly.Module, threads: boolean, where: string): WebAssembly.Module {
  const importsMemory = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
  if (importsMemory !== threads) {
    throw new Error(
      threads
        ? `${where} is gru.wasm, but worker threads need gru-threads.wasm (the build on shared memory, next to gru.wasm in the package's dist/)`
        : `${where} is gru-threads.wasm, the build for worker threads; with threads: 1 give gru.wasm`,
    );
  }
  return module;
}

/** `option` was type-checked by createWasmBackend, which names it. */
function useRelaxed(option: boolean | undefined): boolean {
  if (option === undefined) return relaxedSimdAvailable();
  if (option && !relaxedSimdAvailable()) {
    throw new Error(
      'relaxedSimd: true, but this engine has no WebAssembly relaxed SIMD (Chrome/Edge 114+, Node 22+, Node 20 with --experimental-wasm-relaxed-simd)',
    );
  }
  return option;
}

/** A compiled module, and why the plain build stands in for the relaxed one where it does. */
export interface CompiledWasm {
  module: WebAssembly.Module;
  /**
   * Set when `relaxedSimd` was left out, the engine has relaxed SIMD, but the relaxed build at the
   * default location could not be fetched or compiled, so the plain SIMD128 build was loaded.
   */
  relaxedFallback?: string;
}

/** What the first bytes of something that is not a WebAssembly module say it is, if they say. */
function notWasm(bytes: ArrayBuffer | ArrayBufferView): string | undefined {
  let view: Uint8Array;
  try {
    view = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  } catch {
    return 'a buffer that was transferred or detached (postMessage with a transfer list?), not a WebAssembly module';
  }
  if (view.length >= 4 && view[0] === 0x00 && view[1] === 0x61 && view[2] === 0x73 && view[3] === 0x6d) return undefined;
  // A page may start with UTF-8's byte order mark (EF BB BF).
  const text = view[0] === 0xef && view[1] === 0xbb && view[2] === 0xbf ? view.subarray(3) : view;
  const head = String.fromCharCode(...text.subarray(0, 64)).trimStart();
  if (head.startsWith('<')) {
    return (
      `a web page (it begins ${JSON.stringify(head.slice(0, 15))}), not a WebAssembly module: no file is at that URL, ` +
      "and the server answered with a page instead (a single-page app's or dev server's fallback does)"
    );
  }
  if (view.length === 0) return 'empty, not a WebAssembly module';
  return `not a WebAssembly module (its first bytes are ${Array.from(view.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}, not 00 61 73 6d)`;
}

/**
 * A compile refused by a Content-Security-Policy: Chromium's CompileError names the policy,
 * Safari throws an EvalError naming 'wasm-unsafe-eval', Firefox a CompileError naming CSP.
 */
function refusedByPolicy(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown } | null;
  return e?.name === 'EvalError' || /Content[- ]Security[- ]Polic|unsafe-eval|\bCSP\b/i.test(String(e?.message ?? ''));
}

async function compileBytes(bytes: ArrayBuffer | ArrayBufferView, threads: boolean, where: string): Promise<WebAssembly.Module> {
  const what = notWasm(bytes);
  if (what !== undefined) throw new WasmLocationError(`${where} is ${what}`);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as BufferSource);
  } catch (err) {
    const message = String((err as Error).message).replace(/\.$/, '');
    if (refusedByPolicy(err)) {
      throw new WasmCompileRefused(`the page's Content-Security-Policy forbids compiling WebAssembly (${message}): add 'wasm-unsafe-eval' to its script-src`);
    }
    throw new Error(
      `${where} is not a valid gru.wasm for this runtime (${message}): the wasm backend needs WebAssembly SIMD128 ` +
        `(Chrome/Edge 91+, Firefox 89+, Safari 16.4+, Node 16.4+, Deno, Bun)${threads ? ', and threads need WebAssembly threads (shared memory and atomics)' : ''}`,
    );
  }
  return checkBuild(module, threads, where);
}

const compileUrl = async (url: URL, threads: boolean) => compileBytes(await fetchBytes(url), threads, url.href);

/**
 * The default location. Chosen automatically, the relaxed build may be missing where an app
 * copied only gru.wasm (bundlers that do not rewrite `new URL(...)`), or be something else (a
 * server's HTML fallback page): the plain build is loaded then, and the reason kept. Asked for
 * explicitly, it must load.
 */
async function compileDefault(option: boolean | undefined, threads: boolean): Promise<CompiledWasm> {
  let relaxedUrl: URL;
  let plainUrl: URL;
  try {
    relaxedUrl = defaultWasmUrl(threads, true);
    plainUrl = defaultWasmUrl(threads, false);
  } catch (err) {
    // import.meta.url is missing or not a URL: a CommonJS bundle of the ES module build does this.
    const file = `gru${threads ? '-threads' : ''}.wasm`;
    throw new Error(
      `the default location of ${file} cannot be worked out here (new URL('../dist/${file}', import.meta.url) failed: ${(err as Error).message}; ` +
        'a CommonJS bundle of the ES module build has no import.meta.url): pass createWasmBackend({ wasmUrl }) or wasmBytes',
    );
  }
  if (!useRelaxed(option)) return { module: await compileAtDefault(plainUrl, threads) };
  let relaxedError: Error;
  try {
    return { module: await compileUrl(relaxedUrl, threads) };
  } catch (err) {
    relaxedError = err as Error;
  }
  // A page that may not compile WebAssembly at all: the plain build would be refused the same way.
  if (relaxedError instanceof WasmCompileRefused) throw relaxedError;
  if (option === true) {
    throw new Error(`relaxedSimd: true, but the relaxed-SIMD build did not load: ${relaxedError.message}${defaultLocationHint(relaxedError)}`);
  }
  try {
    const module = await compileUrl(plainUrl, threads);
    return { module, relaxedFallback: `loaded the plain SIMD128 build ${plainUrl.href}: ${relaxedError.message}` };
  } catch (err) {
    throw new Error(`${relaxedError.message}; the plain SIMD128 build did not load either: ${(err as Error).message}${defaultLocationHint(err)}`);
  }
}

async function compileAtDefault(url: URL, threads: boolean): Promise<WebAssembly.Module> {
  try {
    return await compileUrl(url, threads);
  } catch (err) {
    if (!(err instanceof WasmLocationError)) throw err;
    throw new Error(`${err.message}${defaultLocationHint(err)}`);
  }
}

/**
 * Where the file is not at the default location (a 404, a page in its place, no such file on
 * disk), the package's files were most likely not carried along by a bundler (for a page, or for
 * Node): say which ones do not, and the two ways out. Nothing where the file was found (the
 * engine refused it).
 */
function defaultLocationHint(err: unknown): string {
  if (!(err instanceof WasmLocationError)) return '';
  return (
    ". The default location is beside @gru/wasm's own code (new URL('../dist/…', import.meta.url)), which a bundler must " +
    'rewrite: Vite, webpack 5 and Parcel do for an ES module import; esbuild, Rollup (without @web/rollup-plugin-import-meta-assets), ' +
    "CommonJS bundles and Vite 7's dev server (pre-bundled dependencies: optimizeDeps.exclude ['@gru/wasm']) do not. " +
    "Copy @gru/wasm's dist/*.wasm files where your app can read or fetch them and pass createWasmBackend({ wasmUrl }), or see @gru/wasm's README, 'Where gru.wasm comes from'"
  );
}

/**
 * Compiles gru.wasm (gru-threads.wasm when `threads`) from the first source given: module,
 * bytes, URL, or the default location (the relaxed-SIMD build there, see `relaxedSimd`).
 */
export async function compileWasm(source: WasmSource, threads = false): Promise<CompiledWasm> {
  if (typeof WebAssembly !== 'object') throw new Error('this JavaScript runtime has no WebAssembly');
  if (source.wasmModule !== undefined) {
    if (!(source.wasmModule instanceof WebAssembly.Module)) {
      throw new TypeError(`wasmModule must be a WebAssembly.Module; received ${Object.prototype.toString.call(source.wasmModule)}`);
    }
    return { module: checkBuild(source.wasmModule, threads, 'the wasmModule given') };
  }
  if (source.wasmBytes !== undefined) {
    if (!(source.wasmBytes instanceof ArrayBuffer) && !ArrayBuffer.isView(source.wasmBytes)) {
      throw new TypeError(`wasmBytes must be an ArrayBuffer or a typed array; received ${Object.prototype.toString.call(source.wasmBytes)}`);
    }
    return { module: await compileBytes(source.wasmBytes, threads, 'the wasmBytes given') };
  }
  if (source.wasmUrl !== undefined) {
    const { url, cwd } = resolveWasmUrl(source.wasmUrl);
    const hint = cwd === undefined ? undefined : relativePathHint(source.wasmUrl as string, cwd);
    return { module: await compileBytes(await fetchBytes(url, hint), threads, url.href) };
  }
  return compileDefault(source.relaxedSimd, threads);
}
