import { describe, expect, it } from 'vitest';
import { GruError } from '../src/errors.js';
import { L1, L1L2, L2, OrthogonalRegularizer, type Regularizer, getRegularizer, serializeRegularizer } from '../src/regularizers.js';

function thrown(fn: () => unknown): GruError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GruError);
    return e as GruError;
  }
  throw new Error('expected a throw');
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], rel = 1e-13): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i])).toBeLessThanOrEqual(rel * Math.max(1e-300, Math.abs(expected[i])) + 1e-16);
  }
}

/** Serialized forms Keras 3.15.1 wrote (config_cases.json: gru_non_default, gru_cell_non_default). */
const KERAS = {
  l2_1e5: { module: 'keras.regularizers', class_name: 'L2', config: { l2: 1e-5 }, registered_name: null },
  l1l2: { module: 'keras.regularizers', class_name: 'L1L2', config: { l1: 0.01, l2: 0.02 }, registered_name: null },
  l2_1e4: { module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.0001 }, registered_name: null },
  l1_0001: { module: 'keras.regularizers', class_name: 'L1', config: { l1: 0.0010000000474974513 }, registered_name: null },
  l2_default: { module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.01 }, registered_name: null },
};

// Inputs shared with the numpy/JAX computations that produced the literals below.
const X = [0.5, -1.25, 0.0, 2.0, -0.75, 0.3]; // shape [2, 3]
const X4 = [0.5, -1.25, 0.0, 2.0, -0.75, 0.3, -0.4, 0.9, 1.1, 0.0, 0.0, 0.0]; // shape [4, 3], last row zero
const X3 = [0.5, -1.25, 0.0, 2.0, -0.75, 0.3, 1e-8, -2e-8, 0.0]; // shape [3, 3], last row norm < epsilon

describe('serialization matches Keras exactly', () => {
  it('reproduces the regularizers of Keras GRU configs', () => {
    expect(serializeRegularizer(new L2(1e-5))).toEqual(KERAS.l2_1e5);
    expect(serializeRegularizer(new L1L2(0.01, 0.02))).toEqual(KERAS.l1l2);
    expect(serializeRegularizer(new L2(1e-4))).toEqual(KERAS.l2_1e4);
    expect(JSON.stringify(serializeRegularizer(new L1(0.001)))).toBe(JSON.stringify(KERAS.l1_0001));
    expect(serializeRegularizer(getRegularizer('l2'))).toEqual(KERAS.l2_default);
    for (const ser of Object.values(KERAS)) expect(serializeRegularizer(getRegularizer(ser))).toEqual(ser);
  });

  it('stores L1 and OrthogonalRegularizer factors as float32, L2 and L1L2 as given (Keras quirk)', () => {
    expect(new L1(0.001).getConfig()).toEqual({ l1: 0.0010000000474974513 });
    expect(getRegularizer('l1')!.getConfig()).toEqual({ l1: 0.009999999776482582 });
    expect(new OrthogonalRegularizer(0.001).getConfig()).toEqual({ factor: 0.0010000000474974513, mode: 'rows' });
    expect(getRegularizer('orthogonal_regularizer')!.getConfig()).toEqual({ factor: 0.009999999776482582, mode: 'rows' });
    expect(new L2(0.001).getConfig()).toEqual({ l2: 0.001 });
    expect(new L1L2(0.001, 1).getConfig()).toEqual({ l1: 0.001, l2: 1 });
    // Key order.
    expect(JSON.stringify(new OrthogonalRegularizer(0.5, 'columns').getConfig())).toBe('{"factor":0.5,"mode":"columns"}');
    expect(JSON.stringify(new L1L2(0.1, 0.2).getConfig())).toBe('{"l1":0.1,"l2":0.2}');
  });

  it('round-trips serialize -> get -> serialize', () => {
    const all: Regularizer[] = [new L1(0.3), new L2(0.2), new L1L2(0.1, 0), new OrthogonalRegularizer(0.05, 'columns')];
    for (const r of all) {
      const ser = serializeRegularizer(r)!;
      expect(ser.module).toBe('keras.regularizers');
      expect(serializeRegularizer(getRegularizer(JSON.parse(JSON.stringify(ser))))).toEqual(ser);
    }
    expect(serializeRegularizer(null)).toBeNull();
  });
});

