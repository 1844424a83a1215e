import { describeThrown, KerasFileError, LimitError } from '../errors.js';
import type { LoadLimits } from '../limits.js';

/**
 * Where a model comes from: a file path (Node) or URL, the file's bytes, or a fetch `Response`
 * (or a `Blob`/`File` from an `<input type=file>`).
 */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer | Response | Blob;

/** Bytes of a file next to the model (TF.js weight shards), by the relative path model.json gives. */
export type SiblingReader = (relativePath: string) => Promise<Uint8Array>;

/** Files given by the caller, for TF.js models passed as bytes: relative path -> contents. */
export type SiblingFiles = Record<string, Uint8Array | ArrayBuffer> | ((relativePath: string) => Promise<Uint8Array | ArrayBuffer>);

export interface ReadSource {
  bytes: Uint8Array;
  /** How messages name this input ('model.keras', 'https://.../model.json', 'the given bytes'). */
  label: string;
  /** Reads files beside this one, when the source has a location. */
  siblings?: SiblingReader;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * Imports a Node built-in only when a path is actually read. The specifier is hidden from
 * bundlers so that a browser build of an app does not try to bundle (or fail on) `node:fs`.
 */
function nodeImport<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

function checkSize(size: number, label: string, limits: LoadLimits): void {
  if (size > limits.maxFileBytes) {
    throw new LimitError('maxFileBytes', `${label} is ${size} bytes, over the limit of ${limits.maxFileBytes} bytes (limits.maxFileBytes).`);
  }
}

/** Percent-decodes until nothing changes (at most a few rounds), so that `%252e` is seen as `.` too. */
function fullyDecoded(path: string): string {
  let text = path;
  for (let round = 0; round < 4; round++) {
    let next: string;
    try {
      next = decodeURIComponent(text);
    } catch {
      return text; // a malformed escape is not a separator or a dot; the raw checks still apply
    }
    if (next === text) break;
    text = next;
  }
  return text;
}

/**
 * A relative path from model.json (a TF.js shard) must stay beside it: no scheme, no absolute
 * path, no '..' segment, and none spelled with percent-encoding either (`%2e%2e`, `.%2E`,
 * `%252e`): a URL resolves `%2e%2e` as '..', and a server may decode `%2f`/`%5c` into separators.
 * So escapes of '.', '/', '\' and NUL are refused outright, and the path is checked again after
 * decoding. Otherwise a file could make the loader fetch or read anything.
 */
export function checkRelativePath(path: unknown, what: string): string {
  if (typeof path !== 'string' || path.length === 0 || path.length > 1024) {
    throw new KerasFileError(`${what} must be a non-empty relative path, received ${JSON.stringify(path)?.slice(0, 100)}.`);
  }
  const unsafe = (text: string) =>
    text.startsWith('/') ||
    text.includes('\\') ||
    text.includes('\0') ||
    /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text) ||
    text.split('/').includes('..');
  if (unsafe(path) || /%(2e|2f|5c|00)/i.test(path) || unsafe(fullyDecoded(path))) {
    throw new KerasFileError(`${what} ${JSON.stringify(path.slice(0, 200))} is not a plain relative path beside model.json; refusing to read it.`);
  }
  return path;
}

/**
 * Where a shard path points, resolved against model.json's URL, checked to stay in model.json's
 * folder on the same origin (whatever spelling got past checkRelativePath, the resolved URL decides).
 */
export function siblingUrl(relative: string, base: string): string {
  const path = checkRelativePath(relative, 'A weight shard path');
  const folder = new URL('.', base);
  const url = new URL(path, base);
  if (url.origin !== folder.origin || url.protocol !== folder.protocol || !url.pathname.startsWith(folder.pathname)) {
    throw new KerasFileError(`A weight shard path ${JSON.stringify(path.slice(0, 200))} resolves to ${url.href}, outside ${folder.href}; refusing to read it.`);
  }
  return url.toString();
}

