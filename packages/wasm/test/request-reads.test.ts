import { referenceForward, type BackwardRequest, type ForwardRequest } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend as singleThread, createWasmBackend, type WasmBackend } from '../src/index.js';
import { fieldsNotReadOnce, makeCase, shiftyRequest, shiftySpec, worstRatio, type Config } from './helpers.js';

/**
 * A request is read once, before wasm memory is touched: a getter that answers differently on a
 * later read (a bigger batch, a longer x) must not size a copy or a kernel call past what was
 * checked and allocated.
 */
const eager = { syncBelowMacs: 0, minStepMacsPerThread: 0 };
const two = createWasmBackend({ name: 'wasm-request-reads-2', threads: 2, ...eager });
const backends: WasmBackend[] = [singleThread, two];
beforeAll(() => Promise.all(backends.map((b) => b.load())), 60_000);
afterAll(() => two.dispose());

const CASE: Config = { B: 2, T: 3, D: 5, H: 40, mask: true, initialState: true, inputDropout: true, recurrentDropout: true, returnSequences: true };

describe.each(backends.map((b) => [b.name, b] as const))('%s', (_name, b) => {
  const honest = makeCase(CASE, 11);
  const want = referenceForward(honest.spec, honest.weights, honest.request);
  const big: Record<string, unknown> = { ...makeCase({ ...CASE, B: 300, T: 9 }, 12).request };

  for (const mode of ['forwardSync', 'forward'] as const) {
    it(`${mode}: each field is read once, and later answers change nothing`, async () => {
      const p = await b.prepare(honest.spec, honest.weights);
      const before = b.memoryInUse();
      const { req, reads } = shiftyRequest(honest.request, big);
      const got = mode === 'forwardSync' ? p.forwardSync(req) : await p.forward(req);
      expect(worstRatio(got.output, want.output)).toBeLessThanOrEqual(1);
      expect(worstRatio(got.lastState, want.lastState)).toBeLessThanOrEqual(1);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      expect(b.memoryInUse()).toBe(before);
      // The weights and the heap are intact.
      const again = p.forwardSync(honest.request);
      expect(worstRatio(again.output, want.output)).toBeLessThanOrEqual(1);
      p.dispose();
    });
  }

  it('bindForward: each field is read once at bind time', async () => {
    const p = await b.prepare(honest.spec, honest.weights);
    const output = new Float32Array(want.output.length);
    const lastState = new Float32Array(want.lastState.length);
    const { req, reads } = shiftyRequest({ ...honest.request, output, lastState } as ForwardRequest, {
      ...big,
      output: new Float32Array(300 * 9 * 40),
      lastState: new Float32Array(300 * 40),
    });
    const bound = p.bindForward!(req as Parameters<NonNullable<typeof p.bindForward>>[0]);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    bound.run();
    expect(worstRatio(output, want.output)).toBeLessThanOrEqual(1);
    expect(worstRatio(lastState, want.lastState)).toBeLessThanOrEqual(1);
    bound.dispose();
    p.dispose();
  });

  it('backward: dOutput, dLastState and inputGradients are read once', async () => {
    const p = await b.prepare(honest.spec, honest.weights);
    const fwd = p.forwardSync({ ...honest.request, keepForBackward: true });
    const dOutput = Float32Array.from({ length: want.output.length }, (_, i) => Math.cos(i));
    const dLastState = Float32Array.from({ length: want.lastState.length }, (_, i) => Math.sin(i));
    const expected = p.backwardSync(fwd.saved, { dOutput, dLastState });
    const { req, reads } = shiftyRequest<BackwardRequest>(
      { dOutput, dLastState, inputGradients: true },
      { dOutput: new Float32Array(1), dLastState: new Float32Array(1), inputGradients: 'no' },
    );
    const got = p.backwardSync(fwd.saved, req);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(Array.from(got.dx)).toEqual(Array.from(expected.dx));
    expect(Array.from(got.dInitialState)).toEqual(Array.from(expected.dInitialState));
    p.dispose();
  });

  for (const when of ['prepare', 'setWeights'] as const) {
    it(`${when}: each weight array is read once; later answers change nothing`, async () => {
      const other = makeCase(CASE, 13).weights;
      const { req: weights, reads } = shiftyRequest(honest.weights, other);
      const p = when === 'prepare' ? await b.prepare(honest.spec, weights) : await b.prepare(honest.spec, other);
      if (when === 'setWeights') p.setWeights(weights);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      expect(worstRatio(p.forwardSync(honest.request).output, want.output)).toBeLessThanOrEqual(1);
      p.dispose();
    });
  }

  for (const mode of ['prepare', 'prepareSync'] as const) {
    it(`${mode}: the spec is read once; a spec answering another layer later changes no call`, async () => {
      const { spec, reads } = shiftySpec(honest.spec);
      const p = mode === 'prepare' ? await b.prepare(spec, honest.weights) : b.prepareSync(spec, honest.weights);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      expect(p.spec).toEqual(honest.spec);
      expect(worstRatio(p.forwardSync(honest.request).output, want.output)).toBeLessThanOrEqual(1);
      expect(worstRatio((await p.forward(honest.request)).output, want.output)).toBeLessThanOrEqual(1);
      const output = new Float32Array(want.output.length);
      const bound = p.bindForward!({ ...honest.request, output, lastState: new Float32Array(want.lastState.length) });
      bound.run();
      expect(worstRatio(output, want.output)).toBeLessThanOrEqual(1);
      bound.dispose();
      const fwd = p.forwardSync({ ...honest.request, keepForBackward: true });
      const grads = p.backwardSync(fwd.saved, { dOutput: new Float32Array(want.output.length).fill(1) });
      expect(grads.dKernel.length).toBe(honest.weights.kernel.length);
      p.setWeights(honest.weights);
      expect(worstRatio(p.forwardSync(honest.request).output, want.output)).toBeLessThanOrEqual(1);
      p.dispose();
    });
  }
});

describe('a backend prepared before it is loaded', () => {
  const honest = makeCase(CASE, 14);
  const want = referenceForward(honest.spec, honest.weights, honest.request);

  it('reads the spec and the weights once, and packs the reading it checked', async () => {
    const fresh = createWasmBackend({ name: 'wasm-request-reads-unloaded' });
    try {
      const { spec, reads: specReads } = shiftySpec(honest.spec);
      const { req: weights, reads } = shiftyRequest(honest.weights, makeCase(CASE, 15).weights);
      const p = await fresh.prepare(spec, weights);
      expect(fieldsNotReadOnce(specReads)).toEqual([]);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      expect(worstRatio(p.forwardSync(honest.request).output, want.output)).toBeLessThanOrEqual(1);
      p.dispose();
    } finally {
      fresh.dispose();
    }
  });

  it('refuses a non-object spec with a clear error', async () => {
    const fresh = createWasmBackend({ name: 'wasm-request-reads-unloaded-null' });
    try {
      await expect(fresh.prepare(null as never, honest.weights)).rejects.toThrow(
        /wasm prepare: `spec` must be an object \{units, inputDim, activation, \.\.\.\}; received null/,
      );
    } finally {
      fresh.dispose();
    }
  });
});
