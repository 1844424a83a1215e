/** What core needs of Node's process object (core also runs in browsers, Deno and Bun). */
interface NodeProcess {
  platform?: string;
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
  env?: Record<string, string | undefined>;
}

/** Node's process object, or undefined elsewhere (a browser, or a runtime that only imitates some of it). */
export function nodeProcess(): NodeProcess | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  return proc?.versions?.node ? proc : undefined;
}

/** A Node built-in module looked up at run time (no import a bundler would follow), or undefined. */
export function nodeModule<T>(id: string): T | undefined {
  return nodeProcess()?.getBuiltinModule?.(id) as T | undefined;
}

/**
 * An environment variable, or undefined where it is unset, where the runtime has no process
 * environment (a browser), or where reading it is refused: Deno without `--allow-env` throws on
 * the read, and a backend's optional setting must not take the import of the package down with it.
 *
 * ```js
 * import { environmentVariable } from '@gru/core';
 * console.log(environmentVariable('GRU_SOME_SETTING') ?? 'unset'); // 'unset'
 * ```
 */
export function environmentVariable(name: string): string | undefined {
  try {
    const value = (globalThis as { process?: NodeProcess }).process?.env?.[name];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a file could not be read, where Node's permission model refused it (an ERR_ACCESS_DENIED
 * from a read under `--permission`, Node 20's `--experimental-permission`), as a clause naming the
 * file and the flag that allows it; undefined for any other error. Node 20's own message names
 * neither ("Access to this API has been restricted"), and Node 22+ names the flag but not the path.
 *
 * ```js
 * import { fileReadRefused } from '@gru/core';
 * try {
 *   readFileSync(path);
 * } catch (err) {
 *   throw new Error(fileReadRefused(path, err) ?? `${path} could not be read: ${err.message}`);
 * }
 * ```
 */
export function fileReadRefused(file: string | URL, err: unknown): string | undefined {
  const e = err as { code?: unknown; permission?: unknown } | null | undefined;
  // Other refusals (workers, addons, child processes) have their own flags and their own messages.
  if (e?.code !== 'ERR_ACCESS_DENIED' || (e.permission !== undefined && e.permission !== 'FileSystemRead')) return undefined;
  const path = filePath(file);
  const nodePath = nodeModule<{ resolve(p: string): string; dirname(p: string): string }>('node:path');
  // The flag's paths are taken as given: a relative one would be resolved against wherever node is started.
  const full = nodePath ? nodePath.resolve(path) : path;
  const folder = nodePath?.dirname(full);
  const orFolder = folder && folder !== full ? ` (or its folder: --allow-fs-read=${folder})` : '';
  return `${path} cannot be read: Node's permission model is on and its --allow-fs-read does not cover it; run node with --allow-fs-read=${full}${orFolder}`;
}

/** A file: URL as a path where Node's url module can say it, the URL itself elsewhere; a string as it is. */
function filePath(file: string | URL): string {
  if (typeof file === 'string') return file;
  const nodeUrl = nodeModule<{ fileURLToPath(url: URL): string }>('node:url');
  if (file.protocol === 'file:' && nodeUrl) {
    try {
      return nodeUrl.fileURLToPath(file);
    } catch {
      // A file: URL with a host (Windows UNC) on POSIX, say: shown as it was given.
    }
  }
  return file.href;
}
