import { fileReadRefused } from '@gru/core';
import type { ByteBudget } from '../budget.js';
import { describeThrown, KerasFileError } from '../errors.js';
import type { LoadLimits } from '../limits.js';
import type { Deadline } from './deadline.js';
import { checkFileSize } from './fetch.js';

/** Bytes read per call, so that a slow disk can be cancelled between reads. */
const READ_BYTES = 16 << 20;

export interface FileContext {
  limits: LoadLimits;
  budget: ByteBudget;
  deadline: Deadline;
}

/**
 * Imports a Node built-in only when a path is actually read. The specifier is hidden from
 * bundlers so that a browser build of an app does not try to bundle (or fail on) `node:fs`.
 */
export function nodeImport<T>(specifier: string): Promise<T> {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
}

/**
 * Reads a regular file, refusing anything else before reading a byte: it is opened non-blocking
 * (opening a FIFO would otherwise wait for a writer forever, holding a libuv thread) and checked
 * with fstat, so FIFOs, sockets, devices and folders are refused without blocking. With `inside`
 * (a real folder path), the file's real path (symlinks resolved) must lie in that folder.
 */
export async function readRegularFile(path: string, ctx: FileContext, inside?: { folder: string; what: string }): Promise<Uint8Array> {
  const fs = await nodeImport<typeof import('node:fs/promises')>('node:fs/promises');
  const { constants } = await nodeImport<typeof import('node:fs')>('node:fs');
  const { sep } = await nodeImport<typeof import('node:path')>('node:path');
  let target = path;
  if (inside) {
    try {
      target = await fs.realpath(path);
    } catch (err) {
      throw cannotOpen(path, err);
    }
    const folder = inside.folder.endsWith(sep) ? inside.folder : inside.folder + sep;
    if (!target.startsWith(folder)) {
      throw new KerasFileError(`${inside.what} ${path} is a link to ${target}, outside ${inside.folder}; refusing to read it.`);
    }
  }
  ctx.deadline.check(`Reading ${path}`);
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await fs.open(target, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw cannotOpen(path, err);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      const hint = stat.isDirectory() ? await folderHint(fs, target, path) : '';
      throw new KerasFileError(`${path} is not a regular file (it is ${kindOf(stat)}); refusing to read it.${hint}`);
    }
    checkFileSize(stat.size, path, ctx.limits);
    ctx.budget.take(stat.size, path);
    const bytes = new Uint8Array(stat.size);
    let off = 0;
    while (off < bytes.length) {
      ctx.deadline.check(`Reading ${path}`);
      const { bytesRead } = await handle.read(bytes, off, Math.min(READ_BYTES, bytes.length - off), off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === bytes.length ? bytes : bytes.subarray(0, off);
  } finally {
    await handle.close();
  }
}

/** The real path of the folder holding `path` (symlinks resolved), for readRegularFile's `inside`. */
export async function realFolderOf(path: string): Promise<string> {
  const fs = await nodeImport<typeof import('node:fs/promises')>('node:fs/promises');
  const { dirname, resolve } = await nodeImport<typeof import('node:path')>('node:path');
  const folder = resolve(dirname(path));
  try {
    return await fs.realpath(folder);
  } catch (err) {
    const refused = fileReadRefused(folder, err);
    throw new KerasFileError(`Cannot open the folder of ${path}: ${refused ?? describeThrown(err)}${refused ? '.' : ''}`, { cause: err });
  }
}

/** Why `path` could not be opened; a read refused by Node's permission model names the flag that allows it (Node 20's message does not). */
function cannotOpen(path: string, err: unknown): KerasFileError {
  const refused = fileReadRefused(path, err);
  return new KerasFileError(refused ? `${refused}.` : `Cannot open ${path}: ${describeThrown(err)}`, { cause: err });
}

/**
 * What a folder given as a model is, where it is a known kind: a TensorFlow SavedModel (model.export(),
 * tf.saved_model.save) holds graphs, not Keras layers; a Keras model saved with zipped=False holds
 * the two files a .keras archive does, which load as weights plus config.
 */
async function folderHint(fs: typeof import('node:fs/promises'), folder: string, path: string): Promise<string> {
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch {
    return '';
  }
  if (names.includes('saved_model.pb')) {
    return (
      ' It is a TensorFlow SavedModel (model.export() or tf.saved_model.save), which holds TensorFlow graphs, not a Keras model: ' +
      "gru loads Keras files, so save the model in Python with model.save('model.keras')."
    );
  }
  if (names.includes('config.json') && names.includes('model.weights.h5')) {
    const { join } = await nodeImport<typeof import('node:path')>('node:path');
    return (
      ` It is a Keras model saved unzipped (zipped=False): load its weights with its config, loadModel('${join(path, 'model.weights.h5')}', ` +
      `{ config: <the text of ${join(path, 'config.json')}> }), or save it in Python as one file (model.save(path) with zipped=True, the default).`
    );
  }
  return '';
}

function kindOf(stat: import('node:fs').Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isDirectory()) return 'a folder';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a file';
}
