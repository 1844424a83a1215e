import type { ForwardRequest, ForwardResult, GruGradients, GruSpec } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { createCudnnBackend, openNativeRuntime } from '../src/backend.js';
import type { DeviceForwardArgs } from '../src/device.js';
import { resolveOptions } from '../src/options.js';
import { buildFakeGpu } from './fake-gpu.js';
import { rng } from './helpers.js';

/**
 * A call takes what it needs from its arguments when it is made: the caller may change, transfer
 * or share its arrays as soon as forward() / backward() / setWeights() returns, even though a
 * call on a prepared layer waits for the earlier ones. Through the addon over the fake GPU
 * libraries, compared bit for bit with undisturbed calls.
 */

const fake = buildFakeGpu();
const backend = createCudnnBackend({ name: 'cudnn-fake-snapshot', cudnnPath: fake.ok, cudaDriverPath: fake.ok, python: false });
const [B, T, D, H] = [3, 6, 5, 4];
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const r = rng(21);
const f32 = (n: number, scale: number) => r.uniform(n, scale, 'float32') as Float32Array;
const weights = { kernel: f32(D * 3 * H, 0.6), recurrentKernel: f32(H * 3 * H, 0.6), bias: f32(6 * H, 0.3) };
const otherWeights = { kernel: f32(D * 3 * H, 0.6), recurrentKernel: f32(H * 3 * H, 0.6), bias: f32(6 * H, 0.3) };
const mask = new Uint8Array(B * T).fill(1, 0, 6).fill(1, 6, 10); // lengths 6, 4, 0
const request = (): ForwardRequest => ({
  x: rng(5).uniform(B * T * D, 1, 'float32'),
  batch: B,
  timesteps: T,
  initialState: rng(6).uniform(B * H, 0.5, 'float32'),
  mask: mask.slice(),
  goBackwards: false,
  returnSequences: true,
  keepForBackward: true,
});
const gradients = () => ({
  dOutput: rng(7).uniform(B * T * H, 1, 'float32') as Float32Array,
  dLastState: rng(8).uniform(B * H, 1, 'float32') as Float32Array,
});

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));
}

function expectSameForward(got: ForwardResult, want: ForwardResult): void {
  expect(sameBits(got.output, want.output)).toBe(true);
  expect(sameBits(got.lastState, want.lastState)).toBe(true);
}

function expectSameGradients(got: GruGradients, want: GruGradients): void {
  for (const k of ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const)
    expect(sameBits(got[k] as Float32Array, want[k] as Float32Array)).toBe(true);
}

/** An undisturbed forward and backward with `w`. */
async function undisturbed(w = weights): Promise<{ forward: ForwardResult; gradients: GruGradients }> {
  const p = await backend.prepare(spec, w);
  const forward = await p.forward(request());
  const g = await p.backward(forward.saved, gradients());
  p.dispose();
  return { forward, gradients: g };
}

/** `a` copied into a view at `offset` elements into a bigger (shared, if asked) buffer with slack after it. */
function view<A extends Float32Array | Uint8Array>(a: A, offset: number, shared: boolean): A {
  const size = a.BYTES_PER_ELEMENT;
  const buffer = shared ? new SharedArrayBuffer((a.length + offset + 3) * size) : new ArrayBuffer((a.length + offset + 3) * size);
  const v = new (a.constructor as new (b: ArrayBufferLike, o: number, n: number) => A)(buffer, offset * size, a.length);
  v.set(a);
  return v;
}

