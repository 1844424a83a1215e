import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GRU, type GruOptions, type GruResult, type Tensor } from '../src/index.js';
import { registerDeferredBackend, type DeferredBackend } from './helpers/deferred-backend.js';

// A call takes what it reads when it is made: later writes, transfers and setWeights() must not
// reach it, on a backend that runs at once (reference) and on one that answers later (deferred).

const B = 2;
const T = 4;
const D = 3;
const H = 5;

function seq(n: number, scale: number, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * scale + offset));
}

function input(offset = 0): Tensor<Float32Array> {
  return { shape: [B, T, D], data: seq(B * T * D, 0.7, offset) };
}

function layer(options: Partial<GruOptions> = {}): GRU {
  return new GRU({
    units: H,
    returnSequences: true,
    returnState: true,
    kernelInitializer: { class_name: 'GlorotUniform', config: { seed: 1 } },
    recurrentInitializer: { class_name: 'GlorotUniform', config: { seed: 2 } },
    biasInitializer: 'ones',
    ...options,
  } as GruOptions);
}

/** A layer with the same config and weights, run synchronously on the reference backend: the expected result. */
function twin(l: GRU, options: Partial<GruOptions> = {}): GRU {
  if (!l.built) l.build(options.timeMajor ? [T, B, D] : [B, T, D]);
  const t = layer({ ...options, backend: 'reference' });
  t.setWeights(l.getWeights());
  return t;
}

function same(a: GruResult, b: GruResult): void {
  expect(Array.from(a.output.data)).toEqual(Array.from(b.output.data));
  expect(Array.from(a.state?.data ?? [])).toEqual(Array.from(b.state?.data ?? []));
}

let deferred: DeferredBackend;
beforeEach(() => {
  deferred = registerDeferredBackend();
});
afterEach(() => {
  deferred.release();
  deferred.unregister();
});

/** Lets `n` calls run, one at a time in call order: on the deferred backend each waits to be released. */
async function drive(backend: string, n = 1): Promise<void> {
  if (backend !== 'deferred') return;
  for (let i = 0; i < n; i++) {
    await deferred.whenWaiting(1);
    deferred.release();
  }
}

/** Starts a call, lets the test interfere at once (before any await), then lets the backend run. */
async function interfere(backend: string, call: () => Promise<GruResult>, meddle: () => void): Promise<GruResult> {
  const pending = call();
  meddle();
  await drive(backend);
  return pending;
}

