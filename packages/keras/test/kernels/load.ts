import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@gru/core';
import { expect } from 'vitest';
import { type JsonTensor, expectClose, readJson } from '../helpers.js';

/** The fixtures written by generate_kernel_fixtures.py (real Keras 3.15.1, numpy backend). */
export const KERNEL_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

export interface Fixture<C> {
  keras_version: string;
  cases: C[];
}

export interface BaseCase {
  name: string;
  dtype: 'float32' | 'float64';
  config: Record<string, unknown>;
  out_mask: JsonTensor | null;
}

export function loadFixture<C extends BaseCase>(file: string): C[] {
  const f = readJson<Fixture<C>>(join(KERNEL_FIXTURES, file));
  expect(f.keras_version).toBe('3.15.1');
  expect(f.cases.length).toBeGreaterThan(0);
  return f.cases;
}

export function tensor(t: JsonTensor, dtype: 'float32' | 'float64'): Tensor {
  return { shape: [...t.shape], data: dtype === 'float64' ? Float64Array.from(t.data) : Float32Array.from(t.data) };
}

export function mask(t: JsonTensor | null | undefined): Uint8Array | null {
  return t ? Uint8Array.from(t.data) : null;
}

/** Compares a kernel's output with Keras's to float32 rounding, and its dtype with the case's. */
export function expectKeras(got: Tensor, want: JsonTensor, dtype: 'float32' | 'float64', what: string): void {
  expect(got.data, `${what} dtype`).toBeInstanceOf(dtype === 'float64' ? Float64Array : Float32Array);
  expectClose(got, want, what);
}

/** The mask a kernel passes on, against the one Keras attached to the output. */
export function expectMask(got: Uint8Array | null, want: JsonTensor | null, what: string): void {
  if (want === null) expect(got, `${what}: Keras attaches no mask`).toBeNull();
  else expect(got === null ? null : Array.from(got), `${what}: the mask Keras attaches`).toEqual(want.data);
}
