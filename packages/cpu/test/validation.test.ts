import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';
import { loadAddon } from '../src/loader.js';
import type { NativeLayer } from '../src/native.js';
import { bitwiseEqual, makeCase, nativeArgs } from './helpers.js';

// Native code checks every value it receives; mistakes become JavaScript errors that name the
// argument, what it should be and what it was, never a crash. (A forward request reaches the addon
// as arguments, in NATIVE_REQUEST_FIELDS's order: nativeArgs spreads a request object into them.)
const { binding } = loadAddon();
const spec = { units: 5, inputDim: 3, resetAfter: true, useBias: true, activation: 1, recurrentActivation: 2 };
const weights = () => [new Float32Array(3 * 15), new Float32Array(5 * 15), new Float32Array(2 * 15)] as const;
const layer = () => new binding.Layer(spec, ...weights());
const good = () => ({ x: new Float32Array(2 * 4 * 3), batch: 2, timesteps: 4, goBackwards: false, returnSequences: true });

/**
 * forwardSync(...request, output, lastState, threads, minStepMacs), with the arrays it fills made
 * here from the request's sizes where they are sound (empty otherwise: the addon refuses such a
 * request by its sizes before it looks at the arrays). Answers [output, lastState, saved].
 */
function sync(l: NativeLayer, req: object, threads: number, minStepMacs: number) {
  const r = req as Record<string, unknown>;
  const sound = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0 && (n as number) < 2 ** 20;
  const state = sound(r.batch) ? r.batch * spec.units : 0;
  const output = new Float32Array(r.returnSequences === true && sound(r.timesteps) ? state * r.timesteps : state);
  const lastState = new Float32Array(state);
  const saved = l.forwardSync(...nativeArgs(req), output, lastState, threads, minStepMacs);
  return [output, lastState, saved] as const;
}