describe('forward and backward take their arguments when called', () => {
  it('x, initialState and mask changed right after forward(), dOutput and dLastState right after backward()', async () => {
    const want = await undisturbed();
    const p = await backend.prepare(spec, weights);
    // A call ahead in the queue, so the calls below wait their turn.
    const ahead = p.forward(request());
    const req = request();
    const pending = p.forward(req);
    (req.x as Float32Array).fill(7);
    (req.initialState as Float32Array).fill(-3);
    (req.mask as Uint8Array).fill(0);
    const got = await pending;
    expectSameForward(got, want.forward);
    const g = gradients();
    const pendingGrads = p.backward(got.saved, g);
    g.dOutput.fill(9);
    g.dLastState.fill(9);
    expectSameGradients(await pendingGrads, want.gradients);
    await ahead;
    p.dispose();
  });

  it("x's and the gradients' buffers transferred right after the call", async () => {
    const want = await undisturbed();
    const p = await backend.prepare(spec, weights);
    const req = request();
    const pending = p.forward(req);
    structuredClone(req.x.buffer, { transfer: [req.x.buffer as ArrayBuffer] });
    expect(req.x.length).toBe(0);
    const got = await pending;
    expectSameForward(got, want.forward);
    const g = gradients();
    const pendingGrads = p.backward(got.saved, g);
    structuredClone(g.dOutput.buffer, { transfer: [g.dOutput.buffer as ArrayBuffer] });
    expectSameGradients(await pendingGrads, want.gradients);
    p.dispose();
  });

  it('setWeights() while a call waits: the call runs with the weights it was made with, the next with the new ones', async () => {
    const [before, after] = [await undisturbed(weights), await undisturbed(otherWeights)];
    const p = await backend.prepare(spec, weights);
    const w = { kernel: weights.kernel.slice(), recurrentKernel: weights.recurrentKernel.slice(), bias: weights.bias.slice() };
    const first = p.forward(request());
    const set = p.setWeights(w);
    // The weights are taken when setWeights() is called, too.
    w.kernel.set(otherWeights.kernel);
    w.recurrentKernel.set(otherWeights.recurrentKernel);
    w.bias.set(otherWeights.bias);
    const second = p.forward(request());
    const third = p.setWeights(otherWeights).then(() => p.forward(request()));
    expectSameForward(await first, before.forward);
    await set;
    expectSameForward(await second, before.forward);
    expectSameForward(await third, after.forward);
    p.dispose();
  });

  it('dispose() while forward and backward wait: both complete, later calls reject clearly', async () => {
    const want = await undisturbed();
    const p = await backend.prepare(spec, weights);
    const f = await p.forward(request());
    const pendingForward = p.forward(request());
    const pendingBackward = p.backward(f.saved, gradients());
    p.dispose();
    expectSameForward(await pendingForward, want.forward);
    expectSameGradients(await pendingBackward, want.gradients);
    await expect(p.forward(request())).rejects.toThrow(/disposed prepared layer/);
    expect(p.bytes()).toBe(0);
  });
});

describe('shared, offset and odd-length views', () => {
  for (const shared of [false, true]) {
    for (const offset of [1, 3]) {
      it(`${shared ? 'SharedArrayBuffer' : 'ArrayBuffer'} views at element offset ${offset}: every argument, same results`, async () => {
        const want = await undisturbed();
        const w = {
          kernel: view(weights.kernel, offset, shared),
          recurrentKernel: view(weights.recurrentKernel, offset, shared),
          bias: view(weights.bias, offset, shared),
        };
        const p = await backend.prepare(spec, w);
        const base = request();
        const req: ForwardRequest = {
          ...base,
          x: view(base.x as Float32Array, offset, shared),
          initialState: view(base.initialState as Float32Array, offset, shared),
          mask: view(base.mask as Uint8Array, offset, shared),
        };
        const got = await p.forward(req);
        expectSameForward(got, want.forward);
        const g = gradients();
        expectSameGradients(
          await p.backward(got.saved, { dOutput: view(g.dOutput, offset, shared), dLastState: view(g.dLastState, offset, shared) }),
          want.gradients,
        );
        await p.setWeights(w);
        expectSameForward(await p.forward(req), want.forward);
        p.dispose();
      });
    }
  }
});

describe('the addon itself copies at call time', () => {
  const resolved = resolveOptions({ cudnnPath: fake.ok, cudaDriverPath: fake.ok, python: false }, {});

  async function deviceForward(shared: boolean, offset: number, disturb: (a: DeviceForwardArgs) => void) {
    const runtime = await openNativeRuntime(resolved);
    const layer = await runtime.createLayer({ inputDim: D, units: H, dtype: 'float32', precision: 'fp32' });
    const packed = (await import('../src/weights.js')).packWeights(weights, D, H, 'float32') as Float32Array;
    await layer.setWeights(view(packed, offset, shared));
    const base = request();
    const args: DeviceForwardArgs = {
      batch: B,
      timesteps: T,
      seqLengths: new Int32Array([6, 4, 1]),
      x: view(base.x as Float32Array, offset, shared),
      hx: view(base.initialState as Float32Array, offset, shared),
      y: view(new Float32Array(B * T * H), offset, shared),
      hy: view(new Float32Array(B * H), offset, shared),
      training: false,
    };
    const pending = layer.forward(args);
    disturb(args);
    try {
      await pending;
      return { y: Float32Array.from(args.y as Float32Array), hy: Float32Array.from(args.hy) };
    } finally {
      layer.dispose();
    }
  }

  it('inputs changed right after forward() do not reach the device; shared and offset views work for every argument', async () => {
    const want = await deviceForward(false, 0, () => undefined);
    for (const shared of [false, true]) {
      const got = await deviceForward(shared, 3, (a) => {
        (a.x as Float32Array).fill(5);
        (a.hx as Float32Array).fill(5);
      });
      expect(sameBits(got.y, want.y)).toBe(true);
      expect(sameBits(got.hy, want.hy)).toBe(true);
    }
  });

  it('an output array transferred while the call runs: the call rejects clearly (nothing is written to memory it no longer owns)', async () => {
    await expect(deviceForward(false, 0, (a) => structuredClone(a.hy.buffer, { transfer: [a.hy.buffer as ArrayBuffer] }))).rejects.toThrow(
      /the output array `hy` was detached \(transferred\) while the call ran; it had 12 elements and now has 0/,
    );
  });
});
