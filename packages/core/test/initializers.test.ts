import { describe, expect, it } from 'vitest';
import { GruError } from '../src/errors.js';
import {
  Constant,
  GlorotNormal,
  GlorotUniform,
  HeNormal,
  HeUniform,
  Identity,
  type Initializer,
  LecunNormal,
  LecunUniform,
  Ones,
  Orthogonal,
  RandomNormal,
  RandomUniform,
  TruncatedNormal,
  VarianceScaling,
  Zeros,
  computeFans,
  getInitializer,
  serializeInitializer,
} from '../src/initializers.js';
import { SeedGenerator } from '../src/random.js';

function stats(xs: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let mean = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    mean += xs[i];
    min = Math.min(min, xs[i]);
    max = Math.max(max, xs[i]);
  }
  mean /= xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / xs.length), min, max };
}

function thrown(fn: () => unknown): GruError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GruError);
    return e as GruError;
  }
  throw new Error('expected a throw');
}

/** Serialized forms Keras 3.15.1 wrote (config_cases.json: gru_default, gru_non_default, gru_cell_non_default). */
const KERAS = {
  glorotUniform: {
    module: 'keras.initializers',
    class_name: 'GlorotUniform',
    config: { seed: null, input_axes: null, output_axes: null },
    registered_name: null,
  },
  orthogonal: { module: 'keras.initializers', class_name: 'Orthogonal', config: { seed: null, gain: 1.0 }, registered_name: null },
  zeros: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
  randomNormalSeed3: { module: 'keras.initializers', class_name: 'RandomNormal', config: { seed: 3, mean: 0.0, stddev: 0.05 }, registered_name: null },
  orthogonalGainHalfSeed4: { module: 'keras.initializers', class_name: 'Orthogonal', config: { seed: 4, gain: 0.5 }, registered_name: null },
  constant01: { module: 'keras.initializers', class_name: 'Constant', config: { value: 0.1 }, registered_name: null },
  heNormal: { module: 'keras.initializers', class_name: 'HeNormal', config: { seed: null, input_axes: null, output_axes: null }, registered_name: null },
  glorotNormal: {
    module: 'keras.initializers',
    class_name: 'GlorotNormal',
    config: { seed: null, input_axes: null, output_axes: null },
    registered_name: null,
  },
  ones: { module: 'keras.initializers', class_name: 'Ones', config: {}, registered_name: null },
};