function detached(n: number): Float32Array {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

describe('forward request checks', () => {
  const bad: [string, Record<string, unknown>, RegExp, ErrorConstructor][] = [
    ['x as Float64Array', { x: new Float64Array(24) }, /`x` must be a Float32Array, received Float64Array\(24\)/, TypeError],
    ['x as a plain array', { x: Array(24).fill(0) }, /`x` must be a Float32Array, received Array\(24\)/, TypeError],
    ['x missing', { x: undefined }, /`x` must be a Float32Array, received undefined/, TypeError],
    ['x too short', { x: new Float32Array(23) }, /`x` has 23 elements, but its shape \[batch, timesteps, inputDim\] = \[2, 4, 3\] needs 24/, RangeError],
    ['x detached', { x: detached(24) }, /`x` is a Float32Array whose ArrayBuffer has been detached/, TypeError],
    ['negative batch', { batch: -1 }, /`batch` must be between 0 and \d+, received the number -1/, RangeError],
    ['fractional batch', { batch: 1.5 }, /`batch` must be an integer, received the number 1.5/, TypeError],
    ['NaN timesteps', { timesteps: NaN }, /`timesteps` must be an integer/, TypeError],
    ['string batch', { batch: '2' }, /`batch` must be an integer, received the string '2'/, TypeError],
    ['huge batch', { batch: 2 ** 40 }, /`batch` must be between 0 and 1073741824/, RangeError],
    ['goBackwards missing', { goBackwards: undefined }, /`goBackwards` must be a boolean, received undefined/, TypeError],
    ['returnSequences as number', { returnSequences: 1 }, /`returnSequences` must be a boolean, received the number 1/, TypeError],
    [
      'initialState wrong length',
      { initialState: new Float32Array(9) },
      /`initialState` has 9 elements, but its shape \[batch, units\] = \[2, 5\] needs 10/,
      RangeError,
    ],
    ['initialState detached', { initialState: detached(10) }, /`initialState` is a Float32Array whose ArrayBuffer has been detached/, TypeError],
    ['mask as Int8Array', { mask: new Int8Array(8) }, /`mask` must be a Uint8Array, received Int8Array/, TypeError],
    ['mask wrong length', { mask: new Uint8Array(7) }, /`mask` has 7 elements, but its shape \[batch, timesteps\] = \[2, 4\] needs 8/, RangeError],
    ['dropout masks not an array', { inputDropoutMasks: new Float32Array(6) }, /`inputDropoutMasks` must be an array of 3 Float32Arrays/, TypeError],
    [
      'two dropout masks',
      { recurrentDropoutMasks: [new Float32Array(10), new Float32Array(10)] },
      /array of 3 Float32Arrays \(z, r, h\), received Array\(2\)/,
      TypeError,
    ],
    [
      'dropout mask wrong type',
      { inputDropoutMasks: [new Float32Array(6), new Float64Array(6), new Float32Array(6)] },
      /`inputDropoutMasks\[1\]` must be a Float32Array, received Float64Array/,
      TypeError,
    ],
    [
      'dropout mask wrong length',
      { recurrentDropoutMasks: [new Float32Array(10), new Float32Array(10), new Float32Array(11)] },
      /`recurrentDropoutMasks\[2\]` has 11 elements, but its shape \[batch, units\] = \[2, 5\] needs 10/,
      RangeError,
    ],
  ];

  it.each(bad)('%s', (_what, patch, message, type) => {
    const l = layer();
    const req = { ...good(), ...patch };
    expect(() => sync(l, req, 2, 0)).toThrow(message);
    expect(() => sync(l, req, 2, 0)).toThrow(type);
    // The async path checks before it queues anything.
    expect(() => l.forward(...nativeArgs(req), 2, 0)).toThrow(message);
    l.dispose();
  });

  it('refuses a request object (the addon takes its fields as arguments), too few arguments, and bad thread counts', () => {
    const l = layer();
    const fields = 'x, batch, timesteps, goBackwards, returnSequences, initialState, mask, inputDropoutMasks, recurrentDropoutMasks, keepForBackward';
    const expected = (list: string, n: number) => `expected (${fields}, ${list}), received ${n} arguments`;
    // The form of addon interface 5 (one request object) is told what the addon takes now.
    const old = l as unknown as { forwardSync(...a: unknown[]): unknown; forward(...a: unknown[]): unknown };
    expect(() => old.forwardSync(good(), 2, 0)).toThrow(expected('output, lastState, threads, minStepMacs', 3));
    expect(() => old.forwardSync(good(), 2, 0)).toThrow(TypeError);
    expect(() => old.forward(good(), 2, 0)).toThrow(expected('threads, minStepMacs', 3));
    expect(() => old.forwardSync(...nativeArgs(good()), 2, 0)).toThrow(expected('output, lastState, threads, minStepMacs', 12));
    expect(() => old.forward(...nativeArgs(good()), 2)).toThrow(expected('threads, minStepMacs', 11));
    expect(() => sync(l, { ...good(), x: null }, 2, 0)).toThrow(/`x` must be a Float32Array, received null/);
    expect(() => sync(l, good(), 0, 0)).toThrow(/`threads` must be between 1 and 1024, received the number 0/);
    expect(() => sync(l, good(), 1, -1)).toThrow(/`minStepMacs` must be a non-negative number, received the number -1/);
    expect(() => sync(l, good(), undefined as never, 0)).toThrow(/`threads` must be an integer, received undefined/);
    l.dispose();
  });

  it("forwardSync fills the arrays it is given (checked like a bound call's) and answers `saved` or undefined", () => {
    const l = layer();
    const c = makeCase({ B: 2, T: 4, D: 3, H: 5 });
    const req = { ...good(), x: c.request.x as Float32Array, initialState: new Float32Array(10).fill(0.25) };
    const call = (output: unknown, lastState: unknown, r: object = req) =>
      l.forwardSync(...nativeArgs(r), output as Float32Array, lastState as Float32Array, 1, 0);
    const output = new Float32Array(40).fill(Number.NaN);
    const lastState = new Float32Array(10).fill(Number.NaN);
    expect(call(output, lastState)).toBeUndefined();
    expect(output.some(Number.isNaN)).toBe(false);
    // Each row's last step ([batch, timesteps, units]) is its last state.
    expect(bitwiseEqual(output.subarray(15, 20), lastState.subarray(0, 5))).toBe(true);
    expect(bitwiseEqual(output.subarray(35, 40), lastState.subarray(5, 10))).toBe(true);
    const again = [new Float32Array(40), new Float32Array(10)] as const;
    const saved = call(again[0], again[1], { ...req, keepForBackward: true });
    expect(saved).toMatchObject({ batch: 2, timesteps: 4 });
    expect(bitwiseEqual(again[0], output) && bitwiseEqual(again[1], lastState)).toBe(true);

    expect(() => call(new Float32Array(39), lastState)).toThrow(/`output` has 39 elements, but its shape \[batch, timesteps, units\] = \[2, 4, 5\] needs 40/);
    expect(() => call(new Float32Array(39), lastState)).toThrow(RangeError);
    expect(() => call(output, new Float64Array(10))).toThrow(/`lastState` must be a Float32Array, received Float64Array\(10\)/);
    expect(() => call(output, undefined)).toThrow(/`lastState` must be a Float32Array, received undefined/);
    expect(() => call(detached(40), lastState)).toThrow(/`output` is a Float32Array whose ArrayBuffer has been detached/);
    expect(() => call(output, req.initialState)).toThrow(/`lastState` shares memory with `initialState`; pass separate arrays/);
    const x40 = new Float32Array(40);
    expect(() => call(x40, lastState, { ...req, x: x40.subarray(0, 24) })).toThrow(/`output` shares memory with `x`/);
    const one = new Float32Array(45);
    expect(() => call(one.subarray(0, 40), one.subarray(35, 45))).toThrow(/`output` shares memory with `lastState`/);
    l.dispose();
  });

  it('huge sizes are refused with a RangeError before anything is allocated or run', () => {
    // inputDim 0 lets batch and timesteps be huge with an empty x.
    const empty = new binding.Layer({ ...spec, inputDim: 0, useBias: false }, new Float32Array(0), new Float32Array(5 * 15), null);
    const x = new Float32Array(0);
    expect(() => sync(empty, { x, batch: 2 ** 30, timesteps: 2 ** 30, goBackwards: false, returnSequences: true }, 1, 0)).toThrow(
      /the output \(batch \* timesteps \* units\) is too large to allocate/,
    );
    expect(() => sync(empty, { x, batch: 2 ** 30, timesteps: 1, goBackwards: false, returnSequences: false }, 1, 0)).toThrow(
      /the output would have 5368709120 elements, more than the largest Float32Array this backend returns/,
    );
    expect(() => empty.forward(...nativeArgs({ x, batch: 2 ** 30, timesteps: 2 ** 30, goBackwards: false, returnSequences: true }), 1, 0)).toThrow(RangeError);
    empty.dispose();
  });

  it('accepts views with an offset and SharedArrayBuffer memory, and reads the right elements', () => {
    const l = layer();
    const c = makeCase({ B: 2, T: 4, D: 3, H: 5 });
    const [ref] = sync(l, { ...good(), x: c.request.x }, 1, 0);
    const big = new Float32Array(100);
    big.set(c.request.x, 7);
    const [view] = sync(l, { ...good(), x: big.subarray(7, 7 + 24) }, 1, 0);
    const shared = new Float32Array(new SharedArrayBuffer(24 * 4));
    shared.set(c.request.x);
    const [fromShared] = sync(l, { ...good(), x: shared }, 1, 0);
    expect(bitwiseEqual(view, ref)).toBe(true);
    expect(bitwiseEqual(fromShared, ref)).toBe(true);
    l.dispose();
  });

  it('edge shapes: batch 0 and timesteps 0 give empty or initial-state results', () => {
    const l = layer();
    const [noneOutput, noneLast, saved] = sync(l, { x: new Float32Array(0), batch: 0, timesteps: 4, goBackwards: false, returnSequences: true }, 2, 0);
    expect(noneOutput.length).toBe(0);
    expect(noneLast.length).toBe(0);
    expect(saved).toBeUndefined(); // nothing kept for backward
    const h0 = Float32Array.from({ length: 10 }, (_, i) => i / 10);
    const [output, lastState] = sync(l, { x: new Float32Array(0), batch: 2, timesteps: 0, initialState: h0, goBackwards: false, returnSequences: false }, 2, 0);
    expect(Array.from(lastState)).toEqual(Array.from(h0));
    expect(Array.from(output)).toEqual(Array.from(h0));
    l.dispose();
  });
});

describe("getters on the dropout masks' elements", () => {
  // The request's fields arrive as arguments (nothing to run while they are read), but an element
  // of a dropout mask array may be a getter (the raw addon is public through loadAddon): one that
  // detaches an array the addon already checked must not leave the kernel reading freed memory,
  // so every element is read before any array is checked.
  const withDetachingElement = (victim: 'x' | 'initialState' | 'mask', masks: 'inputDropoutMasks' | 'recurrentDropoutMasks', element: number) => {
    const req: Record<string, unknown> = {
      ...good(),
      initialState: new Float32Array(2 * 5).fill(0.5),
      mask: new Uint8Array(2 * 4).fill(1),
    };
    const width = masks === 'inputDropoutMasks' ? 3 : 5;
    const list = [new Float32Array(2 * width).fill(1), new Float32Array(2 * width).fill(1), new Float32Array(2 * width).fill(1)];
    Object.defineProperty(list, element, {
      get() {
        const a = req[victim] as ArrayBufferView<ArrayBuffer>;
        structuredClone(a.buffer, { transfer: [a.buffer] });
        return new Float32Array(2 * width).fill(1);
      },
    });
    req[masks] = list;
    return req;
  };
  const typeOf = { x: 'Float32Array', initialState: 'Float32Array', mask: 'Uint8Array' };
  for (const victim of ['x', 'initialState', 'mask'] as const) {
    for (const [masks, element] of [
      ['inputDropoutMasks', 2],
      ['recurrentDropoutMasks', 0],
    ] as const) {
      it(`a getter on \`${masks}[${element}]\` that detaches \`${victim}\`: refused as detached (forwardSync and forward)`, () => {
        const l = layer();
        expect(() => sync(l, withDetachingElement(victim, masks, element), 1, 0)).toThrow(
          new RegExp(`\`${victim}\` is a ${typeOf[victim]} whose ArrayBuffer has been detached`),
        );
        expect(() => l.forward(...nativeArgs(withDetachingElement(victim, masks, element)), 1, 0)).toThrow(/has been detached/);
        l.dispose();
      });
    }
  }

  it('a getter that lengthens the other list after it was read: judged by what was read (a list of 4 is not called a list of 3 with an undefined element)', () => {
    const inputs: Float32Array[] = [new Float32Array(2 * 3).fill(1), new Float32Array(2 * 3).fill(1)]; // 2 of 3: refused as it was read
    const recurrent = [new Float32Array(2 * 5).fill(1), new Float32Array(2 * 5).fill(1), new Float32Array(2 * 5).fill(1)];
    Object.defineProperty(recurrent, 0, {
      get() {
        inputs.push(new Float32Array(2 * 3).fill(1)); // now 3 long, after the addon read it as 2
        return new Float32Array(2 * 5).fill(1);
      },
    });
    expect(() => sync(layer(), { ...good(), inputDropoutMasks: inputs, recurrentDropoutMasks: recurrent }, 1, 0)).toThrow(
      /`inputDropoutMasks` must be an array of 3 Float32Arrays \(z, r, h\)/,
    );
  });

  it('a getter on a dropout mask array element that detaches an earlier element: refused', () => {
    const masks = [new Float32Array(2 * 3).fill(1), new Float32Array(2 * 3).fill(1), new Float32Array(2 * 3).fill(1)];
    Object.defineProperty(masks, 2, {
      get() {
        structuredClone(masks[0].buffer, { transfer: [masks[0].buffer] });
        return new Float32Array(2 * 3).fill(1);
      },
    });
    expect(() => sync(layer(), { ...good(), inputDropoutMasks: masks }, 1, 0)).toThrow(
      /`inputDropoutMasks\[0\]` is a Float32Array whose ArrayBuffer has been detached/,
    );
  });
});

describe('layer construction checks', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['no new', () => (binding.Layer as unknown as (...a: unknown[]) => unknown)(spec, ...weights()), /./],
    [
      'too few arguments',
      () => new (binding.Layer as unknown as new (...a: unknown[]) => unknown)(spec),
      /expected \(spec, kernel, recurrentKernel, bias\), received 1 arguments/,
    ],
    ['spec not an object', () => new binding.Layer(5 as never, ...weights()), /`spec` must be an object, received the number 5/],
    ['zero units', () => new binding.Layer({ ...spec, units: 0 }, ...weights()), /`units` must be between 1 and/],
    [
      'unknown activation id',
      () => new binding.Layer({ ...spec, activation: 99 }, ...weights()),
      /`activation` must be between 0 and 29, received the number 99/,
    ],
    [
      'unknown instruction set',
      () => new binding.Layer({ ...spec, isa: 'mmx' }, ...weights()),
      /instruction set 'mmx' is not available on this CPU \(available: /,
    ],
    [
      'kernel wrong length',
      () => new binding.Layer(spec, new Float32Array(44), weights()[1], weights()[2]),
      /`kernel` has 44 elements, but its shape \[inputDim, 3 \* units\] = \[3, 15\] needs 45/,
    ],
    [
      'kernel wrong type',
      () => new binding.Layer(spec, new Float64Array(45) as never, weights()[1], weights()[2]),
      /`kernel` must be a Float32Array, received Float64Array/,
    ],
    [
      'recurrent kernel detached',
      () => new binding.Layer(spec, weights()[0], detached(75), weights()[2]),
      /`recurrentKernel` is a Float32Array whose ArrayBuffer has been detached/,
    ],
    [
      'bias of resetAfter=false given to resetAfter=true',
      () => new binding.Layer(spec, weights()[0], weights()[1], new Float32Array(15)),
      /`bias` has 15 elements, but its shape \[2, 3 \* units\] = \[2, 15\] needs 30/,
    ],
    [
      'bias for resetAfter=false',
      () => new binding.Layer({ ...spec, resetAfter: false }, weights()[0], weights()[1], new Float32Array(30)),
      /`bias` has 30 elements, but its shape \[3 \* units\] = \[15\] needs 15/,
    ],
  ];
  it.each(cases)('%s', (_what, make, message) => {
    expect(make).toThrow(message);
  });

  it('setWeights checks like the constructor and keeps the old weights on failure', () => {
    const l = layer();
    const [before] = sync(l, good(), 1, 0);
    expect(() => l.setWeights(new Float32Array(3), weights()[1], weights()[2])).toThrow(/`kernel` has 3 elements/);
    expect(bitwiseEqual(sync(l, good(), 1, 0)[0], before)).toBe(true);
    l.dispose();
  });
});

