import { describeThrown, KerasFileError } from '../errors.js';
import { checkFileSize, fetchChecked, readResponse, shownUrl, type FetchContext } from './fetch.js';
import { nodeImport, readRegularFile, realFolderOf } from './files.js';

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
 * The URL scheme a string starts with ('https:', 'data:'), lowercased, or undefined for a path. A
 * one-letter scheme is a Windows drive ('C:\\models\\m.keras'), not a URL.
 */
function schemeOf(text: string): string | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]+):/.exec(text);
  return m ? `${m[1].toLowerCase()}:` : undefined;
}

/** The URL schemes that Node's fetch() reads; file: URLs are read as paths. */
const NODE_FETCHED = ['http:', 'https:', 'data:', 'blob:'];

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
    text.startsWith('/') || text.includes('\\') || text.includes('\0') || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text) || text.split('/').includes('..');
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

/** What reading a source needs: limits, the load's byte budget and its deadline. */
export type ReadContext = FetchContext;

/**
 * Reads a source into bytes, bounded by `limits.maxFileBytes` before and while reading, counted
 * against `limits.maxBytes`, and stopped by the load's signal or deadline. `owned` says whether
 * the bytes are the loader's own (read here) rather than the caller's.
 */
export async function readSource(source: ModelSource, ctx: ReadContext, what = 'the model'): Promise<ReadSource & { owned: boolean }> {
  const { limits } = ctx;
  if (source instanceof Uint8Array) {
    checkFileSize(source.byteLength, 'the given bytes', limits);
    return { bytes: source, label: 'the given bytes', owned: false };
  }
  if (source instanceof ArrayBuffer) {
    checkFileSize(source.byteLength, 'the given ArrayBuffer', limits);
    return { bytes: new Uint8Array(source), label: 'the given ArrayBuffer', owned: false };
  }
  // Paths and URLs first: on Node 20/22 under --jitless, merely reading the global `Response`
  // starts Node's fetch, whose WebAssembly-less start kills the process; a path never needs it.
  if (typeof source === 'string' && /^file:/i.test(source)) source = fileUrl(source);
  if (source instanceof URL || typeof source === 'string') {
    const text = String(source);
    const scheme = source instanceof URL ? source.protocol : schemeOf(text);
    if (scheme === 'file:' || (isNode && scheme === undefined)) {
      const path = source instanceof URL ? await filePath(source) : text;
      return { bytes: await readRegularFile(path, ctx), label: path, siblings: pathSiblings(path, ctx), owned: true };
    }
    if (isNode && !NODE_FETCHED.includes(scheme as string)) {
      // Not a path (that would have said ENOENT), and not a URL that fetch() reads.
      throw new KerasFileError(
        `Cannot load ${shownUrl(text)}: the URL scheme '${scheme}' is not supported. In Node, loadModel reads file paths, file: URLs, and ` +
          `http:, https:, data: and blob: URLs (fetched); pass anything else as its bytes (a Uint8Array or an ArrayBuffer), a Response or a Blob.` +
          (typeof source === 'string' ? ` A relative path that contains ':' can be written './${text.slice(0, 200)}'.` : ''),
      );
    }
    if (typeof fetch !== 'function') throw new KerasFileError(`Cannot fetch ${shownUrl(text)}: this environment has no fetch().`);
    // model.json itself may be redirected anywhere http(s) (the caller chose that server); its
    // shards are then read from the folder of the URL it was finally served from. A data: or
    // blob: URL has no folder: its shards can only be given (options.files).
    const response = await fetchChecked(text, ctx, undefined);
    const url = response.url || text;
    const label = shownUrl(url);
    const folder = /^https?:/i.test(url);
    return { bytes: await readResponse(response, label, ctx), label, siblings: folder ? urlSiblings(url, ctx) : undefined, owned: true };
  }
  if (typeof Response !== 'undefined' && source instanceof Response) {
    const label = source.url ? shownUrl(source.url) : 'the given Response';
    return { bytes: await readResponse(source, label, ctx), label, siblings: source.url ? urlSiblings(source.url, ctx) : undefined, owned: true };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const label = (source as { name?: string }).name || 'the given Blob';
    checkFileSize(source.size, label, limits);
    ctx.budget.take(source.size, label);
    ctx.deadline.check(`Reading ${label}`);
    return { bytes: new Uint8Array(await source.arrayBuffer()), label, owned: true };
  }
  throw new KerasFileError(
    `${what} must be a path or URL string, a URL, a Uint8Array, an ArrayBuffer, a Response or a Blob; received ${source === null ? 'null' : typeof source}.`,
  );
}

