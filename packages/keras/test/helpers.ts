import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@gru/core';
import { expect } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, 'fixtures');
/** The saved models shipped with the conformance cases (made by Keras 3.15.1). */
export const SAVED = join(here, '..', '..', '..', 'conformance', 'cases', 'keras-3.15.1-saved');

export interface JsonTensor {
  shape: number[];
  data: number[];
}

export function readJson<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Float32 models stacked several layers deep: Keras's float32 GEMMs and gru's float64-then-round
 * sums differ by float32 rounding per layer, a few units of 1e-7 per value; 2e-6 + 1e-5 relative
 * leaves room for that and nothing else (a wrong gate or mask gives errors of 1e-2 and more).
 */
export const ATOL = 2e-6;
export const RTOL = 1e-5;

export function maxExcess(got: Tensor, want: JsonTensor): number {
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    const err = Math.abs(got.data[i] - want.data[i]) - (ATOL + RTOL * Math.abs(want.data[i]));
    worst = Math.max(worst, err);
  }
  return worst;
}

export function expectClose(got: Tensor, want: JsonTensor, what = 'prediction'): void {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  expect(got.data.length).toBe(want.data.length);
  let worst = -Infinity;
  let at = -1;
  for (let i = 0; i < want.data.length; i++) {
    const err = Math.abs(got.data[i] - want.data[i]) - (ATOL + RTOL * Math.abs(want.data[i]));
    if (err > worst) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `${what}: worst value at flat index ${at}: got ${got.data[at]}, Keras ${want.data[at]}`).toBeLessThanOrEqual(0);
}

/** Keras adds `shared_object_id` to objects it serializes more than once; it carries no meaning. */
export function withoutSharedIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSharedIds);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== 'shared_object_id')
        .map(([k, v]) => [k, withoutSharedIds(v)]),
    );
  }
  return value;
}

/**
 * Keras's expected outputs in the order predictOutputs() gives them: a fixture's `expected` lists
 * a dict model's outputs in Keras's `output_names` order, while gru gives them in `outputKeys`
 * order (sorted, as Keras's model.outputs); other models in order.
 */
export function expectedInOutputOrder<T>(fixture: { expected: T[]; output_names?: string[] }, outputKeys: readonly string[] | undefined): T[] {
  const names = fixture.output_names;
  if (!names) return fixture.expected;
  return (outputKeys ?? []).map((k) => fixture.expected[names.indexOf(k)]);
}
