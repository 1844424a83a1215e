import {
  classifyMask,
  referenceBackend,
  UnsupportedCallError,
  type BackwardRequest,
  type BoundForwardRequest,
  type FloatArray,
  type ForwardRequest,
  type ForwardResult,
  type GruBackend,
  type GruCallInfo,
  type GruWeights,
  type PreparedGru,
} from '@gru/core';
import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '../src/index.js';
import { checkForeignArrays, inOtherRealm, asHostileSubclass } from '../src/testing/index.js';
import { float32Only, planted, unregisterPlanted } from './planted-backend.js';

afterEach(unregisterPlanted);

const CHECK = 'contract:foreign-arrays';

async function outcome(backend: GruBackend) {
  const report = await runConformance(backend, { coreChecks: false, sweep: false, only: [CHECK], expectations: {} });
  const result = report.results.find((r) => r.name === CHECK);
  if (!result) throw new Error(`${CHECK} did not run`);
  return result;
}

/**
 * A backend's copy as a first try at one would write it: the values the array's iterator
 * yields, as many as core checked (a subclass's @@iterator then answers other values).
 */
function iterated(a: FloatArray): FloatArray {
  const copy = new (a.BYTES_PER_ELEMENT === 8 ? Float64Array : Float32Array)(a.length);
  let i = 0;
  for (const v of a) {
    if (i === copy.length) break;
    copy[i++] = v;
  }
  return copy;
}

/** Refuses an array that is not `instanceof` this realm's constructor (another realm's is not). */
function mustBeOwn<T extends FloatArray | Uint8Array>(a: T, name: string): T {
  if (!(a instanceof Float32Array || a instanceof Float64Array || a instanceof Uint8Array)) throw new TypeError(`broken: \`${name}\` must be a typed array`);
  return a;
}

interface Breaks {
  weights?: (w: GruWeights) => GruWeights;
  request?: (r: ForwardRequest) => ForwardRequest;
  backward?: (r: BackwardRequest) => BackwardRequest;
  bound?: (r: BoundForwardRequest) => BoundForwardRequest;
}

/** Declines a mask together with initialState (each alone is taken). */
const declinesPair = (_: unknown, call: GruCallInfo) => (call.initialState && call.mask !== 'none' ? 'REASON-PAIR' : undefined);

/** Declines mask=any together with initialState (each alone is taken, and right-padded masks with initialState). */
const declinesAnyPair = (_: unknown, call: GruCallInfo) => (call.initialState && call.mask === 'any' ? 'REASON-ANY-PAIR' : undefined);

/** The planted backend's correct layer (reference with bindForward), with its arrays misread as `breaks` says. */
function broken(name: string, breaks: Breaks): GruBackend {
  const inner = planted(name, {});
  const wrap = (p: PreparedGru): PreparedGru => ({
    spec: p.spec,
    forward: (r) => p.forward(breaks.request ? breaks.request(r) : r),
    forwardSync: (r) => p.forwardSync!(breaks.request ? breaks.request(r) : r),
    bindForward: (r) => p.bindForward!(breaks.bound ? breaks.bound(r) : r),
    backward: (saved, r) => p.backward!(saved, breaks.backward ? breaks.backward(r) : r),
    setWeights: (w) => p.setWeights(breaks.weights ? breaks.weights(w) : w),
    dispose: () => p.dispose(),
  });
  return {
    ...inner,
    name,
    prepare: async (spec, w) => wrap(await inner.prepare(spec, breaks.weights ? breaks.weights(w) : w)),
    prepareSync: (spec, w) => wrap(inner.prepareSync!(spec, breaks.weights ? breaks.weights(w) : w)),
  };
}