describe('getRegularizer identifiers', () => {
  it('accepts Keras names and classes', () => {
    const cases: Record<string, [string, Record<string, unknown>]> = {
      l1: ['L1', { l1: 0.009999999776482582 }],
      L1: ['L1', { l1: 0.009999999776482582 }],
      l2: ['L2', { l2: 0.01 }],
      L2: ['L2', { l2: 0.01 }],
      // to_snake_case('L1L2') is 'l1l2'; the defaults are 0 and 0.
      l1l2: ['L1L2', { l1: 0, l2: 0 }],
      L1L2: ['L1L2', { l1: 0, l2: 0 }],
      orthogonal_regularizer: ['OrthogonalRegularizer', { factor: 0.009999999776482582, mode: 'rows' }],
      OrthogonalRegularizer: ['OrthogonalRegularizer', { factor: 0.009999999776482582, mode: 'rows' }],
    };
    for (const [name, [cls, config]] of Object.entries(cases)) {
      const r = getRegularizer(name)!;
      expect(r.className).toBe(cls);
      expect(r.getConfig()).toEqual(config);
    }
    expect(getRegularizer(L2)!.className).toBe('L2');
  });

  it("rejects 'l1_l2' like Keras 3.15.1 (its table only has 'l1l2')", () => {
    expect(() => getRegularizer('l1_l2')).toThrow('Could not interpret regularizer identifier: l1_l2');
  });

  it('accepts config dicts, returns objects as is, maps null to null', () => {
    expect(getRegularizer({ class_name: 'l1', config: {} })!.getConfig()).toEqual({ l1: 0.009999999776482582 });
    expect(getRegularizer({ class_name: 'L1', config: { l1: 0.5 }, module: 'whatever' })!.getConfig()).toEqual({ l1: 0.5 });
    expect(getRegularizer({ class_name: 'L1', config: null })!.getConfig()).toEqual({ l1: 0.009999999776482582 });
    expect(getRegularizer({ class_name: 'L1' })!.className).toBe('L1');
    const r = new L2(0.3);
    expect(getRegularizer(r)).toBe(r);
    expect(getRegularizer(null)).toBeNull();
    expect(getRegularizer(undefined)).toBeNull();
  });

  it('rejects unknown identifiers with Keras messages', () => {
    expect(() => getRegularizer('nope')).toThrow('Could not interpret regularizer identifier: nope');
    expect(() => getRegularizer(0.5)).toThrow('Could not interpret regularizer identifier: 0.5');
    expect(() => getRegularizer({ class_name: 'Foo', config: {} })).toThrow(/^Could not interpret regularizer identifier: .*Foo/);
    expect(() => getRegularizer({ config: {} })).toThrow('Unknown `config` as a `dict`');
    const e = thrown(() => getRegularizer({ class_name: 'L1', config: { l1: 0.5, x: 1 } }));
    expect(e.kerasType).toBe('TypeError');
    expect(e.message).toContain("<class 'keras.src.regularizers.regularizers.L1'> could not be deserialized properly.");
    expect(e.message).toContain("Exception encountered: L1.__init__() got an unexpected keyword argument 'x'");
    const m = thrown(() => getRegularizer({ class_name: 'L1', config: {}, module: null }));
    expect(m.kerasType).toBe('TypeError');
    expect(m.message).toContain('Cannot deserialize object of type `L1`.');
  });

  it('keeps the base Regularizer: zero penalty, no get_config', () => {
    const base = getRegularizer('Regularizer')!;
    expect(base.penalty([1, 2], [2])).toBe(0);
    expect(Array.from(base.gradient([1, 2], [2]))).toEqual([0, 0]);
    const e = thrown(() => serializeRegularizer(base));
    expect(e.kerasType).toBe('NotImplementedError');
    expect(e.message).toContain('does not implement get_config()');
  });
});

