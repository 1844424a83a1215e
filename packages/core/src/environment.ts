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
