import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Expectations } from './expectations-types.js';
import { resolvePackageFrom } from './resolve-package.js';

export type { Expectations, ExpectationGroup } from './expectations-types.js';

export function loadExpectations(path: string): Expectations {
  if (!existsSync(path)) throw new Error(`Expectations file '${path}' does not exist.`);
  const json = JSON.parse(readFileSync(path, 'utf8')) as Expectations;
  for (const key of ['unsupported', 'failing'] as const) {
    const table = json[key];
    if (table === undefined) continue;
    if (Array.isArray(table)) {
      table.forEach((g, i) => {
        const where = `Expectations file '${path}': '${key}[${i}]'`;
        if (typeof g !== 'object' || g === null || typeof g.reason !== 'string' || !g.reason) throw new Error(`${where} must have a non-empty 'reason'.`);
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
      throw new Error(`Expectations file '${path}': '${key}' must be groups ({reason, cases or match}) or map case names to non-empty reasons.`);
    }
  }
  return json;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The file a backend package keeps its expectations in, at its root. */
export const EXPECTATIONS_FILE = 'conformance.expectations.json';

/**
 * A known backend's expectations: those beside the backend, in `@gru/<name>`'s
 * conformance.expectations.json as the current directory sees the package (the project that
 * depends on it, or the package itself when run inside it); else the ones shipped here
 * (the reference backend's); else none.
 */
export function bundledExpectations(backendName: string): Expectations {
  const { root } = resolvePackageFrom(`@gru/${backendName}`, process.cwd());
  if (root && existsSync(join(root, EXPECTATIONS_FILE))) return loadExpectations(join(root, EXPECTATIONS_FILE));
  const path = join(here, '..', 'expectations', `${backendName}.json`);
  return existsSync(path) ? loadExpectations(path) : {};
}

/** The directory of the Keras reference cases shipped with this package. */
export function bundledCasesDir(): string {
  return join(here, '..', 'cases', 'keras-3.15.1');
}