describe('serialization matches Keras exactly', () => {
  it('reproduces the initializers of Keras GRU configs', () => {
    expect(JSON.stringify(serializeInitializer(getInitializer('glorot_uniform')))).toBe(JSON.stringify(KERAS.glorotUniform));
    expect(JSON.stringify(serializeInitializer(getInitializer('orthogonal')))).toBe(JSON.stringify(KERAS.orthogonal));
    expect(JSON.stringify(serializeInitializer(getInitializer('zeros')))).toBe(JSON.stringify(KERAS.zeros));
    expect(JSON.stringify(serializeInitializer(new RandomNormal(0.0, 0.05, 3)))).toBe(JSON.stringify(KERAS.randomNormalSeed3));
    expect(JSON.stringify(serializeInitializer(new Orthogonal(0.5, 4)))).toBe(JSON.stringify(KERAS.orthogonalGainHalfSeed4));
    expect(JSON.stringify(serializeInitializer(new Constant(0.1)))).toBe(JSON.stringify(KERAS.constant01));
    expect(JSON.stringify(serializeInitializer(getInitializer('he_normal')))).toBe(JSON.stringify(KERAS.heNormal));
    expect(JSON.stringify(serializeInitializer(getInitializer('glorot_normal')))).toBe(JSON.stringify(KERAS.glorotNormal));
    expect(JSON.stringify(serializeInitializer(getInitializer('ones')))).toBe(JSON.stringify(KERAS.ones));
  });

  it('deserializes every Keras form back to the same config', () => {
    for (const ser of Object.values(KERAS)) {
      expect(serializeInitializer(getInitializer(ser))).toEqual(ser);
      // Keras 2 form: no module / registered_name.
      expect(serializeInitializer(getInitializer({ class_name: ser.class_name, config: ser.config }))).toEqual(ser);
    }
  });

  it('writes the config keys in Keras get_config order for every class (keras 3.15.1 output)', () => {
    const expected: Record<string, string> = {
      normal: '{"seed":null,"mean":0,"stddev":0.05}',
      uniform: '{"seed":null,"minval":-0.05,"maxval":0.05}',
      truncated_normal: '{"seed":null,"mean":0,"stddev":0.05}',
      variance_scaling: '{"seed":null,"scale":1,"mode":"fan_in","distribution":"truncated_normal","input_axes":null,"output_axes":null}',
      lecun_uniform: '{"seed":null,"input_axes":null,"output_axes":null}',
      lecun_normal: '{"seed":null,"input_axes":null,"output_axes":null}',
      he_uniform: '{"seed":null,"input_axes":null,"output_axes":null}',
      OrthogonalInitializer: '{"seed":null,"gain":1}',
      IdentityInitializer: '{}',
      identity: '{}',
      one: '{}',
      zero: '{}',
    };
    for (const [name, json] of Object.entries(expected)) {
      expect(JSON.stringify(getInitializer(name).getConfig())).toBe(json);
    }
    expect(JSON.stringify(new VarianceScaling(2, 'fan_out', 'Uniform', 7, [0], [1]).getConfig())).toBe(
      '{"seed":7,"scale":2,"mode":"fan_out","distribution":"uniform","input_axes":[0],"output_axes":[1]}',
    );
  });

  it('round-trips serialize -> get -> serialize for every class', () => {
    const all: Initializer[] = [
      new Zeros(),
      new Ones(),
      new Constant(-2.5),
      new Identity(3),
      new RandomNormal(1, 2, 5),
      new RandomUniform(-1, 3, 6),
      new TruncatedNormal(0.5, 0.1, null),
      new VarianceScaling(0.5, 'fan_avg', 'untruncated_normal', 9, [0, 1], [-1]),
      new GlorotUniform(1),
      new GlorotNormal(2, [0], [1]),
      new HeNormal(3),
      new HeUniform(4),
      new LecunNormal(5),
      new LecunUniform(6),
      new Orthogonal(2, 7),
    ];
    for (const init of all) {
      const ser = serializeInitializer(init);
      expect(ser.module).toBe('keras.initializers');
      expect(ser.class_name).toBe(init.className);
      expect(ser.registered_name).toBeNull();
      const back = getInitializer(JSON.parse(JSON.stringify(ser)));
      expect(back.className).toBe(init.className);
      expect(serializeInitializer(back)).toEqual(ser);
    }
  });

  it('keeps Keras quirks: Identity drops its gain, Constant keeps a serialized tensor value', () => {
    expect(serializeInitializer(new Identity(2.0)).config).toEqual({});
    const tensorValue = { class_name: '__tensor__', config: { value: 0.10000000149011612, dtype: 'float32' } };
    const c = getInitializer({ module: 'keras.initializers', class_name: 'Constant', config: { value: tensorValue }, registered_name: null });
    expect(c.getConfig()).toEqual({ value: tensorValue });
    expect(Array.from(c.generate([2], 'float64'))).toEqual([0.10000000149011612, 0.10000000149011612]);
    const numpyScalar = getInitializer({ class_name: 'Constant', config: { value: { class_name: '__numpy__', config: { value: 3, dtype: 'int64' } } } });
    expect(numpyScalar.getConfig()).toEqual({ value: 3 });
  });

  it('serializes a SeedGenerator seed as Keras does', () => {
    const ser = serializeInitializer(new RandomNormal(0, 0.05, new SeedGenerator(3)));
    expect(ser.config.seed).toEqual({
      module: 'keras.random',
      class_name: 'SeedGenerator',
      config: { seed: 3, name: 'seed_generator' },
      registered_name: null,
    });
    const back = getInitializer(ser);
    expect(serializeInitializer(back)).toEqual(ser);
  });
});

