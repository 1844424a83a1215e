import { plainCallInfo, referenceForward, type BackwardRequest, type ForwardRequest } from '@gru/core';
import { fieldsNotReadOnce, shiftyRequest, shiftySpec } from '@gru/conformance/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';
import { expectClose, makeRequest, makeSpec, makeWeights } from './helpers.js';
import { FULL } from './views.js';

/**
 * A request is read once, then checked and copied from that reading: a getter that answers a
 * bigger batch (and arrays to match) on a later read must not size the GPU buffers or the
 * outputs past what was checked.
 */
const b = createWebGpuBackend({ name: 'webgpu-request-reads', allowFallbackAdapter: true });
beforeAll(() => b.load(), 120_000);
afterAll(() => b.dispose());

describe('webgpu: a request is read once', { timeout: 120_000 }, () => {
  const spec = makeSpec({ units: 6, inputDim: 4 });
  const weights = makeWeights(spec, 4);
  const honest = makeRequest(spec, 5, { batch: 2, timesteps: 3, ...FULL });
  const big = makeRequest(spec, 6, { batch: 30, timesteps: 7, ...FULL }) as unknown as Record<string, unknown>;
  const want = referenceForward(spec, weights, honest);

  it('forward: each field is read once, and later answers change nothing', async () => {
    const p = await b.prepare(spec, weights);
    const { req, reads } = shiftyRequest<ForwardRequest>(honest, big);
    const got = await p.forward(req);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(got.output.length).toBe(want.output.length);
    expectClose(got.output, want.output, 'output');
    expectClose(got.lastState, want.lastState, 'lastState');
    p.dispose();
  });

  it('forward: a bigger batch and x on a later read size neither the GPU buffers nor the outputs', async () => {
    const plain = makeRequest(spec, 7, { batch: 2, timesteps: 3 });
    const wider = makeRequest(spec, 8, { batch: 30, timesteps: 3 });
    const p = await b.prepare(spec, weights);
    const { req, reads } = shiftyRequest<ForwardRequest>(plain, { batch: wider.batch, x: wider.x });
    const got = await p.forward(req);
    const expected = referenceForward(spec, weights, plain);
    expect(got.output.length).toBe(expected.output.length);
    expectClose(got.output, expected.output, 'output');
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    p.dispose();
  });

  it('backward: dOutput, dLastState and inputGradients are read once', async () => {
    const p = await b.prepare(spec, weights);
    const fwd = await p.forward({ ...honest, keepForBackward: true });
    const dOutput = Float32Array.from({ length: want.output.length }, (_, i) => Math.cos(i));
    const dLastState = Float32Array.from({ length: want.lastState.length }, (_, i) => Math.sin(i));
    const expected = await p.backward!(fwd.saved, { dOutput, dLastState });
    const { req, reads } = shiftyRequest<BackwardRequest>(
      { dOutput, dLastState, inputGradients: true },
      { dOutput: new Float32Array(1), dLastState: new Float32Array(1), inputGradients: 'no' },
    );
    const got = await p.backward!(fwd.saved, req);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expectClose(got.dx, expected.dx, 'dx');
    expectClose(got.dInitialState, expected.dInitialState, 'dInitialState');
    p.dispose();
  });

  for (const when of ['prepare', 'setWeights'] as const) {
    it(`${when}: each weight array is read once; later answers change nothing`, async () => {
      const other = makeWeights(spec, 9);
      const { req: given, reads } = shiftyRequest(weights, other);
      const p = await b.prepare(spec, when === 'prepare' ? given : other);
      if (when === 'setWeights') await p.setWeights(given);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      const got = await p.forward(honest);
      expectClose(got.output, want.output, 'output');
      p.dispose();
    });
  }
});

describe('webgpu: the spec is read once, at prepare', { timeout: 120_000 }, () => {
  const spec = makeSpec({ units: 6, inputDim: 4 });
  const weights = makeWeights(spec, 9);
  const honest = makeRequest(spec, 10, { batch: 2, timesteps: 3, ...FULL });
  const want = referenceForward(spec, weights, honest);

  it('a spec answering another layer later changes no call', async () => {
    const { spec: shifty, reads } = shiftySpec(spec);
    const p = await b.prepare(shifty, weights);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(p.spec).toEqual(spec);
    const fwd = await p.forward({ ...honest, keepForBackward: true });
    expectClose(fwd.output, want.output, 'output');
    const grads = await p.backward!(fwd.saved, { dOutput: new Float32Array(want.output.length).fill(1) });
    expect(grads.dKernel.length).toBe(weights.kernel.length);
    await p.setWeights(weights);
    expectClose((await p.forward(honest)).output, want.output, 'output after setWeights');
    p.dispose();
  });

  it('a Proxy around a Float32Array (it passes instanceof) is refused before anything is copied for the GPU', async () => {
    const p = await b.prepare(spec, weights);
    await expect(p.forward({ ...honest, x: new Proxy(honest.x, {}) })).rejects.toThrow(
      /webgpu forward: `x` must be a Float32Array or Float64Array of 24 values .*received object that claims to be a Float32Array but is not one/,
    );
    p.dispose();
  });

  it('supports() answers a non-object spec or call, and reads the spec once', () => {
    expect(b.supports(null as never, plainCallInfo(1, 1))).toMatch(/`spec` must be an object .*received null/);
    expect(b.supports(spec, 'call' as never)).toMatch(/`call` must be an object .*received string "call"/);
    expect(b.supportsBackward(null as never)).toMatch(/`spec` must be an object .*received null/);
    const { spec: shifty, reads } = shiftySpec(spec);
    expect(b.supports(shifty, plainCallInfo(1, 1))).toBe(true);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
  });

  it('a non-object spec is refused with a clear error', async () => {
    await expect(b.prepare(null as never, weights)).rejects.toThrow(
      /webgpu prepare: `spec` must be an object \{units, inputDim, activation, \.\.\.\}; received null/,
    );
  });
});