/** Reads a source into bytes, bounded by `limits.maxFileBytes` before and while reading. */
export async function readSource(source: ModelSource, limits: LoadLimits, what = 'the model'): Promise<ReadSource> {
  if (source instanceof Uint8Array) {
    checkSize(source.byteLength, 'the given bytes', limits);
    return { bytes: source, label: 'the given bytes' };
  }
  if (source instanceof ArrayBuffer) {
    checkSize(source.byteLength, 'the given ArrayBuffer', limits);
    return { bytes: new Uint8Array(source), label: 'the given ArrayBuffer' };
  }
  if (typeof Response !== 'undefined' && source instanceof Response) {
    const label = source.url || 'the given Response';
    return { bytes: await readResponse(source, label, limits), label, siblings: source.url ? urlSiblings(source.url, limits) : undefined };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const label = (source as { name?: string }).name || 'the given Blob';
    checkSize(source.size, label, limits);
    return { bytes: new Uint8Array(await source.arrayBuffer()), label };
  }
  if (typeof source === 'string' && /^file:/i.test(source)) source = new URL(source);
  if (source instanceof URL || typeof source === 'string') {
    const text = String(source);
    if (source instanceof URL ? source.protocol === 'file:' : isNode && !/^[a-zA-Z][a-zA-Z0-9+.-]+:\/\//.test(text)) {
      const path = source instanceof URL ? (await nodeImport<typeof import('node:url')>('node:url')).fileURLToPath(source) : text;
      return { bytes: await readPath(path, limits), label: path, siblings: pathSiblings(path, limits) };
    }
    if (typeof fetch !== 'function') throw new KerasFileError(`Cannot fetch ${text}: this environment has no fetch().`);
    const response = await fetchChecked(text);
    const url = response.url || text;
    return { bytes: await readResponse(response, url, limits), label: url, siblings: urlSiblings(url, limits) };
  }
  throw new KerasFileError(
    `${what} must be a path or URL string, a URL, a Uint8Array, an ArrayBuffer, a Response or a Blob; received ${source === null ? 'null' : typeof source}.`,
  );
}

async function readPath(path: string, limits: LoadLimits): Promise<Uint8Array> {
  const fs = await nodeImport<typeof import('node:fs/promises')>('node:fs/promises');
  let handle;
  try {
    handle = await fs.open(path, 'r');
  } catch (err) {
    throw new KerasFileError(`Cannot open ${path}: ${describeThrown(err)}`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new KerasFileError(`${path} is not a regular file.`);
    checkSize(stat.size, path, limits);
    const bytes = new Uint8Array(stat.size);
    let off = 0;
    while (off < bytes.length) {
      const { bytesRead } = await handle.read(bytes, off, bytes.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === bytes.length ? bytes : bytes.subarray(0, off);
  } finally {
    await handle.close();
  }
}

function pathSiblings(path: string, limits: LoadLimits): SiblingReader {
  return async (relative) => {
    const { dirname, resolve, sep } = await nodeImport<typeof import('node:path')>('node:path');
    const folder = resolve(dirname(path));
    const shard = resolve(folder, checkRelativePath(relative, 'A weight shard path'));
    if (!shard.startsWith(folder.endsWith(sep) ? folder : folder + sep)) {
      throw new KerasFileError(`A weight shard path ${JSON.stringify(relative.slice(0, 200))} resolves to ${shard}, outside ${folder}; refusing to read it.`);
    }
    return readPath(shard, limits);
  };
}

async function fetchChecked(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new KerasFileError(`Cannot fetch ${url}: ${describeThrown(err)}`, { cause: err });
  }
  if (!response.ok) throw new KerasFileError(`Cannot fetch ${url}: HTTP ${response.status} ${response.statusText}`.trim() + '.');
  return response;
}

function urlSiblings(base: string, limits: LoadLimits): SiblingReader {
  return async (relative) => {
    const url = siblingUrl(relative, base);
    return readResponse(await fetchChecked(url), url, limits);
  };
}

/** Reads a response body, stopping as soon as it passes the size limit (a lying or absent Content-Length is not trusted). */
async function readResponse(response: Response, label: string, limits: LoadLimits): Promise<Uint8Array> {
  if (response.bodyUsed) throw new KerasFileError(`${label}: the Response body was already read; pass a fresh Response.`);
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > 0) checkSize(declared, label, limits);
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limits.maxFileBytes) {
      await reader.cancel();
      checkSize(total, label, limits);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/** Sibling reader over files the caller passed (a map or a function). */
export function givenSiblings(files: SiblingFiles, limits: LoadLimits): SiblingReader {
  return async (relative) => {
    const path = checkRelativePath(relative, 'A weight shard path');
    let value: Uint8Array | ArrayBuffer | undefined;
    if (typeof files === 'function') value = await files(path);
    else value = Object.prototype.hasOwnProperty.call(files, path) ? files[path] : undefined;
    if (value === undefined) {
      const known = typeof files === 'function' ? '' : ` (given: ${Object.keys(files).join(', ') || 'none'})`;
      throw new KerasFileError(`Weight shard '${path}' named by model.json was not given in options.files${known}.`);
    }
    const bytes = value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : undefined;
    if (!bytes) throw new KerasFileError(`options.files['${path}'] must be a Uint8Array or an ArrayBuffer.`);
    checkSize(bytes.byteLength, `weight shard '${path}'`, limits);
    return bytes;
  };
}
