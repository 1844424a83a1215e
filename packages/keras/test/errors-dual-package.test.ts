// The ESM and CJS builds of @gru/keras (each with its own @gru/core build) loaded in one process
// are two copies of every error class: `instanceof` must hold across them, as for core's errors.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as core from '@gru/core';
import * as esm from '../dist/index.js';

const cjs = createRequire(import.meta.url)('../dist/index.cjs') as typeof esm;

describe("@gru/keras's errors across its ESM and CJS builds", () => {
  it('are two copies of the classes', () => {
    expect(cjs.KerasFileError).not.toBe(esm.KerasFileError);
  });

  it('a file error from either copy is an instance of its class, and of its base class, in the other', () => {
    const fromCjs = new cjs.UnsupportedLayerError('LSTM', 'lstm', 'LSTM layers are not supported.');
    expect(fromCjs instanceof esm.UnsupportedLayerError).toBe(true);
    expect(fromCjs instanceof esm.KerasFileError).toBe(true);
    expect(fromCjs instanceof esm.UnsafeModelError).toBe(false);
    expect(new esm.LimitError('maxBytes', 'x') instanceof cjs.LimitError).toBe(true);
    expect(new esm.KerasFileError('x') instanceof cjs.UnsupportedLayerError).toBe(false);
    expect(new cjs.UnsafeModelError('x') instanceof esm.KerasFileError).toBe(true);
  });

  it("a predict limit error is one across copies, and a GruError of core's other build", () => {
    const err = new cjs.PredictLimitError('too big');
    expect(err instanceof esm.PredictLimitError).toBe(true);
    expect(err instanceof core.GruError).toBe(true);
  });

  it('an actual refusal from the CJS build is caught by the ESM classes', async () => {
    const err = await cjs.loadModel(new Uint8Array([1, 2, 3, 4])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err instanceof esm.KerasFileError).toBe(true);
  });
});