describe('getInitializer identifiers', () => {
  it('accepts class names, snake_case names and Keras aliases', () => {
    const cases: Record<string, string> = {
      Zeros: 'Zeros',
      zeros: 'Zeros',
      zero: 'Zeros',
      Ones: 'Ones',
      ones: 'Ones',
      one: 'Ones',
      Identity: 'Identity',
      identity: 'Identity',
      IdentityInitializer: 'Identity',
      RandomNormal: 'RandomNormal',
      random_normal: 'RandomNormal',
      normal: 'RandomNormal',
      RandomUniform: 'RandomUniform',
      random_uniform: 'RandomUniform',
      uniform: 'RandomUniform',
      TruncatedNormal: 'TruncatedNormal',
      truncated_normal: 'TruncatedNormal',
      VarianceScaling: 'VarianceScaling',
      variance_scaling: 'VarianceScaling',
      GlorotUniform: 'GlorotUniform',
      glorot_uniform: 'GlorotUniform',
      GlorotNormal: 'GlorotNormal',
      glorot_normal: 'GlorotNormal',
      HeNormal: 'HeNormal',
      he_normal: 'HeNormal',
      HeUniform: 'HeUniform',
      he_uniform: 'HeUniform',
      LecunNormal: 'LecunNormal',
      lecun_normal: 'LecunNormal',
      LecunUniform: 'LecunUniform',
      lecun_uniform: 'LecunUniform',
      Orthogonal: 'Orthogonal',
      orthogonal: 'Orthogonal',
      OrthogonalInitializer: 'Orthogonal',
    };
    for (const [name, cls] of Object.entries(cases)) expect(getInitializer(name).className).toBe(cls);
  });

  it('accepts config dicts with snake_case class names, a null config or an unrelated module', () => {
    expect(getInitializer({ class_name: 'glorot_uniform' }).className).toBe('GlorotUniform');
    expect(getInitializer({ class_name: 'Orthogonal', config: null }).getConfig()).toEqual({ seed: null, gain: 1.0 });
    expect(getInitializer({ module: 'whatever', class_name: 'Ones', config: {} }).className).toBe('Ones');
    const vs = getInitializer({ class_name: 'VarianceScaling', config: { distribution: 'NORMAL' } });
    expect((vs as VarianceScaling).distribution).toBe('truncated_normal');
  });

  it('returns initializer objects as they are and instantiates classes', () => {
    const g = new GlorotUniform(5);
    expect(getInitializer(g)).toBe(g);
    const custom: Initializer = { className: 'Mine', getConfig: () => ({}), generate: () => new Float32Array(0) };
    expect(getInitializer(custom)).toBe(custom);
    expect(getInitializer(HeUniform).className).toBe('HeUniform');
    expect(getInitializer(Orthogonal).getConfig()).toEqual({ seed: null, gain: 1.0 });
  });

  it('rejects unknown identifiers with Keras message', () => {
    expect(() => getInitializer('nope')).toThrow('Could not interpret initializer identifier: nope');
    expect(() => getInitializer(3)).toThrow('Could not interpret initializer identifier: 3');
    expect(() => getInitializer(null)).toThrow('Could not interpret initializer identifier: None');
    expect(() => getInitializer(() => 1)).toThrow('Could not interpret initializer identifier:');
    const e = thrown(() => getInitializer({ class_name: 'Foo', config: {} }));
    expect(e.kerasType).toBe('ValueError');
    expect(e.message).toMatch(/^Could not interpret initializer identifier: .*Foo/);
    expect(() => getInitializer({ config: {} })).toThrow('Unknown `config` as a `dict`, config=');
  });

  it('raises Keras TypeErrors for module None, a non-dict config and unexpected config keys', () => {
    const e1 = thrown(() => getInitializer({ module: null, class_name: 'Zeros', config: {} }));
    expect(e1.kerasType).toBe('TypeError');
    expect(e1.message).toBe(
      'Cannot deserialize object of type `Zeros`. If `Zeros` is a custom class, please register it using the ' +
        '`@keras.saving.register_keras_serializable()` decorator.',
    );
    const e2 = thrown(() => getInitializer({ class_name: 'Zeros', config: 5 }));
    expect(e2.kerasType).toBe('TypeError');
    expect(e2.message.startsWith("Expected 'config' to be a dict for Zeros,\ninstead got <class 'int'>\nFull config: ")).toBe(true);
    const e3 = thrown(() => getInitializer({ class_name: 'GlorotUniform', config: { scale: 1 } }));
    expect(e3.kerasType).toBe('TypeError');
    expect(e3.message.startsWith("<class 'keras.src.initializers.random_initializers.GlorotUniform'> could not be deserialized properly.")).toBe(true);
    expect(e3.message.endsWith("Exception encountered: GlorotUniform.__init__() got an unexpected keyword argument 'scale'")).toBe(true);
  });

  it("fails on 'constant' as Keras does (Constant.from_config needs 'value')", () => {
    expect(() => getInitializer('constant')).toThrow("'value'");
    expect(() => getInitializer({ class_name: 'Constant', config: {} })).toThrow("'value'");
    // Constant.from_config ignores other keys.
    expect(getInitializer({ class_name: 'Constant', config: { value: 3, other: 1 } }).getConfig()).toEqual({ value: 3 });
  });

  it('refuses STFT clearly', () => {
    for (const id of ['STFT', 'stft', 'STFTInitializer', { class_name: 'STFT', config: {} }]) {
      expect(() => getInitializer(id)).toThrow(/STFT.*not supported for GRU weights/);
    }
  });

  it('keeps the base Initializer class, which cannot generate', () => {
    const base = getInitializer('Initializer');
    expect(serializeInitializer(base)).toEqual({ module: 'keras', class_name: 'Initializer', config: {}, registered_name: null });
    const e = thrown(() => base.generate([2], 'float32'));
    expect(e.kerasType).toBe('NotImplementedError');
    expect(e.message).toBe('Initializer subclasses must implement the `__call__()` method.');
  });
});