describe('argument checks (validate_float_arg)', () => {
  it('uses Keras wording', () => {
    const msg = (name: string, v: string) => `Invalid value for argument ${name}: expected a non-negative float.Received: ${name}=${v}`;
    expect(() => new L1(-1)).toThrow(msg('l1', '-1'));
    expect(() => new L2(Number.NaN)).toThrow(msg('l2', 'nan'));
    expect(() => new L1L2(Number.POSITIVE_INFINITY)).toThrow(msg('l1', 'inf'));
    expect(() => new L1L2(0, -0.5)).toThrow(msg('l2', '-0.5'));
    expect(() => new L1('a' as unknown as number)).toThrow(msg('l1', 'a'));
    expect(() => new OrthogonalRegularizer(null as unknown as number)).toThrow(msg('factor', 'None'));
    expect(() => new OrthogonalRegularizer(-1)).toThrow(msg('factor', '-1'));
    expect(() => new OrthogonalRegularizer(0.1, 'x' as 'rows')).toThrow(
      'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. Received: mode=x',
    );
    expect(thrown(() => new L2(-1)).kerasType).toBe('ValueError');
  });

  it('treats None as the default for L1, L2 and L1L2', () => {
    expect(new L1(null).getConfig()).toEqual({ l1: 0.009999999776482582 });
    expect(new L2(null).getConfig()).toEqual({ l2: 0.01 });
    expect(new L1L2(null, null).getConfig()).toEqual({ l1: 0, l2: 0 });
    expect(getRegularizer({ class_name: 'L2', config: { l2: null } })!.getConfig()).toEqual({ l2: 0.01 });
  });
});

describe('penalties (Keras formulas; literals from Keras 3.15.1 with numpy / float64 JAX)', () => {
  it('L1, L2, L1L2', () => {
    // Keras numpy backend: L1(0.001) uses the float32 factor.
    expect(new L1(0.001).penalty(X, [2, 3])).toBeCloseTo(0.004800000227987766, 17);
    expect(new L1(0.001).penalty(X4, [4, 3])).toBeCloseTo(0.0072000003419816485, 17);
    expect(new L2(0.001).penalty(X, [2, 3])).toBeCloseTo(0.006465, 17);
    expect(new L2(0.001).penalty(X4, [4, 3])).toBeCloseTo(0.008645, 17);
    expect(new L1L2(0.01, 0.02).penalty(X, [2, 3])).toBeCloseTo(0.1773, 16);
    expect(new L1L2(0.01, 0.02).penalty(X4, [4, 3])).toBeCloseTo(0.2449, 16);
    expect(new L1L2().penalty(X, [2, 3])).toBe(0);
    expect(new L2(2).penalty(new Float32Array(25).fill(1), [5, 5])).toBe(50); // Keras docstring example
  });

  it('OrthogonalRegularizer', () => {
    const f = Math.fround(0.1);
    expect(new OrthogonalRegularizer(0.1, 'rows').penalty(X, [2, 3])).toBeCloseTo(0.06672053485926385, 16);
    expect(new OrthogonalRegularizer(0.1, 'rows').penalty(X4, [4, 3])).toBeCloseTo(0.028221814248783884, 16);
    expect(new OrthogonalRegularizer(0.1, 'rows').penalty(X3, [3, 3])).toBeCloseTo(0.03507682532990918, 16);
    expect(new OrthogonalRegularizer(0.1, 'columns').penalty(X, [2, 3])).toBeCloseTo(0.07305816898063174, 16);
    expect(new OrthogonalRegularizer(0.1, 'columns').penalty(X4, [4, 3])).toBeCloseTo(0.038306129794654094, 16);
    expect(f).toBe(new OrthogonalRegularizer(0.1).factor);
    // Orthonormal rows have no penalty; a single row is 0 / 0 in Keras.
    expect(new OrthogonalRegularizer(1).penalty([1, 0, 0, 0, 1, 0], [2, 3])).toBe(0);
    expect(new OrthogonalRegularizer(1).penalty([1, 2, 3], [1, 3])).toBeNaN();
    expect(() => new OrthogonalRegularizer().penalty([1, 2, 3], [3])).toThrow('Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=(3,)');
  });

  it('checks the data length against the shape', () => {
    expect(() => new L2().penalty([1, 2, 3], [2, 2])).toThrow(GruError);
  });
});

