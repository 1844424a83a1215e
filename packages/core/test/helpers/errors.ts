import { expect } from 'vitest';
import { GruError } from '../../src/index.js';

/** Runs `fn`, expects it to throw a GruError whose message holds every fragment, and returns it. */
export function expectGruError(fn: () => unknown, ...fragments: string[]): GruError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GruError);
  for (const f of fragments) expect((caught as Error).message).toContain(f);
  return caught as GruError;
}

/** The same, and the error carries Keras's exception class (`ValueError`, `TypeError`...). */
export function expectKerasError(fn: () => unknown, kerasType: string, ...fragments: string[]): GruError {
  const err = expectGruError(fn, ...fragments);
  expect(err.kerasType).toBe(kerasType);
  return err;
}