describe('the shared fixtures', () => {
  it('inOtherRealm: the same values in an array that is not `instanceof` this realm’s type', () => {
    const a = Float32Array.from([1.5, -2, 3]);
    const f = inOtherRealm(a);
    expect(f instanceof Float32Array).toBe(false);
    expect(Object.prototype.toString.call(f)).toBe('[object Float32Array]');
    expect(Array.from(new Float32Array(f))).toEqual([1.5, -2, 3]);
    expect(inOtherRealm(Uint8Array.from([1, 0])) instanceof Uint8Array).toBe(false);
  });

  it('asHostileSubclass: the same values, but from(), slice(), subarray() and map() answer others', () => {
    const h = asHostileSubclass(Float64Array.from([0.5, 1.5]));
    expect(h).toBeInstanceOf(Float64Array);
    expect(h.length).toBe(2);
    expect(Array.from(new Float64Array(h))).toEqual([0.5, 1.5]);
    expect(Float64Array.from(h).length).toBe(5000);
    expect(Float64Array.from(h)[0]).toBe(9);
    expect(Array.from(h.slice())).toEqual([9, 9]);
    expect(Array.from(h.subarray(1))).toEqual([9]);
    expect(h.map((v) => v).length).toBe(7);
    const m = asHostileSubclass(Uint8Array.from([1, 1, 0]));
    expect(Array.from(new Uint8Array(m))).toEqual([1, 1, 0]);
    expect(Uint8Array.from(m)[0]).toBe(0);
  });

  it('keeps the type of an array of another realm (a fixture of a fixture), and refuses arrays of other types', () => {
    const mask = asHostileSubclass(inOtherRealm(Uint8Array.from([1, 0, 1])));
    expect(mask).toBeInstanceOf(Uint8Array);
    expect(Array.from(new Uint8Array(mask))).toEqual([1, 0, 1]);
    expect(Uint8Array.from(mask)[0]).toBe(0);
    const twice = inOtherRealm(inOtherRealm(Float64Array.of(0.1)));
    expect(Object.prototype.toString.call(twice)).toBe('[object Float64Array]');
    expect(twice[0]).toBe(0.1);
    expect(() => inOtherRealm(Int16Array.of(1) as unknown as Float32Array)).toThrow(/Int16Array/);
    expect(() => asHostileSubclass([1, 2] as unknown as Float32Array)).toThrow(/Array/);
  });
});