describe.each(['reference', 'deferred'])('inputs are taken when the call is made (%s)', (backend) => {
  it('writing to x right after forward() does not change the result', async () => {
    const l = layer({ backend });
    const x = input();
    const expected = twin(l).forwardSync(input());
    const got = await interfere(
      backend,
      () => l.forward(x),
      () => x.data.fill(100),
    );
    same(got, expected);
  });

  it('transferring x’s buffer right after forward() does not change the result', async () => {
    const l = layer({ backend });
    const x = input();
    const expected = twin(l).forwardSync(input());
    const got = await interfere(
      backend,
      () => l.forward(x),
      () => structuredClone(x.data.buffer, { transfer: [x.data.buffer as ArrayBuffer] }),
    );
    expect(x.data.length).toBe(0); // detached
    same(got, expected);
  });

  it('a time-major input is taken at call time too', async () => {
    const l = layer({ backend, timeMajor: true });
    const x: Tensor<Float32Array> = { shape: [T, B, D], data: seq(B * T * D, 0.3) };
    const expected = twin(l, { timeMajor: true }).forwardSync({ shape: [T, B, D], data: x.data.slice() });
    same(
      await interfere(
        backend,
        () => l.forward(x),
        () => x.data.fill(-3),
      ),
      expected,
    );
  });

  it('writing to the mask and the initial state after forward() does not change the result', async () => {
    const l = layer({ backend });
    const mask = { shape: [B, T], data: Float32Array.from([1, 1, 0, 1, 1, 0, 1, 1]) };
    const h0 = { shape: [B, H], data: seq(B * H, 0.9) };
    const expected = twin(l).forwardSync(input(), { mask: { shape: [B, T], data: mask.data.slice() }, initialState: { shape: [B, H], data: h0.data.slice() } });
    const got = await interfere(
      backend,
      () => l.forward(input(), { mask, initialState: h0 }),
      () => {
        mask.data.fill(0);
        h0.data.fill(7);
      },
    );
    same(got, expected);
  });

  it('writing to given dropout masks after forward() does not change the result', async () => {
    const opts = { dropout: 0.5, recurrentDropout: 0.5, implementation: 1 as const };
    const l = layer({ backend, ...opts });
    const drop = () =>
      Array.from({ length: 3 }, (_, g) => ({ shape: [B, D], data: Float32Array.from({ length: B * D }, (_, i) => ((i + g) % 3 === 0 ? 0 : 2)) }));
    const rec = () =>
      Array.from({ length: 3 }, (_, g) => ({ shape: [B, H], data: Float32Array.from({ length: B * H }, (_, i) => ((i + g) % 2 === 0 ? 0 : 2)) }));
    const expected = twin(l, opts).forwardSync(input(), { training: true, dropoutMask: drop(), recurrentDropoutMask: rec() });
    const dropoutMask = drop();
    const recurrentDropoutMask = rec();
    const got = await interfere(
      backend,
      () => l.forward(input(), { training: true, dropoutMask, recurrentDropoutMask }),
      () => [...dropoutMask, ...recurrentDropoutMask].forEach((m) => m.data.fill(9)),
    );
    same(got, expected);
  });

  it('writing to a cached mask from getDropoutMaskForCell after forward() does not change the result', async () => {
    const opts = { dropout: 0.5, implementation: 1 as const };
    const l = layer({ backend, ...opts });
    l.build([B, T, D]);
    const masks = l.cell.getDropoutMaskForCell({ shape: [B, D], data: new Float32Array(B * D) }, true, 3) as Tensor[];
    const expected = twin(l, opts).forwardSync(input(), { training: true, dropoutMask: masks.map((m) => ({ shape: m.shape, data: m.data.slice() })) });
    const got = await interfere(
      backend,
      () => l.forward(input(), { training: true }),
      () => masks.forEach((m) => m.data.fill(5)),
    );
    same(got, expected);
  });

  it('setWeights() during a call: the call uses the weights it was made with, the next call the new ones', async () => {
    const l = layer({ backend });
    const before = twin(l).forwardSync(input());
    const newWeights = l.getWeights().map((w) => ({ shape: w.shape, data: w.data.map((v) => v * 0.5 + 0.1) }));
    const first = l.forward(input());
    l.setWeights(newWeights);
    const second = l.forward(input());
    if (backend === 'deferred') {
      await deferred.whenWaiting(2);
      deferred.release();
    }
    const after = twin(l).forwardSync(input());
    same(await first, before);
    same(await second, after);
    expect(Array.from(after.output.data)).not.toEqual(Array.from(before.output.data));
  });

  it('writing to dOutput and dState after backward() does not change the gradients', async () => {
    const l = layer({ backend });
    const ref = twin(l);
    ref.forwardSync(input(), { training: true });
    await interfere(
      backend,
      () => l.forward(input(), { training: true }),
      () => {},
    );
    const dOut = { shape: [B, T, H], data: seq(B * T * H, 0.2) };
    const dState = { shape: [B, H], data: seq(B * H, 0.4) };
    const expected = ref.backwardSync({ shape: dOut.shape, data: dOut.data.slice() }, { shape: dState.shape, data: dState.data.slice() });
    const pending = l.backward(dOut, dState);
    dOut.data.fill(50);
    dState.data.fill(-50);
    await drive(backend);
    const got = await pending;
    expect(Array.from(got.inputs.data)).toEqual(Array.from(expected.inputs.data));
    expect(Array.from(got.kernel.data)).toEqual(Array.from(expected.kernel.data));
  });

  it('writing to x after a training forward() does not change the gradients backward() gives', async () => {
    const l = layer({ backend });
    const ref = twin(l);
    ref.forwardSync(input(), { training: true });
    const x = input();
    await interfere(
      backend,
      () => l.forward(x, { training: true }),
      () => x.data.fill(3),
    );
    const dOut = { shape: [B, T, H], data: seq(B * T * H, 0.2) };
    const expected = ref.backwardSync(dOut);
    const pending = l.backward(dOut);
    await drive(backend);
    const got = await pending;
    expect(Array.from(got.kernel.data)).toEqual(Array.from(expected.kernel.data));
  });
});

describe('stateful layers: concurrent async calls run in call order', () => {
  const opts = { stateful: true };
  const xs = [input(0), input(1), input(2)];

  it.each(['reference', 'deferred'])('each call starts from the state the previous one left (%s)', async (backend) => {
    const l = layer({ backend, ...opts });
    const ref = twin(l, opts);
    const expected = xs.map((x) => ref.forwardSync(x));
    const pending = xs.map((x) => l.forward(x));
    await drive(backend, 3);
    const got = await Promise.all(pending);
    got.forEach((r, i) => same(r, expected[i]));
    expect(Array.from(l.states?.[0].data ?? [])).toEqual(Array.from(ref.states?.[0].data ?? []));
  });

  it('resetStates() between calls: later calls start from zeros, earlier ones do not overwrite the reset', async () => {
    const l = layer({ backend: 'deferred', ...opts });
    const ref = twin(l, opts);
    const e0 = ref.forwardSync(xs[0]);
    const e1 = ref.forwardSync(xs[1]);
    ref.resetStates();
    const e2 = ref.forwardSync(xs[2]);
    const p0 = l.forward(xs[0]);
    const p1 = l.forward(xs[1]);
    l.resetStates();
    const p2 = l.forward(xs[2]);
    // p2 starts from the reset state: it does not wait for p1, so p0 and p2 run together, then p1.
    await deferred.whenWaiting(2);
    deferred.release();
    await drive('deferred', 1);
    same(await p0, e0);
    same(await p1, e1);
    same(await p2, e2);
    expect(Array.from(l.states?.[0].data ?? [])).toEqual(Array.from(ref.states?.[0].data ?? []));
  });

  it('a failing call leaves the state for the next one unchanged', async () => {
    const l = layer({ backend: 'reference', ...opts });
    const ref = twin(l, opts);
    const e0 = ref.forwardSync(xs[0]);
    const e2 = ref.forwardSync(xs[2]);
    const p0 = l.forward(xs[0]);
    const bad = l.forward(xs[1], { backend: 'no-such-backend' });
    const p2 = l.forward(xs[2]);
    same(await p0, e0);
    await expect(bad).rejects.toThrow(/no-such-backend/);
    same(await p2, e2);
  });

  it('forwardSync with async calls in flight is refused with a clear error', async () => {
    const l = layer({ backend: 'deferred', ...opts });
    const p = l.forward(xs[0]);
    expect(() => l.forwardSync(xs[1], { backend: 'reference' })).toThrow(/stateful and has async calls in flight/);
    await drive('deferred');
    await p;
    expect(() => l.forwardSync(xs[1], { backend: 'reference' })).not.toThrow();
  });
});

