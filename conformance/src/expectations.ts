import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Expectations } from './expectations-types.js';

export type { Expectations };

export function loadExpectations(path: string): Expectations {
  if (!existsSync(path)) throw new Error(`Expectations file '${path}' does not exist.`);
  const json = JSON.parse(readFileSync(path, 'utf8')) as Expectations;
  for (const key of ['unsupported', 'failing'] as const) {
    const table = json[key];
    if (table !== undefined && (typeof table !== 'object' || Object.values(table).some((v) => typeof v !== 'string' || !v))) {
      throw new Error(`Expectations file '${path}': '${key}' must map case names to non-empty reasons.`);
    }
  }
  return json;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The expectations shipped with this package for a known backend, or empty ones. */
export function bundledExpectations(backendName: string): Expectations {
  const path = join(here, '..', 'expectations', `${backendName}.json`);
  return existsSync(path) ? loadExpectations(path) : {};
}

/** The directory of the Keras reference cases shipped with this package. */
export function bundledCasesDir(): string {
  return join(here, '..', 'cases', 'keras-3.15.1');
}
