import type { BackwardRequest, ForwardRequest, ForwardResult, GruGradients } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { createCpuBackend, type CpuPreparedGru } from '../src/index.js';
import { bitwiseEqual, makeCase, rng, type Case } from './helpers.js';

// Every argument of every entry point may be a view (a byte offset that breaks the addon's
// 64-byte alignment, odd lengths, slack after it) on an ArrayBuffer or a SharedArrayBuffer; and an
// async call takes what it needs when it is made, so changing or transferring any argument right
// after the call (or setWeights / dispose while it runs) leaves its result alone.
const backend = createCpuBackend({ name: 'cpu-call-arguments', syncBelowMacs: 0, threads: 2, minStepMacsPerThread: 0 });

// Odd sizes everywhere; every optional argument present.
const base = (): Case => makeCase({ B: 3, T: 7, D: 5, H: 13, seed: 31, initialState: true, mask: 'any', inputDropout: true, recurrentDropout: true });
const grads = (c: Case): Required<Pick<BackwardRequest, 'dOutput' | 'dLastState'>> => {
  const r = rng(77);
  return { dOutput: r.uniform(c.request.batch * c.request.timesteps * c.spec.units), dLastState: r.uniform(c.request.batch * c.spec.units) };
};

type Typed = Float32Array | Uint8Array;

function view<A extends Typed>(a: A, offset: number, shared: boolean): A {
  const size = a.BYTES_PER_ELEMENT;
  const bytes = (a.length + offset + 3) * size;
  const buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const v = new (a.constructor as new (b: ArrayBufferLike, o: number, n: number) => A)(buffer, offset * size, a.length);
  v.set(a);
  return v;
}

/** Every typed array of a request, in one list (for changing or transferring them all). */
function arraysOf(req: ForwardRequest): Typed[] {
  return [req.x, req.initialState, req.mask, ...(req.inputDropoutMasks ?? []), ...(req.recurrentDropoutMasks ?? [])].filter(Boolean) as Typed[];
}

function copyRequest(req: ForwardRequest, map: <A extends Typed>(a: A) => A): ForwardRequest {
  return {
    ...req,
    x: map(req.x as Float32Array),
    initialState: map(req.initialState as Float32Array),
    mask: map(req.mask as Uint8Array),
    inputDropoutMasks: req.inputDropoutMasks?.map((m) => map(m as Float32Array)) as ForwardRequest['inputDropoutMasks'],
    recurrentDropoutMasks: req.recurrentDropoutMasks?.map((m) => map(m as Float32Array)) as ForwardRequest['recurrentDropoutMasks'],
  };
}

const copy = <A extends Typed>(a: A): A => a.slice() as A;

function expectSameForward(got: ForwardResult, want: ForwardResult): void {
  expect(bitwiseEqual(got.output as Float32Array, want.output as Float32Array)).toBe(true);
  expect(bitwiseEqual(got.lastState as Float32Array, want.lastState as Float32Array)).toBe(true);
}

function expectSameGradients(got: GruGradients, want: GruGradients): void {
  for (const k of ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const) {
    expect(bitwiseEqual(got[k] as Float32Array, want[k] as Float32Array)).toBe(true);
  }
}

/** The undisturbed results: sync calls on plain arrays. */
async function reference(c: Case): Promise<{ prepared: CpuPreparedGru; forward: ForwardResult; gradients: GruGradients }> {
  const prepared = await backend.prepare(c.spec, c.weights);
  const forward = prepared.forwardSync({ ...c.request, keepForBackward: true });
  return { prepared, forward, gradients: prepared.backwardSync(forward.saved, grads(c)) };
}

