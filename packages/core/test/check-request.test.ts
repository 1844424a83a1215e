import { describe, expect, it } from 'vitest';
import {
  type GruError,
  type GruSpec,
  checkBackwardRequest,
  checkForwardRequest,
  checkWeights,
  describeValue,
  readRequest,
  referenceBackend,
  supportsArgsProblem,
} from '../src/index.js';
import { plainCallInfo } from '../src/backend/plain-call.js';

const spec: GruSpec = { units: 2, inputDim: 3, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const request = () => ({ x: new Float32Array(2 * 4 * 3), batch: 2, timesteps: 4, goBackwards: false, returnSequences: true });

function thrown(fn: () => unknown): GruError {
  try {
    fn();
  } catch (err) {
    return err as GruError;
  }
  throw new Error('expected a throw');
}

describe('describeValue', () => {
  it.each([
    [Number.NaN, 'number NaN'],
    ['5', 'string "5"'],
    [new Float64Array(12), 'Float64Array(12)'],
    [null, 'null'],
    [undefined, 'undefined'],
    [[1, 2, 3], 'Array(3)'],
    [true, 'boolean true'],
    [new Map(), 'object Map'],
    [{}, 'object'],
  ])('%s -> %s', (value, text) => expect(describeValue(value)).toBe(text));

  it('names a Proxy around a typed array as what it is, and survives throwing traps', () => {
    expect(describeValue(new Proxy(new Float32Array(4), {}))).toMatch(/claims to be a Float32Array but is not one/);
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
        getPrototypeOf: () => {
          throw new Error('trap');
        },
      },
    );
    expect(describeValue(hostile)).toMatch(/^object/);
  });
});

describe('checkForwardRequest', () => {
  it('returns the checked counts', () => {
    expect(checkForwardRequest(spec, request(), 'test forward')).toEqual({ batch: 2, timesteps: 4 });
    expect(checkForwardRequest(spec, { ...request(), batch: 0, x: new Float32Array(0) }, 'test forward')).toEqual({ batch: 0, timesteps: 4 });
  });

  it.each([
    ['a null request', null, 'TypeError', 'test forward: `request` must be an object {x, batch, timesteps, ...}; received null.'],
    ['a NaN batch', { ...request(), batch: Number.NaN }, 'ValueError', '`batch` must be a non-negative integer; received number NaN.'],
    ['a string batch', { ...request(), batch: '2' }, 'TypeError', '`batch` must be a non-negative integer; received string "2".'],
    ['a negative timesteps', { ...request(), timesteps: -1 }, 'ValueError', '`timesteps` must be a non-negative integer; received number -1.'],
    [
      'a Float64Array x',
      { ...request(), x: new Float64Array(24) },
      'TypeError',
      '`x` must be a Float32Array of 24 values ([batch, timesteps, inputDim] = [2, 4, 3]); received Float64Array(24).',
    ],
    ['a short x', { ...request(), x: new Float32Array(12) }, 'ValueError', 'received Float32Array(12).'],
    ['a plain array x', { ...request(), x: new Array(24).fill(0) }, 'TypeError', 'received Array(24).'],
    ['a Proxy x', { ...request(), x: new Proxy(new Float32Array(24), {}) }, 'TypeError', 'received object that claims to be a Float32Array'],
    ['a Float32Array mask', { ...request(), mask: new Float32Array(8) }, 'TypeError', '`mask` must be a Uint8Array of 8 values'],
    [
      'two dropout masks',
      { ...request(), inputDropoutMasks: [new Float32Array(6), new Float32Array(6)] },
      'ValueError',
      '`inputDropoutMasks` must be an array of 3 masks',
    ],
    [
      'a short dropout mask',
      { ...request(), recurrentDropoutMasks: [new Float32Array(4), new Float32Array(4), new Float32Array(3)] },
      'ValueError',
      '`recurrentDropoutMasks[2]` must be a Float32Array of 4 values',
    ],
    ['a string returnSequences', { ...request(), returnSequences: 'yes' }, 'TypeError', '`returnSequences` must be a boolean; received string "yes".'],
  ])('refuses %s', (_, req, kerasType, message) => {
    const err = thrown(() => checkForwardRequest(spec, req as never, 'test forward'));
    expect(err.kerasType).toBe(kerasType);
    expect(err.message).toContain(message);
  });

  it('refuses a typed array whose length getter lies', () => {
    class Liar extends Float32Array {
      override get length() {
        return 24;
      }
    }
    expect(() => checkForwardRequest(spec, { ...request(), x: new Liar(2) }, 'test forward')).toThrow(/its `length` reads 24 but it holds 2 values/);
  });

  it('takes Float64Array inputs for a float32 layer only when asked, and checks bound outputs', () => {
    const req = { ...request(), x: new Float64Array(24) };
    expect(checkForwardRequest(spec, req, 'test forward', { anyFloat: true })).toEqual({ batch: 2, timesteps: 4 });
    const bound = { ...request(), output: new Float32Array(16), lastState: new Float32Array(3) };
    expect(() => checkForwardRequest(spec, bound, 'test bind', { bound: true })).toThrow('`lastState` must be a Float32Array of 4 values');
  });

  it('checks the copy: a getter that flips the dtype after the first read is not seen again', () => {
    let reads = 0;
    const shifty = { ...request() };
    Object.defineProperty(shifty, 'x', { get: () => (reads++ === 0 ? new Float32Array(24) : new Float64Array(24)) });
    const req = readRequest(shifty);
    checkForwardRequest(spec, req, 'test forward');
    expect(req.x).toBeInstanceOf(Float32Array);
    expect(reads).toBe(1);
  });
});