describe('prepared layers under concurrent calls (deferred backend)', () => {
  it('concurrent first calls prepare once', async () => {
    const l = layer({ backend: 'deferred' });
    const calls = [l.forward(input()), l.forward(input()), l.forward(input())];
    await deferred.whenWaiting(3);
    deferred.release();
    await Promise.all(calls);
    expect(deferred.log.prepares).toBe(1);
    l.dispose();
    expect(deferred.log.disposes).toBe(1);
  });

  it('setWeights during flight prepares a fresh layer instead of changing the busy one, and disposes the old one once idle', async () => {
    const l = layer({ backend: 'deferred' });
    const first = l.forward(input());
    await deferred.whenWaiting(1);
    l.setWeights(l.getWeights().map((w) => ({ shape: w.shape, data: w.data.map((v) => -v) })));
    const second = l.forward(input());
    await deferred.whenWaiting(2);
    expect(deferred.log.setWeights).toBe(0);
    expect(deferred.log.prepares).toBe(2);
    expect(deferred.log.disposes).toBe(0);
    deferred.release();
    await Promise.all([first, second]);
    expect(deferred.log.disposes).toBe(1);
    // An idle prepared layer is refreshed in place.
    l.setWeights(l.getWeights());
    const third = l.forward(input());
    await deferred.whenWaiting(1);
    deferred.release();
    await third;
    expect(deferred.log.setWeights).toBe(1);
    expect(deferred.log.prepares).toBe(2);
  });

  it('dispose() during flight lets the call finish, then frees', async () => {
    const l = layer({ backend: 'deferred' });
    const p = l.forward(input());
    await deferred.whenWaiting(1);
    l.dispose();
    expect(deferred.log.disposes).toBe(0);
    deferred.release();
    await expect(p).resolves.toBeTruthy();
    expect(deferred.log.disposes).toBe(1);
  });

  it('backward in flight keeps its prepared layer: setWeights and a new call prepare another', async () => {
    const l = layer({ backend: 'deferred' });
    const ref = twin(l);
    ref.forwardSync(input(), { training: true });
    const f = l.forward(input(), { training: true });
    await drive('deferred');
    await f;
    const dOut = { shape: [B, T, H], data: seq(B * T * H, 0.2) };
    const expected = ref.backwardSync(dOut);
    const back = l.backward(dOut);
    await deferred.whenWaiting(1);
    l.setWeights(l.getWeights().map((w) => ({ shape: w.shape, data: w.data.map((v) => v + 1) })));
    const next = l.forward(input());
    await deferred.whenWaiting(2);
    expect(deferred.log.setWeights).toBe(0);
    deferred.release();
    expect(Array.from((await back).kernel.data)).toEqual(Array.from(expected.kernel.data));
    await next;
    expect(deferred.log.disposes).toBe(1);
  });
});

describe('a backend result of the wrong size is refused, not returned mis-shaped', () => {
  it('names the backend and both sizes', async () => {
    const l = layer({ backend: 'deferred' });
    l.build([B, T, D]);
    const prepare = deferred.prepare;
    deferred.prepare = async (spec, weights) => {
      const p = await prepare(spec, weights);
      return {
        ...p,
        spec,
        setWeights: p.setWeights.bind(p),
        dispose: p.dispose.bind(p),
        forward: async (r) => ({ ...(await p.forward(r)), output: new Float32Array(3) }),
      };
    };
    const pending = l.forward(input());
    await drive('deferred');
    await expect(pending).rejects.toThrow(
      `Backend 'deferred' returned an invalid forward result: \`output\` must be a Float32Array of ${B * T * H} values ([batch ${B}, timesteps ${T}, units ${H}]) for a float32 layer; received a Float32Array of 3.`,
    );
  });
});
