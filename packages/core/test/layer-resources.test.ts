import { afterEach, describe, expect, it } from 'vitest';
import { getInitializer, getResourceLimits, GRU, GRUCell, plainCallInfo, referenceBackend, setResourceLimits, type GruSpec } from '../src/index.js';
import { expectKerasError } from './helpers/errors.js';

// What cannot be allocated (or computed in reasonable time) is refused up front, with the sizes,
// instead of hanging, climbing past a gigabyte or failing as "Invalid typed array length".

afterEach(() => {
  setResourceLimits();
});

describe('units past what weights can hold', () => {
  it('units 1e9: refused when the layer is made, naming the layer, the weights and the sizes', () => {
    expectKerasError(
      () => new GRU({ units: 1e9, name: 'huge' }),
      'ValueError',
      "Layer 'huge' cannot create its weights",
      'recurrent_kernel (1000000000, 3000000000)',
      'beyond the 2147483647 values one typed array may hold',
    );
    expectKerasError(() => new GRUCell({ units: 1e9 }), 'ValueError', 'cannot create its weights');
  });

  it('before build the kernel rows are unknown: shown as None (not 0); units 1e308 is refused without NaN in the message', () => {
    expectKerasError(() => new GRU({ units: 1e9, name: 'wide' }), 'ValueError', 'kernel (None, 3000000000), recurrent_kernel');
    let message = '';
    try {
      new GRU({ units: 1e308, name: 'vast' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Layer 'vast' cannot create its weights \(kernel \(None, Infinity\)/);
    expect(message).toContain('needs more values than a number can count, beyond the 2147483647 values one typed array may hold');
    expect(message).not.toMatch(/NaN/);
    expect(() => new GRU({ units: 5e153 })).toThrow(
      /recurrent_kernel \(5e\+153, 1\.5e\+154\) needs 7\.5\d*e\+307 values \(more bytes than a number can count\)/,
    );
  });

  it('units above 2^31: a clear error, not "Invalid typed array length"', () => {
    const err = expectKerasError(() => new GRU({ units: 2 ** 31 + 1 }), 'ValueError', 'cannot create its weights');
    expect(err.message).not.toMatch(/Invalid typed array length/);
  });

  it('units 20000 (4.5 GiB of float32 weights): refused by maxWeightBytes before the initializers allocate, which can be raised', async () => {
    const l = new GRU({ units: 20000, name: 'big' });
    const x = { shape: [1, 1, 1], data: [1] };
    await expect(l.forward(x)).rejects.toThrow(
      "Layer 'big' cannot create its weights (kernel (1, 60000), recurrent_kernel (20000, 60000), bias (2, 60000)): they need 4.47 GiB in float32, beyond the maxWeightBytes limit of 2.00 GiB (see setResourceLimits",
    );
    expectKerasError(() => l.getWeights(), 'ValueError', 'maxWeightBytes');
  });

  it('maxWeightBytes can be lowered and raised; weights given by setWeights are not bound by it', () => {
    setResourceLimits({ maxWeightBytes: 100 });
    const c = new GRUCell({ units: 4, name: 'small' });
    c.build(2);
    expectKerasError(
      () => c.getWeights(),
      'ValueError',
      "Layer 'small' cannot create its weights",
      'they need 384 bytes in float32, beyond the maxWeightBytes limit of 100 bytes',
    );
    // A loader gives weights under its own limits.
    const given = new GRUCell({ units: 4 });
    given.setWeights([
      { shape: [2, 12], data: new Float32Array(24) },
      { shape: [4, 12], data: new Float32Array(48) },
      { shape: [2, 12], data: new Float32Array(24) },
    ]);
    expect(given.getWeights()).toHaveLength(3);
    setResourceLimits({ maxWeightBytes: 10_000 });
    expect(c.getWeights()[1].shape).toEqual([4, 12]);
  });

  it('many input features: refused at build (and at the first call), before any allocation', async () => {
    const l = new GRU({ units: 8, name: 'wide' });
    expectKerasError(() => l.build([1, 1, 2 ** 28]), 'ValueError', "Layer 'wide' cannot create its weights", 'kernel (268435456, 24)');
    expect(l.built).toBe(false);
    const m = new GRU({ units: 1000 });
    await expect(m.forward({ shape: [1, 1, 2e5], data: new Float32Array(2e5) })).rejects.toThrow(/cannot create its weights.*maxWeightBytes/);
  });

  it('the limits are validated', () => {
    expectKerasError(() => setResourceLimits({ maxWeightBytes: -1 }), 'ValueError', '`maxWeightBytes` must be a positive number, received -1');
    expectKerasError(() => setResourceLimits({ maxBytes: 1 } as never), 'ValueError', "unknown limit 'maxBytes'");
    expect(getResourceLimits()).toEqual({ maxWeightBytes: 2 ** 31, maxInitializerOps: 2 ** 35 });
  });
});

describe('the orthogonal initializer (O(units^3)) is bounded before it starts', () => {
  it('a large orthogonal recurrent kernel is refused at the first call, naming the shape, the work and the way out', async () => {
    const l = new GRU({ units: 3000 });
    await expect(l.forward({ shape: [1, 1, 1], data: [1] })).rejects.toThrow(
      /The Orthogonal initializer cannot initialize a weight of shape \(3000, 9000\): its QR decomposition needs about 3\.2e\+11 floating-point operations, beyond the limit of 3\.4e\+10 \(maxInitializerOps/,
    );
    expectKerasError(() => getInitializer('orthogonal').generate([5000, 5000], 'float32'), 'ValueError', 'setWeights()');
  });

  it('weights are initialized when first needed: a layer given weights by setWeights never runs the initializer', () => {
    // 2000 units: an orthogonal recurrent kernel past maxInitializerOps (about 9.6e10 operations).
    const units = 2000;
    const l = GRU.fromConfig({ units, batch_input_shape: [null, null, 1] });
    expect(l.built).toBe(true);
    const G = 3 * units;
    l.setWeights([
      { shape: [1, G], data: new Float32Array(G) },
      { shape: [units, G], data: new Float32Array(units * G) },
      { shape: [2, G], data: new Float32Array(2 * G) },
    ]);
    const r = l.forwardSync({ shape: [1, 1, 1], data: [1] });
    expect(r.output.shape).toEqual([1, units]);
    expect(() => getInitializer('orthogonal').generate([units, 3 * units], 'float32')).toThrow(/maxInitializerOps/);
  }, 60_000);

  it('a lazily initialized layer still gives its initializer’s weights on first use', () => {
    const seeded = { class_name: 'GlorotUniform', config: { seed: 3 } };
    const a = new GRU({ units: 4, kernelInitializer: seeded });
    a.build([1, 1, 2]);
    const direct = getInitializer(seeded).generate([2, 12], 'float32');
    expect(Array.from(a.getWeights()[0].data)).toEqual(Array.from(direct));
    expect(a.losses).toEqual([]);
  });
});

describe('calls whose output no typed array can hold', () => {
  it('the layer refuses before allocating, on every backend (the message names the sizes)', async () => {
    // 2^31 timesteps of zero features: no input memory, but an output of 2^31 * 8 values.
    const l = new GRU({ units: 8, returnSequences: true, name: 'long' });
    l.build([1, null, 0]);
    const x = { shape: [1, 2 ** 31, 0], data: new Float32Array(0) };
    expectKerasError(
      () => l.forwardSync(x),
      'ValueError',
      "Layer 'long' cannot run this call: the output (batch 1, timesteps 2147483648, units 8) needs 17179869184 values (64.00 GiB)",
    );
    await expect(l.forward(x)).rejects.toThrow(/cannot run this call/);
  });

  it('an input whose shape no typed array can hold is refused by name and shape, before its data is read', () => {
    const l = new GRU({ units: 2, name: 'wide' });
    // A shape of 2^32 values (data is never read: the size check comes first).
    const x = { shape: [1, 2 ** 16, 2 ** 16], data: new Float32Array(1) };
    expectKerasError(
      () => l.forwardSync(x),
      'ValueError',
      'Argument `inputs` of shape (1, 65536, 65536) needs 4294967296 values (16.00 GiB), beyond the 2147483647 values one typed array may hold.',
    );
  });

  it('the reference backend declines (supports) and refuses (prepared.forward) a call whose arrays it cannot allocate', async () => {
    // 2^21 rows of 2^10 steps of 2 units, with no input features: nothing large exists yet.
    const spec: GruSpec = { units: 2, inputDim: 0, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: false, resetAfter: true, dtype: 'float32' };
    const call = { ...plainCallInfo(2 ** 21, 2 ** 10), returnSequences: true };
    expect(referenceBackend.supports(spec, call)).toMatch(
      /the call's output \(batch 2097152, timesteps 1024, units 2\) needs 4294967296 values \(16\.00 GiB\), beyond the 2147483647 values/,
    );
    expect(referenceBackend.supports(spec, { ...call, returnSequences: false })).toBe(true);
    const prepared = await referenceBackend.prepare(spec, { kernel: new Float32Array(0), recurrentKernel: new Float32Array(12), bias: null });
    const request = { x: new Float32Array(0), batch: 2 ** 21, timesteps: 2 ** 10, goBackwards: false, returnSequences: true };
    await expect(prepared.forward(request)).rejects.toThrow(/The reference backend cannot run this call: the call's output .*\(16\.00 GiB\)/);
  });

  it('the reference backend checks request lengths (a third party may call it directly)', async () => {
    const spec: GruSpec = { units: 2, inputDim: 3, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: false, dtype: 'float32' };
    const weights = { kernel: new Float32Array(18), recurrentKernel: new Float32Array(12), bias: new Float32Array(6) };
    const p = await referenceBackend.prepare(spec, weights);
    const base = { x: new Float32Array(2 * 4 * 3), batch: 2, timesteps: 4, goBackwards: false, returnSequences: false };
    await expect(p.forward({ ...base, x: new Float32Array(5) })).rejects.toThrow(
      'reference forward: `x` must be a Float32Array of 24 values ([batch, timesteps, inputDim] = [2, 4, 3]); received Float32Array(5).',
    );
    await expect(p.forward({ ...base, initialState: new Float32Array(3) })).rejects.toThrow('`initialState` must be a Float32Array of 4 values');
    await expect(p.forward({ ...base, mask: new Uint8Array(7) })).rejects.toThrow('`mask` must be a Uint8Array of 8 values');
    await expect(p.forward({ ...base, x: new Float64Array(24) as never })).rejects.toThrow(
      '`x` must be a Float32Array of 24 values ([batch, timesteps, inputDim] = [2, 4, 3]); received Float64Array(24)',
    );
    await expect(referenceBackend.prepare(spec, { ...weights, bias: new Float32Array(2) })).rejects.toThrow(
      '`weights.bias` must be a Float32Array of 6 values',
    );
    expect((await p.forward(base)).output.length).toBe(4);
  });
});

describe('setWeights with what is not a weight list: Keras-style errors naming the expected weights', () => {
  it('null, undefined, a number', () => {
    const l = new GRU({ units: 4, name: 'g' });
    l.build([1, 1, 3]);
    for (const bad of [null, undefined]) {
      expectKerasError(
        () => l.setWeights(bad as never),
        'TypeError',
        "You called `set_weights(weights)` on layer 'g' with None; expected a list of 3 weights (kernel (3, 12), recurrent_kernel (4, 12), bias (2, 12)), or {kernel, recurrentKernel, bias}.",
      );
    }
    expectKerasError(() => l.setWeights(5 as never), 'TypeError', 'with a number; expected a list of 3 weights');
    const unbuilt = new GRU({ units: 2, useBias: false, name: 'u' });
    expectKerasError(
      () => unbuilt.setWeights(null as never),
      'TypeError',
      'expected a list of 2 weights (kernel (None, 6), recurrent_kernel (2, 6)), or {kernel, recurrentKernel}.',
    );
  });
});

describe('getInitialState checks its batch size', () => {
  it('refuses a non-integer or a state no typed array can hold', () => {
    const c = new GRUCell({ units: 1024 });
    expectKerasError(() => c.getInitialState(-1), 'ValueError', 'getInitialState expects `batch_size` to be a non-negative integer, received -1.');
    expectKerasError(() => c.getInitialState(1.5), 'ValueError', 'received 1.5');
    expectKerasError(
      () => c.getInitialState(2 ** 22),
      'ValueError',
      'cannot create its initial state: the state (batch 4194304, units 1024) needs 4294967296 values (16.00 GiB)',
    );
    expect(c.getInitialState(2)[0].shape).toEqual([2, 1024]);
  });
});