/** Shards beside a model.json on disk: regular files whose real path stays in model.json's real folder. */
function pathSiblings(path: string, ctx: ReadContext): SiblingReader {
  let realFolder: Promise<string> | undefined;
  return async (relative) => {
    const { dirname, resolve, sep } = await nodeImport<typeof import('node:path')>('node:path');
    const folder = resolve(dirname(path));
    const shard = resolve(folder, checkRelativePath(relative, 'A weight shard path'));
    if (!shard.startsWith(folder.endsWith(sep) ? folder : folder + sep)) {
      throw new KerasFileError(`A weight shard path ${JSON.stringify(relative.slice(0, 200))} resolves to ${shard}, outside ${folder}; refusing to read it.`);
    }
    realFolder ??= realFolderOf(path);
    return readRegularFile(shard, ctx, { folder: await realFolder, what: 'Weight shard' });
  };
}

/** Shards beside a model.json on a server: fetched only from model.json's folder, redirects included. */
function urlSiblings(base: string, ctx: ReadContext): SiblingReader {
  return async (relative) => {
    const url = siblingUrl(relative, base);
    const response = await fetchChecked(url, ctx, (target) => insideFolder(target, base, relative));
    return readResponse(response, url, ctx);
  };
}

/** Throws unless `target` (a redirect of shard `relative`) lies in `base`'s folder on the same origin. */
function insideFolder(target: string, base: string, relative: string): void {
  const folder = new URL('.', base);
  const url = new URL(target);
  if (url.origin !== folder.origin || !url.pathname.startsWith(folder.pathname) || fullyDecoded(url.pathname).split('/').includes('..')) {
    throw new KerasFileError(
      `Weight shard ${JSON.stringify(relative.slice(0, 200))} redirects to ${url.href.slice(0, 300)}, outside ${folder.href}; refusing to follow it.`,
    );
  }
}

/** Sibling reader over files the caller passed (a map or a function). */
export function givenSiblings(files: SiblingFiles, ctx: ReadContext): SiblingReader {
  const { limits } = ctx;
  return async (relative) => {
    const path = checkRelativePath(relative, 'A weight shard path');
    let value: Uint8Array | ArrayBuffer | undefined;
    // The caller's function is held to the load's signal and deadline like a fetch.
    if (typeof files === 'function')
      value = await ctx.deadline.race(
        Promise.resolve().then(() => files(path)),
        `Reading weight shard '${path}' from options.files`,
      );
    else {
      // tfjs's browser download writes paths as './weights.bin': the file's own name finds it too.
      const plain = path
        .split('/')
        .filter((s) => s !== '.')
        .join('/');
      value = Object.hasOwn(files, path) ? files[path] : Object.hasOwn(files, plain) ? files[plain] : undefined;
    }
    if (value === undefined) {
      const known = typeof files === 'function' ? '' : ` (given: ${Object.keys(files).join(', ') || 'none'})`;
      throw new KerasFileError(`Weight shard '${path}' named by model.json was not given in options.files${known}.`);
    }
    const bytes = value instanceof Uint8Array ? value : value instanceof ArrayBuffer ? new Uint8Array(value) : undefined;
    if (!bytes) throw new KerasFileError(`options.files['${path}'] must be a Uint8Array or an ArrayBuffer.`);
    checkFileSize(bytes.byteLength, `weight shard '${path}'`, limits);
    return bytes;
  };
}

/** A file: URL string parsed, or a KerasFileError naming it (new URL() throws a bare TypeError). */
function fileUrl(text: string): URL {
  try {
    return new URL(text);
  } catch (err) {
    throw new KerasFileError(`Cannot load ${shownUrl(text)}: it is not a valid file: URL (${describeThrown(err)}).`, { cause: err });
  }
}

/** The path of a file: URL, or a KerasFileError naming it (a host other than localhost, an encoded '/'). */
async function filePath(url: URL): Promise<string> {
  const { fileURLToPath } = await nodeImport<typeof import('node:url')>('node:url');
  try {
    return fileURLToPath(url);
  } catch (err) {
    throw new KerasFileError(`Cannot load ${shownUrl(url.href)}: it names no local file (${describeThrown(err)}).`, { cause: err });
  }
}