describe('shared, offset and odd-length views for every argument', () => {
  for (const shared of [false, true]) {
    for (const offset of [1, 3]) {
      it(`${shared ? 'SharedArrayBuffer' : 'ArrayBuffer'} views at element offset ${offset}: weights, inputs, masks, state and gradients, sync and async`, async () => {
        const c = base();
        const want = await reference(c);
        const v = <A extends Typed>(a: A) => view(a, offset, shared);
        const weights = {
          kernel: v(c.weights.kernel as Float32Array),
          recurrentKernel: v(c.weights.recurrentKernel as Float32Array),
          bias: v(c.weights.bias as Float32Array),
        };
        const prepared = await backend.prepare(c.spec, weights);
        const req = { ...copyRequest(c.request, v), keepForBackward: true };
        const g = grads(c);
        const gv = { dOutput: v(g.dOutput as Float32Array), dLastState: v(g.dLastState as Float32Array) };

        const sync = prepared.forwardSync(req);
        const async = await prepared.forward(req);
        expectSameForward(sync, want.forward);
        expectSameForward(async, want.forward);
        expectSameGradients(prepared.backwardSync(sync.saved, gv), want.gradients);
        expectSameGradients(await prepared.backward(async.saved, gv), want.gradients);
        prepared.setWeights(weights);
        expectSameForward(prepared.forwardSync(req), want.forward);
        prepared.dispose();
        want.prepared.dispose();
      });
    }
  }
});

describe('an async call takes its arguments when it is made', () => {
  it('every forward argument changed right after forward(), and the gradients right after backward()', async () => {
    const c = base();
    const want = await reference(c);
    const req = { ...copyRequest(c.request, copy), keepForBackward: true };
    const pending = want.prepared.forward(req);
    for (const a of arraysOf(req)) a.fill(3);
    const got = await pending;
    expectSameForward(got, want.forward);
    const g = grads(c);
    const pendingGrads = want.prepared.backward(got.saved, g);
    (g.dOutput as Float32Array).fill(5);
    (g.dLastState as Float32Array).fill(5);
    expectSameGradients(await pendingGrads, want.gradients);
    want.prepared.dispose();
  });

  it('every argument transferred (detached) right after the call', async () => {
    const c = base();
    const want = await reference(c);
    for (const keepForBackward of [false, true]) {
      const req = { ...copyRequest(c.request, copy), keepForBackward };
      const pending = want.prepared.forward(req);
      const arrays = arraysOf(req);
      structuredClone(
        arrays.map((a) => a.buffer),
        { transfer: arrays.map((a) => a.buffer as ArrayBuffer) },
      );
      expect(req.x.length).toBe(0);
      expectSameForward(await pending, want.forward);
    }
    const f = want.prepared.forwardSync({ ...c.request, keepForBackward: true });
    const g = grads(c);
    const pendingGrads = want.prepared.backward(f.saved, g);
    structuredClone([g.dOutput.buffer, g.dLastState.buffer], { transfer: [g.dOutput.buffer as ArrayBuffer, g.dLastState.buffer as ArrayBuffer] });
    expectSameGradients(await pendingGrads, want.gradients);
    want.prepared.dispose();
  });

  it('setWeights() and dispose() while forward and backward run: both keep the weights they started with', async () => {
    const c = base();
    const want = await reference(c);
    const prepared = await backend.prepare(c.spec, c.weights);
    const f = prepared.forwardSync({ ...c.request, keepForBackward: true });
    const forward = prepared.forward({ ...c.request, keepForBackward: true });
    const backward = prepared.backward(f.saved, grads(c));
    const zeros = {
      kernel: new Float32Array(c.weights.kernel.length),
      recurrentKernel: new Float32Array(c.weights.recurrentKernel.length),
      bias: new Float32Array(c.weights.bias?.length ?? 0),
    };
    prepared.setWeights(zeros);
    prepared.dispose();
    const forwardResult = await forward;
    expectSameForward(forwardResult, want.forward);
    expectSameGradients(await backward, want.gradients);
    // The disposed layer refuses new calls clearly.
    await expect(prepared.forward(c.request)).rejects.toThrow(/disposed/);
    expect(() => prepared.backwardSync(forwardResult.saved, grads(c))).toThrow(/disposed/);
    want.prepared.dispose();
  });
});
