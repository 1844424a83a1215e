/**
 * Finds runner modules (every `*.mjs` directly in a directory) and checks that each one keeps
 * the runner contract, so a broken runner fails with its file name instead of mid-run.
 *
 * @typedef {import('./shapes.mjs').Shape} Shape
 *
 * @typedef {object} Prepared
 * @property {() => unknown} run         one forward pass (awaited when it returns a promise)
 * @property {() => unknown} [dispose]   frees what setup allocated
 * @property {string} [simd]              the instruction set its kernels use (recorded with the result)
 * @property {number} [stepsPerPass]      a pass is this many timesteps fed one at a time (the result gets µs per step)
 * @property {() => Record<string, number>} [poolStats]  the backend's thread-pool counters (read before and after the passes)
 *
 * @typedef {object} Runner
 * @property {string} name                              unique: 'gru:<backend>' or the peer's name
 * @property {'gru' | 'peer'} kind                      gru backends set the baseline of the ratio column
 * @property {string} [note]                            caveat printed under the table
 * @property {() => Promise<true | string>} available   true, or why the runner cannot run here
 * @property {(shape: Shape) => Promise<Prepared | string>} setup  a pass for the shape, or why not
 * @property {(shape: Shape) => boolean} [slow]         passes take seconds: capped, and --skip-slow skips them
 * @property {string[]} [nodeFlags]                     Node/V8 flags its child process starts with (say,
 *   '--experimental-wasm-relaxed-simd': an engine feature that NODE_OPTIONS refuses); with --in-process
 *   the runner gets none, so its available() must say why it cannot run without them
 *
 * @typedef {Runner & { file: string }} DiscoveredRunner
 */
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const DEFAULT_RUNNERS_DIR = fileURLToPath(new URL('./runners/', import.meta.url));

/**
 * A runner module exports the fields by name, or one object with them as its default export.
 * @param {Record<string, unknown>} mod
 * @param {string} file
 * @returns {Runner}
 */
export function runnerFromModule(mod, file) {
  const src = /** @type {Record<string, unknown>} */ (mod.default !== null && typeof mod.default === 'object' && !('name' in mod) ? mod.default : mod);
  const where = `runner module ${basename(file)}`;
  if (typeof src.name !== 'string' || !src.name) throw new Error(`${where}: \`name\` must be a non-empty string; received ${JSON.stringify(src.name)}.`);
  if (src.kind !== 'gru' && src.kind !== 'peer')
    throw new Error(`${where} ('${src.name}'): \`kind\` must be 'gru' or 'peer'; received ${JSON.stringify(src.kind)}.`);
  for (const fn of ['available', 'setup']) {
    if (typeof src[fn] !== 'function') throw new Error(`${where} ('${src.name}'): \`${fn}\` must be a function; received ${typeof src[fn]}.`);
  }
  if (src.note !== undefined && typeof src.note !== 'string')
    throw new Error(`${where} ('${src.name}'): \`note\` must be a string when present; received ${typeof src.note}.`);
  if (src.slow !== undefined && typeof src.slow !== 'function')
    throw new Error(`${where} ('${src.name}'): \`slow\` must be a function (shape) => boolean when present; received ${typeof src.slow}.`);
  if (src.nodeFlags !== undefined && !(Array.isArray(src.nodeFlags) && src.nodeFlags.every((f) => typeof f === 'string' && /^--[\w-]+(=\S+)?$/.test(f))))
    throw new Error(`${where} ('${src.name}'): \`nodeFlags\` must be an array of '--flag' strings when present; received ${JSON.stringify(src.nodeFlags)}.`);
  return /** @type {Runner} */ ({
    name: src.name,
    kind: src.kind,
    note: src.note,
    available: src.available,
    setup: src.setup,
    slow: src.slow,
    nodeFlags: /** @type {string[] | undefined} */ (src.nodeFlags),
  });
}

/**
 * @param {string} file
 * @returns {Promise<DiscoveredRunner>}
 */
export async function loadRunner(file) {
  const mod = await import(pathToFileURL(file).href);
  return { ...runnerFromModule(mod, file), file };
}

/**
 * Imports every `*.mjs` in `dir` (alphabetical order). Runner modules must stay cheap to
 * import: heavy imports belong in `available()`/`setup()`, which run in the child process.
 * @param {string} [dir]
 * @returns {Promise<DiscoveredRunner[]>}
 */
export async function discoverRunners(dir = DEFAULT_RUNNERS_DIR) {
  const abs = resolve(dir);
  /** @type {string[]} */
  let files;
  try {
    files = readdirSync(abs)
      .filter((f) => f.endsWith('.mjs'))
      .sort();
  } catch (err) {
    throw new Error(`runners directory '${abs}' cannot be read: ${/** @type {Error} */ (err).message}`);
  }
  /** @type {DiscoveredRunner[]} */
  const runners = [];
  for (const f of files) {
    const runner = await loadRunner(join(abs, f));
    const clash = runners.find((r) => r.name === runner.name);
    if (clash) throw new Error(`runner name '${runner.name}' is used by both ${basename(clash.file)} and ${f}; names must be unique.`);
    runners.push(runner);
  }
  return runners;
}

/**
 * Keeps the runners named in `--runners` (in the order given), failing on a name that
 * matches none.
 * @param {DiscoveredRunner[]} runners
 * @param {string | undefined} list
 */
export function selectRunners(runners, list) {
  if (list === undefined) return runners;
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.length) throw new Error(`--runners: expected a comma-separated list of runner names; received '${list}'.`);
  return names.map((n) => {
    const r = runners.find((x) => x.name === n);
    if (!r) throw new Error(`--runners: no runner named '${n}'; discovered: ${runners.map((x) => x.name).join(', ') || 'none'}.`);
    return r;
  });
}