describe('outputs no typed array can hold, through the backend', () => {
  it("are refused with the addon's message: the wrapper makes no array for them", async () => {
    const backend = createCpuBackend({ name: 'cpu-huge', threads: 1 });
    await backend.load();
    // inputDim 0 lets batch and timesteps be huge with an empty x.
    const wide = { units: 5, inputDim: 0, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: false, resetAfter: true, dtype: 'float32' } as const;
    const p = await backend.prepare(wide, { kernel: new Float32Array(0), recurrentKernel: new Float32Array(75), bias: null });
    const x = new Float32Array(0);
    const cases = [
      [{ batch: 2 ** 30, timesteps: 1, returnSequences: false }, /forwardSync: the output would have 5368709120 elements, more than the largest Float32Array/],
      [{ batch: 2 ** 29, timesteps: 2, returnSequences: true }, /forwardSync: the output would have 5368709120 elements/],
      // No steps: the output is empty, the state is not.
      [{ batch: 2 ** 30, timesteps: 0, returnSequences: true }, /forwardSync: the output would have 5368709120 elements/],
      [{ batch: 2 ** 30, timesteps: 2 ** 30, returnSequences: true }, /forwardSync: the output \(batch \* timesteps \* units\) is too large to allocate/],
    ] as const;
    for (const [sizes, message] of cases) {
      expect(() => p.forwardSync!({ x, goBackwards: false, ...sizes })).toThrow(message);
      expect(() => p.forwardSync!({ x, goBackwards: false, ...sizes })).toThrow(RangeError);
    }
    p.dispose();
  });
});

describe('backend options', () => {
  it('checks threads, syncBelowMacs and the instruction set', async () => {
    expect(() => createCpuBackend({ threads: 0 })).toThrow(/threads must be an integer from 1 to 1024, received 0/);
    expect(() => createCpuBackend({ syncBelowMacs: -1 })).toThrow(/syncBelowMacs must be a non-negative number/);
    expect(() => createCpuBackend({ minStepMacsPerThread: NaN })).toThrow(/minStepMacsPerThread must be a non-negative number/);
    const b = createCpuBackend({ name: 'cpu-opts', threads: 3 });
    expect(b.threads).toBe(3);
    expect(() => {
      b.threads = 2.5;
    }).toThrow(/threads must be an integer from 1 to 1024, received 2.5/);
    const wrongIsa = createCpuBackend({ name: 'cpu-isa', isa: 'mmx' });
    await expect(wrongIsa.load()).rejects.toThrow(/instruction set 'mmx' is not available on this CPU/);
  });
});
