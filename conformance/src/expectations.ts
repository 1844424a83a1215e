import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Expectations } from './expectations-types.js';
import { resolvePackageFrom } from './resolve-package.js';

export type { Expectations, ExpectationGroup } from './expectations-types.js';

export function loadExpectations(path: string): Expectations {
  if (!existsSync(path)) throw new Error(`Expectations file '${path}' does not exist.`);
  return validateExpectations(JSON.parse(readFileSync(path, 'utf8')), `Expectations file '${path}'`);
}

/**
 * Checks expectations read from a file or given in code (`what` names them in messages): a
 * misspelt key or a bad pattern would otherwise list nothing, or throw mid-run.
 */
export function validateExpectations(json: unknown, what = 'Expectations object'): Expectations {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${what} must hold an object; received ${JSON.stringify(json)}.`);
  const e = json as Expectations;
  const unknownKeys = Object.keys(e).filter((k) => !['backend', 'unsupported', 'failing'].includes(k));
  if (unknownKeys.length) {
    throw new Error(`${what}: unknown key(s) ${unknownKeys.map((k) => `'${k}'`).join(', ')}; expected 'backend', 'unsupported' and 'failing'.`);
  }
  if (e.backend !== undefined && (typeof e.backend !== 'string' || !e.backend))
    throw new Error(`${what}: 'backend' must be the backend's name; received ${JSON.stringify(e.backend)}.`);
  for (const key of ['unsupported', 'failing'] as const) {
    const table = e[key];
    if (table === undefined) continue;
    if (Array.isArray(table)) {
      table.forEach((g, i) => {
        const where = `${what}: '${key}[${i}]'`;
        if (typeof g !== 'object' || g === null || typeof g.reason !== 'string' || !g.reason) throw new Error(`${where} must have a non-empty 'reason'.`);
        const unknownGroupKeys = Object.keys(g).filter((k) => !['reason', 'cases', 'match'].includes(k));
        if (unknownGroupKeys.length)
          throw new Error(`${where}: unknown key(s) ${unknownGroupKeys.map((k) => `'${k}'`).join(', ')}; expected 'reason', 'cases' and 'match'.`);
        if (g.match !== undefined && typeof g.match !== 'string') throw new Error(`${where}: 'match' must be a string (a regular expression).`);
        if (g.cases === undefined && g.match === undefined) throw new Error(`${where} must list 'cases' or a 'match' pattern.`);
        if (g.cases !== undefined && (!Array.isArray(g.cases) || g.cases.some((c) => typeof c !== 'string')))
          throw new Error(`${where}: 'cases' must be an array of case names.`);
        if (g.match !== undefined) {
          try {
            new RegExp(g.match);
          } catch (err) {
            throw new Error(`${where}: 'match' is not a regular expression: ${(err as Error).message}`);
          }
        }
      });
    } else if (typeof table !== 'object' || table === null || Object.values(table).some((v) => typeof v !== 'string' || !v)) {
      throw new Error(`${what}: '${key}' must be groups ({reason, cases or match}) or map case names to non-empty reasons.`);
    }
  }
  return e;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The file a backend package keeps its expectations in, at its root. */
export const EXPECTATIONS_FILE = 'conformance.expectations.json';

/** Expectations and where they came from, for the run's header. */
export interface FoundExpectations {
  expectations: Expectations;
  /** The file read, or undefined when none was. */
  file?: string;
  /** One line for the report: the file, or that none was used and where it was looked for. */
  source: string;
}

/**
 * The nearest directory at or above `dir` holding a package's package.json: one with a name.
 * Builds put marker package.json files without one in their output folders (`{"type": "module"}`
 * in dist/esm, as tshy writes), which are not the package's root.
 */
function packageRootOf(dir: string): string | undefined {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && packageName(d) !== undefined) return d;
    if (dirname(d) === d) return undefined;
  }
}

function packageName(root: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

/**
 * A backend's expectations, from the first of: the package the backend's module was loaded from
 * (`moduleUrl`: a module path or package given to --backend); `@gru/<name>` as the current
 * directory sees it; the package the current directory is in, when it is named `<name>` or
 * `@gru/<name>`; the file shipped here for the reference backend. Else none.
 */
export function findExpectations(backendName: string, moduleUrl?: string): FoundExpectations {
  const roots: string[] = [];
  if (moduleUrl?.startsWith('file:')) {
    const root = packageRootOf(dirname(fileURLToPath(moduleUrl)));
    if (root) roots.push(root);
  }
  const gru = resolvePackageFrom(`@gru/${backendName}`, process.cwd()).root;
  if (gru) roots.push(gru);
  const own = packageRootOf(process.cwd());
  if (own && [backendName, `@gru/${backendName}`].includes(packageName(own) ?? '')) roots.push(own);
  roots.push(join(here, '..', 'expectations'));
  const candidates = [...new Set(roots)].map((r, i, all) => join(r, i === all.length - 1 ? `${backendName}.json` : EXPECTATIONS_FILE));
  const file = candidates.find((c) => existsSync(c));
  if (file) return { expectations: loadExpectations(file), file, source: file };
  return { expectations: {}, source: `none (no expectations file at ${candidates.join(', ')})` };
}

/** A known backend's expectations (see findExpectations), or none. */
export function bundledExpectations(backendName: string, moduleUrl?: string): Expectations {
  return findExpectations(backendName, moduleUrl).expectations;
}

/** The directory of the Keras reference cases shipped with this package. */
export function bundledCasesDir(): string {
  return join(here, '..', 'cases', 'keras-3.15.1');
}
