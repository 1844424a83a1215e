// The ESM and CJS builds loaded in one process are two copies of every class. The backend
// registry is shared between them; `instanceof GruError` must hold across them as well.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as esm from '../dist/index.js';

const cjs = createRequire(import.meta.url)('../dist/index.cjs') as typeof esm;

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('errors across the ESM and CJS builds', () => {
  it('are two copies of the classes', () => {
    expect(cjs.GruError).not.toBe(esm.GruError);
  });

  it('instanceof GruError holds for an error thrown by either copy', () => {
    const fromEsm = thrown(() => new esm.GRU({ units: 0 }));
    const fromCjs = thrown(() => new cjs.GRU({ units: 0 }));
    for (const err of [fromEsm, fromCjs]) {
      expect(err instanceof esm.GruError).toBe(true);
      expect(err instanceof cjs.GruError).toBe(true);
      expect(err instanceof Error).toBe(true);
      // A GruError is not an UnsupportedCallError, from either copy.
      expect(err instanceof esm.UnsupportedCallError).toBe(false);
      expect(err instanceof cjs.UnsupportedCallError).toBe(false);
    }
  });

  it('a subclass matches its own class and GruError across copies, and narrows in TypeScript', () => {
    const err: unknown = new cjs.UnsupportedCallError('cpu', 'no addon');
    expect(err instanceof esm.GruError).toBe(true);
    expect(err instanceof esm.UnsupportedCallError).toBe(true);
    if (!(err instanceof esm.UnsupportedCallError)) throw new Error('unreachable');
    expect([err.backend, err.reason, err.kerasType]).toEqual(['cpu', 'no addon', 'ValueError']);
  });

  it('other values are not GruErrors; a subclass without a brand keeps plain instanceof', () => {
    for (const v of [new Error('x'), { kerasType: 'ValueError' }, null, undefined, 'GruError', 1]) {
      expect(v instanceof esm.GruError).toBe(false);
    }
    class Mine extends esm.GruError {}
    expect(new Mine('ValueError', 'x') instanceof Mine).toBe(true);
    expect(new Mine('ValueError', 'x') instanceof cjs.GruError).toBe(true);
    expect(new esm.GruError('ValueError', 'x') instanceof Mine).toBe(false);
    expect(new cjs.UnsupportedCallError('a', 'b') instanceof Mine).toBe(false);
  });
});