describe('checkWeights and checkBackwardRequest', () => {
  const weights = () => ({ kernel: new Float32Array(18), recurrentKernel: new Float32Array(12), bias: new Float32Array(12) });
  it('checks weights against the spec', () => {
    expect(() => checkWeights(spec, weights(), 'test prepare')).not.toThrow();
    expect(thrown(() => checkWeights(spec, 7 as never, 'test prepare')).message).toBe(
      'test prepare: `weights` must be an object {kernel, recurrentKernel, bias}; received number 7.',
    );
    expect(() => checkWeights(spec, { ...weights(), bias: new Float32Array(6) }, 'test prepare')).toThrow(
      '`weights.bias` must be a Float32Array of 12 values ([2, 3*units] = [2, 6])',
    );
    expect(() => checkWeights({ ...spec, useBias: false }, weights(), 'test prepare')).toThrow('`weights.bias` must be null when spec.useBias is false');
  });

  it('checks a backward request against its forward call', () => {
    const call = { batch: 2, timesteps: 4, returnSequences: false };
    expect(checkBackwardRequest(spec, call, { dOutput: new Float64Array(4), dLastState: null as never }, 'test backward')).toEqual({
      batch: 2,
      timesteps: 4,
      inputGradients: true,
      hasDLastState: false,
    });
    expect(thrown(() => checkBackwardRequest(spec, call, 'grad' as never, 'test backward')).kerasType).toBe('TypeError');
    expect(() => checkBackwardRequest(spec, call, { dOutput: new Float32Array(5) }, 'test backward')).toThrow(
      '`dOutput` must be a Float32Array or Float64Array of 4 values',
    );
    expect(() => checkBackwardRequest(spec, call, { dOutput: new Float32Array(4), inputGradients: 1 as never }, 'test backward')).toThrow(
      '`inputGradients` must be a boolean; received number 1.',
    );
  });
});

describe('supports() on a non-object spec or call', () => {
  it('answers with the reason instead of throwing', () => {
    expect(supportsArgsProblem(null, {})).toBe('`spec` must be an object {units, inputDim, activation, ...}; received null');
    expect(referenceBackend.supports(null as never, plainCallInfo(1, 1))).toMatch(/`spec` must be an object.*received null/);
    expect(referenceBackend.supports(spec, 5 as never)).toMatch(/`call` must be an object.*received number 5/);
    expect(referenceBackend.supportsBackward?.(undefined as never)).toMatch(/`spec` must be an object.*received undefined/);
  });

  it('reads the spec once', () => {
    let reads = 0;
    const shifty = { ...spec };
    // Later readings answer a layer no array could hold.
    Object.defineProperty(shifty, 'units', { get: () => (reads++ === 0 ? 2 : 2 ** 40) });
    expect(referenceBackend.supports(shifty, plainCallInfo(1, 1))).toBe(true);
    expect(reads).toBe(1);
  });
});