describe('contract:foreign-arrays', () => {
  it('passes the reference backend, with nothing left unchecked (control)', async () => {
    const result = await checkForeignArrays(referenceBackend);
    expect(result).toEqual({ status: 'passed', ranOn: referenceBackend.name });
  });

  it('passes a correct backend with bindForward through the runner (control)', async () => {
    const result = await outcome(planted('planted-foreign-ok', {}));
    expect(result.status).toBe('passed');
    expect(result.detail).toBeUndefined();
  });

  it('fails a backend that reads weights through their iterator (Float32Array.from-style), naming prepare and the subclass', async () => {
    const weights = (w: GruWeights): GruWeights => ({
      kernel: iterated(w.kernel),
      recurrentKernel: iterated(w.recurrentKernel),
      bias: w.bias && iterated(w.bias),
    });
    const result = await outcome(broken('broken-foreign-weights', { weights }));
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^forward after prepare given weights as a Float32Array subclass whose @@iterator, slice\(\), subarray\(\) and @@species answer other values: output differs from the same call with plain arrays .* at \[\d+, \d+, \d+\] of shape \[3, 5, 7\]: got .*read caller arrays as core checked them .*\(case: B=3 T=5 D=4 H=7 /,
    );
  });

  it('fails a backend whose setWeights alone misreads them', async () => {
    const backend = float32Only(planted('broken-foreign-set', {}), {
      layer: (p) => ({ setWeights: (n: GruWeights) => p.setWeights({ ...n, recurrentKernel: iterated(n.recurrentKernel) }) }),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^forward after setWeights given weights as a Float32Array subclass whose @@iterator.*: output differs/);
  });

  it('fails a backend that refuses another realm’s x (an `instanceof` check), naming the path and the realm', async () => {
    const result = await outcome(broken('broken-foreign-x', { request: (r) => ({ ...r, x: mustBeOwn(r.x, 'x') }) }));
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^forward given x as a Float32Array of another realm \(node:vm\) threw TypeError: broken: `x` must be a typed array \(the same call with plain arrays did not\)/,
    );
  });

  it('fails a backend that copies the mask through subarray() (a subclass’s @@species answers another array)', async () => {
    const request = (r: ForwardRequest) => (r.mask ? { ...r, mask: new Uint8Array(r.mask.subarray(0, r.batch * r.timesteps)) } : r);
    const result = await outcome(broken('broken-foreign-mask', { request }));
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^forward given mask as a Uint8Array subclass whose @@iterator, slice\(\), subarray\(\) and @@species answer other values: (output|lastState) differs/,
    );
  });

  it('fails a backend whose bound call refuses another realm’s output array', async () => {
    const result = await outcome(broken('broken-foreign-bound', { bound: (r) => ({ ...r, output: mustBeOwn(r.output, 'output') }) }));
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^bindForward\(\)\.run\(\) given output as a Float32Array of another realm \(node:vm\) threw TypeError: broken: `output`/);
  });

  it('fails a backend whose backward reads dLastState through its iterator', async () => {
    const backward = (r: BackwardRequest) => ({ ...r, dLastState: r.dLastState && iterated(r.dLastState) });
    const result = await outcome(broken('broken-foreign-backward', { backward }));
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^backward given dLastState as a Float32Array subclass whose @@iterator.*: dx differs/);
  });

  it('holds an answer to its bits: a zero whose sign differs from the plain call’s fails', async () => {
    // +0 for a plain x, -0 for any other: equal values, other bits.
    const zeroSigned = (r: ForwardRequest, res: ForwardResult): ForwardResult => {
      const output = res.output.slice();
      output[0] = Object.getPrototypeOf(r.x) === Float32Array.prototype ? 0 : -0;
      return { ...res, output };
    };
    const backend = float32Only(planted('broken-foreign-zero-sign', {}), {
      layer: (p) => ({ forward: async (r) => zeroSigned(r, await p.forward(r)), forwardSync: (r) => zeroSigned(r, p.forwardSync!(r)) }),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^forward given x as a Float32Array of another realm \(node:vm\): output differs in its bits \(a zero's sign or a NaN's payload\) from the same call with plain arrays at \[0, 0, 0\] of shape \[3, 5, 7\]: got 0 = 0x80000000, expected 0 = 0x00000000: read caller arrays/,
    );
  });

  it('passes an answer the same bit for bit, NaN included (control)', async () => {
    const withNaN = (res: ForwardResult): ForwardResult => {
      const output = res.output.slice();
      output[0] = Number.NaN;
      return { ...res, output };
    };
    const backend = float32Only(planted('planted-foreign-nan', {}), {
      layer: (p) => ({ forward: async (r) => withNaN(await p.forward(r)), forwardSync: (r) => withNaN(p.forwardSync!(r)) }),
    });
    const result = await outcome(backend);
    expect(result).toMatchObject({ status: 'passed', detail: 'not checked: float64 (supports(): planted: float32 only)' });
  });

  it('names a float64 layer’s bound output as the Float64Array it is', async () => {
    const inner = broken('broken-foreign-bound-f64', { bound: (r) => ({ ...r, output: mustBeOwn(r.output, 'output') }) });
    const backend: GruBackend = { ...inner, supports: (spec, call) => (spec.dtype === 'float32' ? 'planted: float64 only' : inner.supports(spec, call)) };
    const result = await outcome(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^bindForward\(\)\.run\(\) given output as a Float64Array of another realm \(node:vm\) threw TypeError: .*dtype=float64/);
  });

  it('names each input supports() declines with its own reason', async () => {
    const backend = float32Only(planted('planted-foreign-two-reasons', {}), {
      declines: (_, call) => (call.mask !== 'none' ? 'REASON-MASK' : call.initialState ? 'REASON-INITSTATE' : undefined),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('passed');
    expect(result.detail).toBe(
      'not checked: float64 (supports(): planted: float32 only); float32 initialState (supports(): REASON-INITSTATE); float32 mask (supports(): REASON-MASK)',
    );
  });

  it('checks the mask of a backend that takes masks but declines initialState (a misread mask fails)', async () => {
    const request = (r: ForwardRequest) => (r.mask ? { ...r, mask: new Uint8Array(r.mask.subarray(0, r.batch * r.timesteps)) } : r);
    const backend = float32Only(broken('broken-foreign-mask-no-state', { request }), {
      declines: (_, call) => (call.initialState ? 'REASON-INITSTATE' : undefined),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^forward given mask as a Uint8Array subclass whose .*: (output|lastState) differs/);
  });

  it('runs the mask alone where supports() takes a mask and initialState each alone but not together (a misread mask fails)', async () => {
    const request = (r: ForwardRequest) => (r.mask ? { ...r, mask: new Uint8Array(r.mask.subarray(0, r.batch * r.timesteps)) } : r);
    const backend = float32Only(broken('broken-foreign-mask-not-with-state', { request }), { declines: declinesPair });
    const result = await outcome(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^forward given mask as a Uint8Array subclass whose .*: (output|lastState) differs.*\(case: .*mask=any/);
  });

  it('says that what the mask-alone run could not check went unchecked only in that run', async () => {
    const backend = float32Only(planted('planted-foreign-pair-bwd', {}), {
      declines: (spec, call) => declinesPair(spec, call) ?? (call.backward && call.mask !== 'none' ? 'REASON-BWD-MASK' : undefined),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('passed');
    expect(result.detail).toBe(
      'not checked: float64 (supports(): planted: float32 only); float32 mask together with initialState (supports(): REASON-PAIR); float32 backward (supports(): REASON-BWD-MASK) in the run with mask (any) alone',
    );
  });

  it('runs mask=any alone where supports() takes initialState with right-padded masks but not with any (a misread any mask fails)', async () => {
    // Misreads a foreign mask only where it is not right-padded: the right-padded run passes.
    const request = (r: ForwardRequest) =>
      r.mask && classifyMask(new Uint8Array(r.mask), r.batch, r.timesteps) === 'any'
        ? { ...r, mask: new Uint8Array(r.mask.subarray(0, r.batch * r.timesteps)) }
        : r;
    const backend = float32Only(broken('broken-foreign-any-mask', { request }), { declines: declinesAnyPair });
    const result = await outcome(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^forward given mask as a Uint8Array subclass whose .*: (output|lastState) differs.*\(case: .*mask=any/);
  });

  it('names mask=any beside initialState where a correct backend takes it alone but only right-padded masks with initialState', async () => {
    const masks: string[] = [];
    const backend = float32Only(planted('planted-foreign-any-pair', {}), {
      declines: declinesAnyPair,
      layer: (p) => ({
        forward: (r) => {
          if (r.mask) masks.push(classifyMask(new Uint8Array(r.mask), r.batch, r.timesteps));
          return p.forward(r);
        },
      }),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('passed');
    expect(result.detail).toBe(
      'not checked: float64 (supports(): planted: float32 only); float32 mask (any) together with initialState (supports(): REASON-ANY-PAIR)',
    );
    expect(new Set(masks)).toEqual(new Set(['right-padded', 'any']));
  });

  it('names mask=any where supports() takes only right-padded masks (as cuDNN), with initialState or without', async () => {
    const anyMask = (_: unknown, call: GruCallInfo) => (call.mask === 'any' ? 'REASON-ANY' : undefined);
    const withState = await outcome(float32Only(planted('planted-foreign-right-padded', {}), { declines: anyMask }));
    expect(withState).toMatchObject({
      status: 'passed',
      detail: 'not checked: float64 (supports(): planted: float32 only); float32 mask (any) (supports(): REASON-ANY)',
    });
    const noState = float32Only(planted('planted-foreign-right-padded-no-state', {}), {
      declines: (_, call) => anyMask(_, call) ?? (call.initialState ? 'REASON-INITSTATE' : undefined),
    });
    expect(await outcome(noState)).toMatchObject({
      status: 'passed',
      detail:
        'not checked: float64 (supports(): planted: float32 only); float32 initialState (supports(): REASON-INITSTATE); float32 mask (any) (supports(): REASON-ANY)',
    });
  });

  it('runs a right-padded mask alone where supports() takes no mask=any and no mask beside initialState, naming both', async () => {
    const request = (r: ForwardRequest) => (r.mask ? { ...r, mask: new Uint8Array(r.mask.subarray(0, r.batch * r.timesteps)) } : r);
    const declines = (_: unknown, call: GruCallInfo) =>
      call.mask === 'any' ? 'REASON-ANY' : call.initialState && call.mask !== 'none' ? 'REASON-PAIR' : undefined;
    const broke = await outcome(float32Only(broken('broken-foreign-right-padded-alone', { request }), { declines }));
    expect(broke.status).toBe('failed');
    expect(broke.detail).toMatch(/^forward given mask as a Uint8Array subclass whose .*\(case: .*mask=right-padded/);
    const ok = await outcome(float32Only(planted('planted-foreign-right-padded-alone', {}), { declines }));
    expect(ok).toMatchObject({
      status: 'passed',
      detail:
        'not checked: float64 (supports(): planted: float32 only); float32 mask together with initialState (supports(): REASON-PAIR); float32 mask (any) (supports(): REASON-ANY)',
    });
  });

  it('names the pair, and nothing else, where a correct backend takes a mask and initialState each alone but not together', async () => {
    const masks: number[] = [];
    const backend = float32Only(planted('planted-foreign-pair', {}), {
      declines: declinesPair,
      layer: (p) => ({
        forward: (r) => {
          if (r.mask) masks.push(r.mask.length);
          return p.forward(r);
        },
      }),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('passed');
    expect(result.detail).toBe('not checked: float64 (supports(): planted: float32 only); float32 mask together with initialState (supports(): REASON-PAIR)');
    expect(masks.length).toBeGreaterThan(0);
  });

  it('names a plain backward or forwardSync that refuses after supports() accepted, and keeps what passed', async () => {
    const backend = float32Only(planted('planted-foreign-refuses', {}), {
      layer: () => ({
        forwardSync: () => {
          throw new UnsupportedCallError('planted-foreign-refuses', 'no sync');
        },
        backward: async () => {
          throw new UnsupportedCallError('planted-foreign-refuses', 'nope');
        },
      }),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('passed');
    expect(result.detail).toBe(
      'not checked: float64 (supports(): planted: float32 only); float32 forwardSync (refused: no sync); float32 backward (refused: nope)',
    );
  });

  it('names a forward that refuses to keep for backward as forward, not as backward', async () => {
    const backend = float32Only(planted('planted-foreign-no-keep', {}), {
      layer: (p) => ({
        forward: async (r) => {
          if (r.keepForBackward) throw new UnsupportedCallError('planted-foreign-no-keep', 'forward cannot keep');
          return p.forward(r);
        },
      }),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('passed');
    expect(result.detail).toBe(
      'not checked: float64 (supports(): planted: float32 only); float32 forward({ keepForBackward: true }) (refused: forward cannot keep)',
    );
  });

  it('checks the arrays kept for backward through backwardSync where backward refuses (a misread kept x fails)', async () => {
    // The reference's layer (it has backwardSync), whose methods are on its prototype: each named.
    const inner: GruBackend = { ...planted('planted-foreign-kept-sync', {}), prepare: async (spec, w) => referenceBackend.prepareSync!(spec, w) };
    const backend = float32Only(inner, {
      layer: (p) => ({
        forward: (r) => p.forward(r.keepForBackward ? { ...r, x: iterated(r.x) } : r),
        backwardSync: (saved, r) => p.backwardSync!(saved, r),
        setWeights: (weights) => p.setWeights(weights),
        dispose: () => p.dispose(),
        backward: async () => {
          throw new UnsupportedCallError('planted-foreign-kept-sync', 'sync only');
        },
      }),
    });
    const result = await outcome(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^backwardSync after forward \(keepForBackward\) given x as a Float32Array subclass .*: d\w+ differs from the same call with plain arrays/,
    );
  });

  it('names a missing backward method where supportsBackward() says true', async () => {
    const backend = float32Only(planted('planted-foreign-no-backward', {}), { layer: () => ({ backward: undefined, backwardSync: undefined }) });
    const result = await outcome(backend);
    expect(result.status).toBe('passed');
    expect(result.detail).toBe(
      'not checked: float64 (supports(): planted: float32 only); float32 backward (the prepared layer has no backward method, though supportsBackward() says true)',
    );
  });

  it('disposes every layer it prepared when the plain setWeights baseline throws', async () => {
    const inner = planted('planted-foreign-set-boom', {});
    let live = 0;
    const counted = (p: PreparedGru): PreparedGru => {
      live++;
      let disposed = false;
      return {
        ...p,
        spec: p.spec,
        setWeights: () => {
          throw new Error('setWeights boom');
        },
        dispose: () => {
          if (!disposed) live--;
          disposed = true;
          p.dispose();
        },
      };
    };
    const backend: GruBackend = {
      ...inner,
      prepare: async (spec, w) => counted(await inner.prepare(spec, w)),
      prepareSync: (spec, w) => counted(inner.prepareSync!(spec, w)),
    };
    const result = await outcome(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^setWeights threw Error: setWeights boom with plain arrays/);
    expect(live).toBe(0);
  });

  it('names a refused setup call before setWeights as itself, not as setWeights', async () => {
    const inner = planted('planted-foreign-other-refused', {});
    const first = new Map<string, number>();
    const backend: GruBackend = {
      ...float32Only(inner),
      prepare: async (spec, w) => {
        // Only the case's own weights (whatever the array) are taken: the other weights setWeights replaces are refused.
        if (!first.has(spec.dtype)) first.set(spec.dtype, w.kernel[0]);
        if (first.get(spec.dtype) !== w.kernel[0]) throw new UnsupportedCallError('planted-foreign-other-refused', 'only the first weights');
        return inner.prepare(spec, w);
      },
    };
    const result = await outcome(backend);
    expect(result.status).toBe('passed');
    expect(result.detail).toBe(
      'not checked: float64 (supports(): planted: float32 only); float32 prepare (the layer setWeights is then called on) (refused: only the first weights)',
    );
  });

  it('asks supports() about the shape it runs (a backend declining only a tiny call still has its dtypes checked)', async () => {
    const inner = planted('planted-foreign-no-tiny', {});
    const backend: GruBackend = {
      ...inner,
      supports: (spec, call) => (call.batch === 1 && call.timesteps === 1 ? 'planted: no 1x1 calls' : inner.supports(spec, call)),
    };
    const result = await outcome(backend);
    expect(result).toMatchObject({ status: 'passed' });
    expect(result.detail).toBeUndefined();
  });

  it('asks supports() about backward as a training call (training: true, backward: true)', async () => {
    const inner = planted('planted-foreign-training', {});
    const asked: boolean[] = [];
    const backend: GruBackend = {
      ...inner,
      supports: (spec, call) => {
        if (call.backward) asked.push(call.training);
        return inner.supports(spec, call);
      },
    };
    expect((await outcome(backend)).status).toBe('passed');
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((t) => t)).toBe(true);
  });

  it('says what the baseline was when prepareSync alone refuses foreign weights', async () => {
    const inner = planted('broken-foreign-prepare-sync', {});
    const backend: GruBackend = {
      ...inner,
      prepareSync: (spec, w) => inner.prepareSync!(spec, { ...w, kernel: mustBeOwn(w.kernel, 'kernel') }),
    };
    const result = await outcome(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^prepareSync given weights as a Float32Array of another realm \(node:vm\) threw TypeError: broken: `kernel` must be a typed array \(prepareSync given plain arrays did not\)/,
    );
  });

  it('names what supports() declined in a passing outcome (never a silent skip)', async () => {
    const backend: GruBackend = {
      ...float32Only(planted('planted-foreign-no-mask', {}), { declines: (_, call) => (call.mask !== 'none' ? 'planted: no masks' : undefined) }),
      supportsBackward: () => 'planted: no training',
    };
    const result = await outcome(backend);
    expect(result.status).toBe('passed');
    expect(result.detail).toBe(
      'not checked: float64 (supports(): planted: float32 only); float32 mask (supports(): planted: no masks); float32 backward (supportsBackward(): planted: no training)',
    );
  });

  it('names the other realm as not checked where none can be made, and still checks the subclass', async () => {
    const proc = process as { getBuiltinModule?: unknown };
    const own = proc.getBuiltinModule;
    proc.getBuiltinModule = () => undefined;
    try {
      const result = await checkForeignArrays(referenceBackend);
      expect(result.status).toBe('passed');
      expect(result.detail).toBe(
        'not checked: arrays of another realm (neither node:vm (Node) nor a document to make an iframe in (a page) is available here)',
      );
      const weights = (w: GruWeights): GruWeights => ({ ...w, kernel: iterated(w.kernel) });
      const failed = await checkForeignArrays(broken('broken-foreign-no-realm', { weights }));
      expect(failed.status).toBe('failed');
    } finally {
      proc.getBuiltinModule = own;
    }
  });
});