describe('gradients (literals from jax.grad of Keras 3.15.1, float64)', () => {
  it('L1 uses sign(x), 0 at 0', () => {
    const f = Math.fround(0.001);
    expect(Array.from(new L1(0.001).gradient(X, [2, 3]))).toEqual([f, -f, 0, f, -f, f]);
  });

  it('L2 and L1L2', () => {
    expectClose(new L2(0.001).gradient(X, [2, 3]), [0.001, -0.0025, 0.0, 0.004, -0.0015, 0.0006]);
    expectClose(new L1L2(0.01, 0.02).gradient(X, [2, 3]), [0.03, -0.060000000000000005, 0, 0.09, -0.04, 0.022]);
  });

  it('OrthogonalRegularizer, rows and columns', () => {
    const r = new OrthogonalRegularizer(0.1, 'rows');
    expectClose(
      r.gradient(X, [2, 3]),
      [0.05046714538854218, 0.02018685815541686, 0.010330921526595692, -0.011463381489747508, -0.03228991234803777, -0.004302237605111049],
      1e-12,
    );
    // Zero row: the derivative is 0 (autodiff through Keras's rsqrt gives NaN there).
    expectClose(
      r.gradient(X4, [4, 3]),
      [
        0.008700314472080636, 0.0034801257888322553, -0.0075012217558571145, -0.0023931201470197595, -0.009125683591614314, -0.006860074665570724,
        -0.011521001265843742, 0.007345374575707106, -0.010199306931339905, 0, 0, 0,
      ],
      1e-12,
    );
    // A row with norm below epsilon is scaled by 1 / epsilon, not normalized.
    expectClose(
      r.gradient(X3, [3, 3]),
      [
        0.017249267637431592, 0.0068997070549726355, 0.0034436405088652303, -0.004600876079803047, -0.012982142353533312, -0.0017828486851463122,
        432873.08857548196, -425395.80788665375, 46361.42919190948,
      ],
      1e-9,
    );
    const c = new OrthogonalRegularizer(0.1, 'columns');
    const gx = c.gradient(X, [2, 3]);
    expectClose(
      Array.from(gx).slice(0, 5),
      [0.007287390793299829, 0.018407055649569924, 0.12222539634895331, -0.0018218476983249583, -0.030678426082616547],
      1e-12,
    );
    expect(Math.abs(gx[5])).toBeLessThan(1e-15);
    expectClose(
      c.gradient(X4, [4, 3]),
      [
        0.008718533944080889, 0.010733100874173007, -0.014370311362650387, -0.00032655232334171877, -0.004191539988326214, 0.011517825650733695,
        0.009265405813392502, 0.011414134557190663, -0.003141225177472824, 0, 0, 0,
      ],
      1e-12,
    );
  });

  it('agree with central finite differences of penalty', () => {
    const rows = 5;
    const cols = 4;
    const x = Array.from({ length: rows * cols }, (_, i) => Math.sin(1.3 * i + 0.7) * (1 + (i % 3)));
    const regs: Regularizer[] = [
      new L1(0.3),
      new L2(0.2),
      new L1L2(0.1, 0.05),
      new OrthogonalRegularizer(0.7, 'rows'),
      new OrthogonalRegularizer(0.7, 'columns'),
    ];
    for (const reg of regs) {
      const g = reg.gradient(x, [rows, cols]);
      const h = 1e-6;
      for (let i = 0; i < x.length; i++) {
        const xp = x.slice();
        const xm = x.slice();
        xp[i] += h;
        xm[i] -= h;
        const fd = (reg.penalty(xp, [rows, cols]) - reg.penalty(xm, [rows, cols])) / (2 * h);
        expect(Math.abs(fd - g[i])).toBeLessThan(1e-7);
      }
    }
  });
});