describe('argument checks (Keras messages)', () => {
  it('VarianceScaling', () => {
    expect(() => new VarianceScaling(0)).toThrow('Argument `scale` must be positive float. Received: scale=0');
    expect(() => new VarianceScaling(-1)).toThrow('Argument `scale` must be positive float. Received: scale=-1');
    expect(() => new VarianceScaling(1, 'fan' as 'fan_in')).toThrow("Invalid `mode` argument: fan. Please use one of {'fan_in', 'fan_out', 'fan_avg'}");
    expect(() => new VarianceScaling(1, 'fan_in', 'gauss')).toThrow(
      "Invalid `distribution` argument: gauss.Please use one of {'uniform', 'truncated_normal', 'untruncated_normal'}",
    );
    const e = thrown(() => getInitializer({ class_name: 'VarianceScaling', config: { scale: 'a' } }));
    expect(e.kerasType).toBe('TypeError');
    expect(e.message).toContain("'<=' not supported between instances of 'str' and 'float'");
  });

  it('seeds', () => {
    const msg = '`seed` argument should be an instance of `keras.random.SeedGenerator()` or an integer. Received: seed=';
    expect(() => new RandomNormal(0, 1, 'x' as unknown as number)).toThrow(msg + 'x');
    expect(() => new RandomUniform(0, 1, 1.5)).toThrow(msg + '1.5');
    expect(() => getInitializer({ class_name: 'GlorotUniform', config: { seed: 'a' } })).toThrow(msg + 'a');
    expect(new RandomNormal(0, 1, true).getConfig().seed).toBe(true); // Python's bool is an int
  });

  it('Identity and Orthogonal shapes', () => {
    expect(() => new Identity().generate([2, 2, 2], 'float32')).toThrow(
      'Identity matrix initializer can only be used for 2D matrices. Received: shape=(2, 2, 2) of rank 3.',
    );
    expect(() => new Identity().generate([3], 'float32')).toThrow(
      'Identity matrix initializer can only be used for 2D matrices. Received: shape=(3,) of rank 1.',
    );
    expect(() => new Orthogonal().generate([3], 'float32')).toThrow(
      'The tensor to initialize must be at least two-dimensional. Received: shape=(3,) of rank 1.',
    );
    expect(() => new Zeros().generate([2, -1], 'float32')).toThrow('Invalid `shape`');
    expect(() => new Zeros().generate([2], 'int32' as 'float32')).toThrow('Invalid `dtype`');
  });

  it('fan axes with Python indexing errors', () => {
    const e = thrown(() => new GlorotUniform(1, [5], [0]).generate([2, 3], 'float32'));
    expect(e.kerasType).toBe('IndexError');
    expect(e.message).toBe('tuple index out of range');
  });
});

