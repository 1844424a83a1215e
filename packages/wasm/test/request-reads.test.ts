import { referenceForward, type ForwardRequest } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend as singleThread, createWasmBackend, type WasmBackend } from '../src/index.js';
import { makeCase, worstRatio, type Config } from './helpers.js';

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

/** `request` with every field behind a getter that counts its reads; `later` answers from the second read on. */
function shifty(request: ForwardRequest, later: Record<string, unknown>) {
  const reads: Record<string, number> = {};
  const req = {} as ForwardRequest;
  for (const key of Object.keys(request) as (keyof ForwardRequest)[]) {
    reads[key] = 0;
    Object.defineProperty(req, key, {
      enumerable: true,
      get: () => (++reads[key] > 1 && key in later ? later[key] : request[key]),
    });
  }
  return { req, reads };
}

describe.each(backends.map((b) => [b.name, b] as const))('%s', (_name, b) => {
  const honest = makeCase(CASE, 11);
  const want = referenceForward(honest.spec, honest.weights, honest.request);
  const big: Record<string, unknown> = { ...makeCase({ ...CASE, B: 300, T: 9 }, 12).request };

  for (const mode of ['forwardSync', 'forward'] as const) {
    it(`${mode}: each field is read once, and later answers change nothing`, async () => {
      const p = await b.prepare(honest.spec, honest.weights);
      const before = b.memoryInUse();
      const { req, reads } = shifty(honest.request, big);
      const got = mode === 'forwardSync' ? p.forwardSync(req) : await p.forward(req);
      expect(worstRatio(got.output, want.output)).toBeLessThanOrEqual(1);
      expect(worstRatio(got.lastState, want.lastState)).toBeLessThanOrEqual(1);
      for (const [key, n] of Object.entries(reads)) expect(n, `reads of request.${key}`).toBe(1);
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
    const { req, reads } = shifty({ ...honest.request, output, lastState } as ForwardRequest, {
      ...big,
      output: new Float32Array(300 * 9 * 40),
      lastState: new Float32Array(300 * 40),
    });
    const bound = p.bindForward!(req as Parameters<NonNullable<typeof p.bindForward>>[0]);
    for (const [key, n] of Object.entries(reads)) expect(n, `reads of request.${key}`).toBe(1);
    bound.run();
    expect(worstRatio(output, want.output)).toBeLessThanOrEqual(1);
    expect(worstRatio(lastState, want.lastState)).toBeLessThanOrEqual(1);
    bound.dispose();
    p.dispose();
  });
});