describe('computeFans', () => {
  it('follows Keras compute_fans', () => {
    expect(computeFans([])).toEqual([1, 1]);
    expect(computeFans([7])).toEqual([7, 7]);
    expect(computeFans([3, 12])).toEqual([3, 12]);
    expect(computeFans([5, 2, 3, 4])).toEqual([30, 40]); // receptive field 10
    expect(computeFans([2, 3, 4], [0], [1, 2])).toEqual([2, 12]);
    expect(computeFans([2, 3, 4], [-1], [0, -2])).toEqual([4, 6]);
    // Only one of the two axes lists given: ignored, as in Keras.
    expect(computeFans([2, 3], [1], null)).toEqual([2, 3]);
  });
});

describe('constant initializers', () => {
  it('Zeros, Ones, Constant fill with the dtype asked for', () => {
    const z = new Zeros().generate([2, 3], 'float32');
    expect(z).toBeInstanceOf(Float32Array);
    expect(Array.from(z)).toEqual([0, 0, 0, 0, 0, 0]);
    const o = new Ones().generate([4], 'float64');
    expect(o).toBeInstanceOf(Float64Array);
    expect(Array.from(o)).toEqual([1, 1, 1, 1]);
    const c32 = new Constant(0.1).generate([2], 'float32');
    expect(Array.from(c32)).toEqual([Math.fround(0.1), Math.fround(0.1)]);
    expect(Array.from(new Constant(0.1).generate([1], 'float64'))).toEqual([0.1]);
    expect(new Zeros().generate([0, 5], 'float32').length).toBe(0);
  });

  it('Identity is gain * eye(rows, cols), non-square included', () => {
    expect(Array.from(new Identity(2).generate([2, 3], 'float64'))).toEqual([2, 0, 0, 0, 2, 0]);
    expect(Array.from(new Identity().generate([3, 2], 'float32'))).toEqual([1, 0, 0, 1, 0, 0]);
  });
});

describe('random initializers', () => {
  it('are deterministic per integer seed, across calls and instances, in both dtypes', () => {
    for (const make of [
      (s: number | null) => new RandomNormal(0, 1, s),
      (s: number | null) => new RandomUniform(-1, 1, s),
      (s: number | null) => new TruncatedNormal(0, 1, s),
      (s: number | null) => new GlorotUniform(s),
      (s: number | null) => new HeNormal(s),
      (s: number | null) => new Orthogonal(1, s),
      (s: number | null) => new VarianceScaling(1, 'fan_in', 'untruncated_normal', s),
    ]) {
      const a = make(42).generate([6, 9], 'float64');
      expect(Array.from(make(42).generate([6, 9], 'float64'))).toEqual(Array.from(a));
      const same = make(42);
      expect(Array.from(same.generate([6, 9], 'float64'))).toEqual(Array.from(same.generate([6, 9], 'float64')));
      expect(Array.from(make(43).generate([6, 9], 'float64'))).not.toEqual(Array.from(a));
      const f32 = make(42).generate([6, 9], 'float32');
      expect(f32).toBeInstanceOf(Float32Array);
      expect(Array.from(f32)).toEqual(Array.from(a, Math.fround));
      // Unseeded: one seed drawn at construction, so the same values on every call.
      const unseeded = make(null);
      expect(Array.from(unseeded.generate([3, 3], 'float64'))).toEqual(Array.from(unseeded.generate([3, 3], 'float64')));
    }
  });

  it('advance a SeedGenerator seed between calls, reproducibly', () => {
    const a = new RandomNormal(0, 1, new SeedGenerator(5));
    const b = new RandomNormal(0, 1, new SeedGenerator(5));
    const a1 = Array.from(a.generate([10], 'float64'));
    const a2 = Array.from(a.generate([10], 'float64'));
    expect(a1).not.toEqual(a2);
    expect(Array.from(b.generate([10], 'float64'))).toEqual(a1);
    expect(Array.from(b.generate([10], 'float64'))).toEqual(a2);
  });

  it('RandomNormal has the requested mean and stddev', () => {
    const x = new RandomNormal(0.3, 2, 1).generate([200, 500], 'float64');
    const s = stats(x);
    expect(Math.abs(s.mean - 0.3)).toBeLessThan((5 * 2) / Math.sqrt(x.length));
    expect(Math.abs(s.std - 2) / 2).toBeLessThan(0.01);
  });

  it('RandomUniform stays in [minval, maxval) with the uniform moments', () => {
    const x = new RandomUniform(-0.5, 1.5, 2).generate([100_000], 'float64');
    const s = stats(x);
    expect(s.min).toBeGreaterThanOrEqual(-0.5);
    expect(s.max).toBeLessThan(1.5);
    expect(s.min).toBeLessThan(-0.49);
    expect(s.max).toBeGreaterThan(1.49);
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(s.std - 2 / Math.sqrt(12))).toBeLessThan(0.005);
  });

  it('TruncatedNormal and VarianceScaling never loop forever on a range no draw can fall in', () => {
    // A generator that fails after far more draws than any real fill needs: a runaway
    // re-draw loop throws this instead of hanging the test.
    class BoundedGenerator extends SeedGenerator {
      draws = 0;
      override normal(): number {
        if (++this.draws > 100_000) throw new Error('runaway re-draw loop');
        return super.normal();
      }
    }
    for (const [mean, stddev, refused] of [
      [0, Number.NaN, 'stddev=nan'],
      [Number.NaN, 1, 'mean=nan'],
      [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 'mean=inf'],
      // Accepted before, giving +-inf weights while the message said "expected finite numbers".
      [Number.POSITIVE_INFINITY, 1, 'mean=inf'],
      [0, Number.POSITIVE_INFINITY, 'stddev=inf'],
      [0, Number.NEGATIVE_INFINITY, 'stddev=-inf'],
    ] as const) {
      const e = thrown(() => new TruncatedNormal(mean, stddev, new BoundedGenerator(1)).generate([10], 'float32'));
      expect(e.kerasType).toBe('ValueError');
      const name = refused.split('=')[0];
      expect(e.message).toBe(`TruncatedNormal cannot draw from a truncated normal: argument \`${name}\` must be a finite number. Received: ${refused}`);
    }
    expect(() => new VarianceScaling(Number.NaN)).toThrow('Argument `scale` must be positive float. Received: scale=nan');
    // A negative stddev draws from mean +- 2|stddev|, as TensorFlow and JAX do.
    const gen = new BoundedGenerator(2);
    const x = new TruncatedNormal(1, -0.5, gen).generate([1000], 'float64');
    const s = stats(x);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThanOrEqual(2);
    expect(s.std).toBeGreaterThan(0.3);
    expect(gen.draws).toBeLessThan(2000);
  });

  it('TruncatedNormal re-draws outside mean +- 2 stddev', () => {
    const x = new TruncatedNormal(1, 0.5, 3).generate([100_000], 'float64');
    const s = stats(x);
    expect(s.min).toBeGreaterThanOrEqual(0);
    expect(s.max).toBeLessThanOrEqual(2);
    expect(s.min).toBeLessThan(0.01);
    expect(s.max).toBeGreaterThan(1.99);
    expect(Math.abs(s.mean - 1)).toBeLessThan(0.005);
    // stddev of N(0, 1) truncated to [-2, 2] is 0.87962566103423978.
    expect(Math.abs(s.std - 0.5 * 0.87962566103423978)).toBeLessThan(0.004);
  });

  it('GlorotUniform is bounded by sqrt(6 / (fan_in + fan_out)) on a GRU kernel shape', () => {
    for (const shape of [
      [3, 12],
      [64, 192],
      [16, 48],
    ]) {
      const limit = Math.sqrt(6 / (shape[0] + shape[1]));
      const x = new GlorotUniform(7).generate(shape, 'float64');
      const s = stats(x);
      expect(s.max).toBeLessThan(limit);
      expect(s.min).toBeGreaterThanOrEqual(-limit);
      if (x.length > 10_000) {
        expect(s.max).toBeGreaterThan(0.99 * limit);
        expect(Math.abs(s.std - limit / Math.sqrt(3)) / s.std).toBeLessThan(0.02);
      }
    }
  });

  it('He/Lecun uniform limits and normal stddevs follow fan_in', () => {
    const shape = [200, 300];
    const he = stats(new HeUniform(1).generate(shape, 'float64'));
    expect(he.max).toBeLessThan(Math.sqrt(6 / 200));
    expect(he.max).toBeGreaterThan(0.999 * Math.sqrt(6 / 200));
    const lu = stats(new LecunUniform(1).generate(shape, 'float64'));
    expect(lu.max).toBeLessThan(Math.sqrt(3 / 200));
    expect(lu.max).toBeGreaterThan(0.999 * Math.sqrt(3 / 200));
    // Truncated normals: the stddev after truncation is sqrt(scale / fan).
    const cases: [Initializer, number][] = [
      [new HeNormal(2), Math.sqrt(2 / 200)],
      [new LecunNormal(2), Math.sqrt(1 / 200)],
      [new GlorotNormal(2), Math.sqrt(2 / 500)],
      [new VarianceScaling(3, 'fan_out', 'truncated_normal', 2), Math.sqrt(3 / 300)],
      [new VarianceScaling(3, 'fan_out', 'untruncated_normal', 2), Math.sqrt(3 / 300)],
    ];
    for (const [init, std] of cases) {
      const s = stats(init.generate(shape, 'float64'));
      expect(Math.abs(s.std - std) / std).toBeLessThan(0.01);
      expect(Math.abs(s.mean)).toBeLessThan((5 * std) / Math.sqrt(60_000));
    }
    const tn = stats(new HeNormal(4).generate(shape, 'float64'));
    const bound = (2 * Math.sqrt(2 / 200)) / 0.87962566103423978;
    expect(Math.max(-tn.min, tn.max)).toBeLessThanOrEqual(bound);
    expect(Math.max(-tn.min, tn.max)).toBeGreaterThan(0.99 * bound);
  });

  it('VarianceScaling uses input_axes / output_axes when both are given', () => {
    const shape = [20, 30, 40];
    const init = new VarianceScaling(1, 'fan_in', 'uniform', 5, [0], [1, 2]);
    expect(init.scaleFor(shape).limit).toBeCloseTo(Math.sqrt(3 / 20), 15);
    const plain = new VarianceScaling(1, 'fan_in', 'uniform', 5);
    expect(plain.scaleFor(shape).limit).toBeCloseTo(Math.sqrt(3 / (30 * 20)), 15);
    const s = stats(init.generate(shape, 'float64'));
    expect(s.max).toBeLessThan(Math.sqrt(3 / 20));
    expect(s.max).toBeGreaterThan(0.99 * Math.sqrt(3 / 20));
    const avg = new VarianceScaling(2, 'fan_avg', 'untruncated_normal', 1, [-1], [0, 1]);
    expect(avg.scaleFor(shape).stddev).toBeCloseTo(Math.sqrt(2 / ((40 + 600) / 2)), 15);
    // max(1, fan): fans below 1 do not blow up the scale.
    expect(new VarianceScaling(1, 'fan_in', 'uniform').scaleFor([0, 4]).limit).toBe(Math.sqrt(3));
  });
});

describe('Orthogonal', () => {
  function gram(q: ArrayLike<number>, rows: number, cols: number, byColumns: boolean): number[][] {
    const k = byColumns ? cols : rows;
    const g = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let s = 0;
        if (byColumns) for (let i = 0; i < rows; i++) s += q[i * cols + a] * q[i * cols + b];
        else for (let j = 0; j < cols; j++) s += q[a * cols + j] * q[b * cols + j];
        g[a][b] = s;
      }
    }
    return g;
  }

  function expectScaledIdentity(g: number[][], scale: number, tol: number): void {
    for (let a = 0; a < g.length; a++) {
      for (let b = 0; b < g.length; b++) expect(Math.abs(g[a][b] - (a === b ? scale : 0))).toBeLessThan(tol);
    }
  }

  it('gives Q^T Q = I for square and tall shapes, Q Q^T = I for wide ones', () => {
    for (const [rows, cols] of [
      [8, 8],
      [12, 4],
      [4, 12],
      [1, 5],
      [5, 1],
      [64, 192],
    ]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const q = new Orthogonal(1, 11).generate([rows, cols], dtype);
        expectScaledIdentity(gram(q, rows, cols, rows >= cols), 1, dtype === 'float32' ? 1e-5 : 1e-12);
      }
    }
  });

  it('applies the gain', () => {
    const q = new Orthogonal(0.5, 4).generate([6, 6], 'float64');
    expectScaledIdentity(gram(q, 6, 6, true), 0.25, 1e-12);
  });

  it('flattens all but the last axis, as Keras', () => {
    const q = new Orthogonal(1, 3).generate([2, 3, 4], 'float64');
    expect(q.length).toBe(24);
    expectScaledIdentity(gram(q, 6, 4, true), 1, 1e-12);
  });

  it('is the sign-corrected Q of the QR of its normal draws (R has a positive diagonal)', () => {
    // Tall (12 x 4): a is drawn row-major with shape (12, 4); Q^T a must be upper triangular, diag > 0.
    for (const [rows, cols] of [
      [12, 4],
      [4, 12],
    ]) {
      const q = new Orthogonal(1, 21).generate([rows, cols], 'float64');
      const m = Math.max(rows, cols);
      const n = Math.min(rows, cols);
      const gen = new SeedGenerator(21);
      const a = Array.from({ length: m * n }, () => gen.normal());
      // Q (m x n) as Keras computes it before any transpose.
      const qm = (i: number, j: number): number => (rows >= cols ? q[i * cols + j] : q[j * cols + i]);
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) {
          let s = 0;
          for (let i = 0; i < m; i++) s += qm(i, r) * a[i * n + c];
          if (r > c) expect(Math.abs(s)).toBeLessThan(1e-12);
          if (r === c) expect(s).toBeGreaterThan(0);
        }
      }
    }
  });

  it('handles empty shapes', () => {
    expect(new Orthogonal(1, 1).generate([0, 3], 'float32').length).toBe(0);
  });
});
