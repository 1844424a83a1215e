import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_NAMES,
  activationDef,
  activationVjp,
  applyActivation,
  erf,
  GRU,
  gruActivationProblem,
  GruError,
  resolveActivation,
  serializeActivation,
  type GruOptions,
} from '../src/index.js';

/*
 * Expected values: Keras 3.15.1 activations (keras.activations.get(name)) on the numpy backend,
 * in float64 (Keras's float64 -> float32 promotion switched off so the functions run in float64;
 * tanh, relu, hard_silu and mish written from backend/numpy/nn.py as np.tanh(x), np.maximum(x, 0),
 * x * hard_sigmoid(x), x * tanh(softplus(x)), because their ops path casts to float32).
 */
const POINTS = [-7, -2.9, -1, -0.3, 0, 0.25, 0.9, 2.5, 3.5, 7];
const KERAS: Record<string, number[]> = {
  celu: [-0.9990881180344455, -0.9449767799435927, -0.6321205588285577, -0.2591817793182821, 0, 0.25, 0.9, 2.5, 3.5, 7],
  elu: [-0.9990881180344455, -0.9449767799435927, -0.6321205588285577, -0.2591817793182821, 0, 0.25, 0.9, 2.5, 3.5, 7],
  exponential: [
    0.0009118819655545162, 0.05502322005640723, 0.36787944117144233, 0.7408182206817179, 1, 1.2840254166877414, 2.45960311115695, 12.182493960703473,
    33.11545195869231, 1096.6331584284585,
  ],
  gelu: [
    -8.958667141456544e-12, -0.00541085857111373, -0.15865525393145707, -0.1146265733433142, 0, 0.14967658142073093, 0.7343458871879165, 2.4844758366855597,
    3.4991857982233756, 6.999999999991041,
  ],
  hard_shrink: [-7, -2.9, -1, 0, 0, 0, 0.9, 2.5, 3.5, 7],
  hard_sigmoid: [0, 0.016666666666666663, 0.33333333333333337, 0.45, 0.5, 0.5416666666666666, 0.65, 0.9166666666666667, 1, 1],
  hard_silu: [-0, -0.04833333333333332, -0.33333333333333337, -0.135, 0, 0.13541666666666666, 0.5850000000000001, 2.291666666666667, 3.5, 7],
  hard_swish: [-0, -0.04833333333333332, -0.33333333333333337, -0.135, 0, 0.13541666666666666, 0.5850000000000001, 2.291666666666667, 3.5, 7],
  hard_tanh: [-1, -1, -1, -0.3, 0, 0.25, 0.9, 1, 1, 1],
  leaky_relu: [-1.4000000000000001, -0.58, -0.2, -0.06, 0, 0.25, 0.9, 2.5, 3.5, 7],
  linear: [-7, -2.9, -1, -0.3, 0, 0.25, 0.9, 2.5, 3.5, 7],
  log_sigmoid: [
    -7.000911466453775, -2.953562776217963, -1.3132616875182228, -0.8543552444685272, -0.6931471805599453, -0.5759394198788436, -0.3411538747320878,
    -0.07888973429254963, -0.029750418272620566, -0.0009114664537742447,
  ],
  mish: [
    -0.006380263409573669, -0.15518367358960297, -0.30340146137410895, -0.15113317713833455, 0, 0.1695724096638176, 0.7612059289525153, 2.471392304557881,
    3.493990715117519, 6.999988379809741,
  ],
  relu: [0, 0, 0, 0, 0, 0.25, 0.9, 2.5, 3.5, 7],
  relu6: [0, 0, 0, 0, 0, 0.25, 0.9, 2.5, 3.5, 6],
  selu: [
    -1.7564961617648047, -1.661363053934907, -1.1113307378125625, -0.4556673153791221, 0, 0.2626752468388701, 0.9456308886199324, 2.626752468388701,
    3.677453455744182, 7.354906911488364,
  ],
  sigmoid: [
    0.0009110511944006454, 0.05215356307841774, 0.2689414213699951, 0.425557483188341, 0.5, 0.5621765008857981, 0.7109495026250039, 0.9241418199787566,
    0.9706877692486436, 0.9990889488055994,
  ],
  silu: [
    -0.006377358360804518, -0.15124533292741144, -0.2689414213699951, -0.1276672449565023, 0, 0.14054412522144952, 0.6398545523625035, 2.3103545499468914,
    3.397407192370253, 6.993622641639195,
  ],
  soft_shrink: [-6.5, -2.4, -0.5, 0, 0, 0, 0.4, 2, 3, 6.5],
  softplus: [
    0.0009114664537742447, 0.053562776217963175, 0.31326168751822286, 0.5543552444685271, 0.6931471805599453, 0.8259394198788436, 1.2411538747320878,
    2.5788897342925496, 3.5297504182726205, 7.000911466453775,
  ],
  softsign: [-0.875, -0.7435897435897436, -0.5, -0.23076923076923075, 0, 0.2, 0.4736842105263158, 0.7142857142857143, 0.7777777777777778, 0.875],
  sparse_plus: [0, 0, 0, 0.12249999999999998, 0.25, 0.390625, 0.9025, 2.5, 3.5, 7],
  sparse_sigmoid: [0, 0, 0, 0.35, 0.5, 0.625, 0.95, 1, 1, 1],
  squareplus: [
    0.14005494464025903, 0.31139149538085387, 0.6180339887498949, 0.8611874208078342, 1, 1.1327822185373186, 1.5465856099730655, 2.850781059358212,
    3.7655644370746373, 7.140054944640259,
  ],
  swish: [
    -0.006377358360804518, -0.15124533292741144, -0.2689414213699951, -0.1276672449565023, 0, 0.14054412522144952, 0.6398545523625035, 2.3103545499468914,
    3.397407192370253, 6.993622641639195,
  ],
  tanh: [
    -0.9999983369439447, -0.9939631673505832, -0.7615941559557649, -0.2913126124515909, 0, 0.24491866240370913, 0.7162978701990245, 0.9866142981514303,
    0.9981778976111987, 0.9999983369439447,
  ],
  tanh_shrink: [
    -6.0000016630560555, -1.9060368326494168, -0.23840584404423515, -0.008687387548409087, 0, 0.005081337596290869, 0.18370212980097556, 1.5133857018485697,
    2.501822102388801, 6.0000016630560555,
  ],
};

/** The same functions at NaN, +inf, -inf, 40, -40, 800, -800 (overflow and saturation behaviour). */
const EXTREME_POINTS = [NaN, Infinity, -Infinity, 40, -40, 800, -800];
const KERAS_EXTREME: Record<string, number[]> = {
  celu: [NaN, Infinity, -1, 40, -1, 800, -1],
  elu: [NaN, Infinity, -1, 40, -1, 800, -1],
  exponential: [NaN, Infinity, 0, 2.3538526683701997e17, 4.248354255291589e-18, Infinity, 0],
  gelu: [NaN, Infinity, NaN, 40, -0, 800, -0],
  hard_shrink: [0, Infinity, -Infinity, 40, -40, 800, -800],
  hard_sigmoid: [NaN, 1, 0, 1, 0, 1, 0],
  hard_silu: [NaN, Infinity, NaN, 40, -0, 800, -0],
  hard_swish: [NaN, Infinity, NaN, 40, -0, 800, -0],
  hard_tanh: [NaN, 1, -1, 1, -1, 1, -1],
  leaky_relu: [NaN, Infinity, -Infinity, 40, -8, 800, -160],
  linear: [NaN, Infinity, -Infinity, 40, -40, 800, -800],
  log_sigmoid: [NaN, -0, -Infinity, -4.248354255291589e-18, -40, -0, -800],
  mish: [NaN, Infinity, NaN, 40, -1.6993417021166355e-16, 800, -0],
  relu: [NaN, Infinity, 0, 40, 0, 800, 0],
  relu6: [NaN, 6, 0, 6, 0, 6, 0],
  selu: [NaN, Infinity, -1.7580993408473766, 42.028039494219215, -1.7580993408473766, 840.5607898843843, -1.7580993408473766],
  sigmoid: [NaN, 1, 0, 1, 4.24835425529159e-18, 1, 0],
  silu: [NaN, Infinity, NaN, 40, -1.6993417021166358e-16, 800, -0],
  soft_shrink: [0, Infinity, -Infinity, 39.5, -39.5, 799.5, -799.5],
  softplus: [NaN, Infinity, 0, 40, 4.248354255291589e-18, 800, 0],
  softsign: [NaN, NaN, NaN, 0.975609756097561, -0.975609756097561, 0.9987515605493134, -0.9987515605493134],
  sparse_plus: [NaN, Infinity, 0, 40, 0, 800, 0],
  sparse_sigmoid: [NaN, 1, 0, 1, 0, 1, 0],
  squareplus: [NaN, Infinity, NaN, 40.02498439450079, 0.024984394500787488, 800.0012499980469, 0.0012499980468874128],
  swish: [NaN, Infinity, NaN, 40, -1.6993417021166358e-16, 800, -0],
  tanh: [NaN, 1, -1, 1, -1, 1, -1],
  tanh_shrink: [NaN, Infinity, -Infinity, 39, -39, 799, -799],
};

/** Row-wise activations on three rows of four (the `units` axis of one gate). */
const ROWS = [-1, 0.5, 2, 0.1, 0.3, 0.3, -0.2, 1.7, 3, -1, 0, 2.9];
const KERAS_ROWS: Record<string, number[]> = {
  softmax: [
    0.035000044778653885, 0.15685931814583598, 0.7029946917148744, 0.10514594536063578, 0.15011114319354976, 0.15011114319354976, 0.09104701071140132,
    0.6087307029014992, 0.5068577536541891, 0.009283423583885113, 0.02523496163396305, 0.45862386112796283,
  ],
  log_softmax: [
    -3.3524059381034306, -1.8524059381034308, -0.35240593810343074, -2.2524059381034305, -1.8963793046335706, -1.8963793046335706, -2.3963793046335704,
    -0.49637930463357066, -0.6795248795412533, -4.679524879541253, -3.6795248795412534, -0.7795248795412534,
  ],
};
// Keras's sparsemax on the first two rows (one-element support, where every formula agrees).
const KERAS_SPARSEMAX_ROWS_0_1 = [0, 0, 1, 0, 0, 0, 0, 1];

const close = (a: number, e: number, rel = 1e-15) => (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= rel * Math.max(1, Math.abs(e)));

function elementwise(name: string, xs: number[]): number[] {
  const def = activationDef(resolveActivation(name));
  const src = Float64Array.from(xs);
  const dst = new Float64Array(xs.length);
  applyActivation(def, src, dst, 0, xs.length);
  return Array.from(dst);
}

function rowwise(name: string, xs: number[], width: number): number[] {
  const def = activationDef(resolveActivation(name));
  const src = Float64Array.from(xs);
  const dst = new Float64Array(xs.length);
  for (let off = 0; off < xs.length; off += width) applyActivation(def, src, dst, off, width);
  return Array.from(dst);
}

describe('activation names', () => {
  it("ACTIVATION_NAMES is exactly keras.activations' identifier table (ALL_OBJECTS_DICT), sorted", () => {
    expect([...ACTIVATION_NAMES]).toEqual([
      'celu',
      'elu',
      'exponential',
      'gelu',
      'glu',
      'hard_shrink',
      'hard_sigmoid',
      'hard_silu',
      'hard_swish',
      'hard_tanh',
      'leaky_relu',
      'linear',
      'log_sigmoid',
      'log_softmax',
      'mish',
      'relu',
      'relu6',
      'selu',
      'sigmoid',
      'silu',
      'soft_shrink',
      'softmax',
      'softplus',
      'softsign',
      'sparse_plus',
      'sparse_sigmoid',
      'sparsemax',
      'squareplus',
      'swish',
      'tanh',
      'tanh_shrink',
      'threshold',
    ]);
  });

  it('every name resolves and serializes to a Keras name; aliases serialize to the canonical one', () => {
    for (const name of ACTIVATION_NAMES) {
      const id = resolveActivation(name);
      const serialized = serializeActivation(id);
      expect(ACTIVATION_NAMES).toContain(serialized);
      expect(serialized).toBe(name === 'swish' ? 'silu' : name === 'hard_swish' ? 'hard_silu' : name);
    }
    expect(resolveActivation('swish')).toBe('silu');
    expect(resolveActivation('hard_swish')).toBe('hard_silu');
  });

  it('null/undefined is linear; serialized function objects are read', () => {
    expect(resolveActivation(null)).toBe('linear');
    expect(resolveActivation(undefined)).toBe('linear');
    expect(resolveActivation({ module: 'keras.activations', class_name: 'function', config: 'gelu', registered_name: 'gelu' })).toBe('gelu');
    expect(resolveActivation({ class_name: 'function', config: 'swish' })).toBe('silu');
  });

  it("'hard_sigmoid' means Keras 2's formula only in the keras2 flavor, and serializes as 'hard_sigmoid'", () => {
    expect(resolveActivation('hard_sigmoid')).toBe('hard_sigmoid');
    expect(resolveActivation('hard_sigmoid', 'keras2')).toBe('keras2_hard_sigmoid');
    expect(resolveActivation('sigmoid', 'keras2')).toBe('sigmoid');
    expect(serializeActivation('keras2_hard_sigmoid')).toBe('hard_sigmoid');
  });

  it("unknown identifiers fail with Keras's message", () => {
    for (const bad of ['bogus', 'Tanh', 3, { class_name: 'function', config: 'nope' }]) {
      let caught: unknown;
      try {
        resolveActivation(bad);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(GruError);
      expect((caught as GruError).kerasType).toBe('ValueError');
      expect((caught as Error).message).toMatch(/^Could not interpret activation function identifier: /);
    }
    expect(() => activationDef('nope')).toThrow('Could not interpret activation function identifier: nope');
  });
});

describe("values equal Keras's (float64, 1e-15 relative)", () => {
  const names = ACTIVATION_NAMES.filter((n) => !['glu', 'threshold', 'softmax', 'log_softmax', 'sparsemax'].includes(n));
  it('covers every elementwise name', () => {
    expect(Object.keys(KERAS).sort()).toEqual([...names].sort());
  });
  for (const name of names) {
    it(name, () => {
      const got = elementwise(name, POINTS);
      got.forEach((v, i) => expect(close(v, KERAS[name][i]), `${name}(${POINTS[i]}) = ${v}, Keras ${KERAS[name][i]}`).toBe(true));
    });
    it(`${name} at NaN, ±inf and large |x|`, () => {
      const got = elementwise(name, EXTREME_POINTS);
      got.forEach((v, i) => expect(close(v, KERAS_EXTREME[name][i]), `${name}(${EXTREME_POINTS[i]}) = ${v}, Keras ${KERAS_EXTREME[name][i]}`).toBe(true));
    });
  }

  it('softmax and log_softmax work row by row over the units axis', () => {
    for (const name of ['softmax', 'log_softmax']) {
      const got = rowwise(name, ROWS, 4);
      got.forEach((v, i) => expect(close(v, KERAS_ROWS[name][i]), `${name}[${i}]`).toBe(true));
    }
  });

  it('softmax is shift-invariant and does not overflow', () => {
    const big = rowwise('softmax', [1000, 1001, 1002, 999], 4);
    const small = rowwise('softmax', [0, 1, 2, -1], 4);
    big.forEach((v, i) => expect(close(v, small[i], 1e-14)).toBe(true));
  });

  it('sparsemax with a one-element support', () => {
    expect(rowwise('sparsemax', ROWS.slice(0, 8), 4)).toEqual(KERAS_SPARSEMAX_ROWS_0_1);
  });

  it("Keras 2's hard_sigmoid is clip(0.2x + 0.5, 0, 1)", () => {
    const def = activationDef('keras2_hard_sigmoid');
    const xs = [-3, -2.5, -1, 0, 0.3, 2.5, 4];
    expect(xs.map((x) => (def.f as (x: number) => number)(x))).toEqual(xs.map((x) => Math.min(Math.max(0.2 * x + 0.5, 0), 1)));
  });

  it('applyActivation writes only the requested slice', () => {
    const src = Float64Array.from([1, 2, 3, 4, 5]);
    const dst = new Float64Array(5).fill(-9);
    applyActivation(activationDef('relu'), src, dst, 1, 3);
    expect(Array.from(dst)).toEqual([-9, 2, 3, 4, -9]);
    const rows = new Float64Array(6).fill(-9);
    applyActivation(activationDef('softmax'), Float64Array.from([0, 0, 1, 1, 7, 7]), rows, 2, 2);
    expect(Array.from(rows)).toEqual([-9, -9, 0.5, 0.5, -9, -9]);
  });
});

describe('erf', () => {
  // High-precision values (mpmath, 40 digits, rounded to double).
  const KNOWN: [number, number][] = [
    [1e-300, 1.1283791670955126e-300],
    [1e-10, 1.1283791670955126e-10],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [1.5, 0.9661051464753108],
    [2, 0.9953222650189527],
    [3, 0.9999779095030014],
    [3.9, 0.9999999652077514],
    [4, 0.9999999845827421],
    [4.5, 0.9999999998033839],
    [5, 0.9999999999984626],
    [5.9, 0.9999999999999999],
    [6, 1],
    [30, 1],
    [-0.7, -0.6778011938374184],
    [-2.5, -0.999593047982555],
    [-4.2, -0.9999999971445058],
  ];
  for (const [x, e] of KNOWN) {
    it(`erf(${x}) within 1e-15`, () => {
      expect(Math.abs(erf(x) - e)).toBeLessThanOrEqual(1e-15);
    });
  }
  it('is odd, saturates, and propagates NaN', () => {
    for (const x of [0.3, 1.7, 3.99, 4.01, 5.5]) expect(erf(-x)).toBe(-erf(x));
    expect(erf(0)).toBe(0);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });
  it('is continuous across the series/continued-fraction switch at 4', () => {
    expect(Math.abs(erf(4 - 1e-12) - erf(4 + 1e-12))).toBeLessThan(1e-15);
  });
});

describe('derivatives match central differences', () => {
  // Away from every kink: ±0.5, ±1, ±2.5 (Keras 2 hard sigmoid), ±3, 0, 6.
  const XS = [-4.1, -2.9, -1.3, -0.7, -0.3, 0.25, 0.7, 0.9, 1.7, 2.3, 3.4, 5.2];
  const h = 1e-6;
  const ids = [
    ...ACTIVATION_NAMES.filter((n) => !['glu', 'threshold', 'softmax', 'log_softmax', 'sparsemax'].includes(n)).map((n) => resolveActivation(n)),
    'keras2_hard_sigmoid',
  ];
  for (const id of ids) {
    it(id, () => {
      const def = activationDef(id);
      const f = def.f as (x: number) => number;
      const df = def.df as (x: number, y: number) => number;
      for (const x of XS) {
        const numeric = (f(x + h) - f(x - h)) / (2 * h);
        const analytic = df(x, f(x));
        expect(Math.abs(analytic - numeric), `${id}'(${x}): ${analytic} vs ${numeric}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
      }
    });
  }

  for (const id of ['softmax', 'log_softmax', 'sparsemax']) {
    it(`${id}: the row vector-Jacobian product`, () => {
      const def = activationDef(id);
      const x = Float64Array.from([0.9, -0.4, 0.6, 0.05, 0.8]);
      const dy = Float64Array.from([0.3, -1.2, 0.7, 0.25, -0.5]);
      const n = x.length;
      const y = new Float64Array(n);
      applyActivation(def, x, y, 0, n);
      const dx = new Float64Array(n);
      activationVjp(def, x, y, dy, dx, 0, n);
      for (let i = 0; i < n; i++) {
        const xp = Float64Array.from(x);
        const xm = Float64Array.from(x);
        xp[i] += h;
        xm[i] -= h;
        const yp = new Float64Array(n);
        const ym = new Float64Array(n);
        applyActivation(def, xp, yp, 0, n);
        applyActivation(def, xm, ym, 0, n);
        let numeric = 0;
        for (let j = 0; j < n; j++) numeric += (dy[j] * (yp[j] - ym[j])) / (2 * h);
        expect(Math.abs(dx[i] - numeric), `${id} dx[${i}]`).toBeLessThan(1e-7);
      }
    });
  }

  it('activationVjp multiplies by dy elementwise on the requested slice', () => {
    const def = activationDef('tanh');
    const x = Float64Array.from([0.1, 0.2, 0.3]);
    const y = x.map(Math.tanh);
    const dy = Float64Array.from([2, 3, 4]);
    const dx = new Float64Array(3).fill(-1);
    activationVjp(def, x, y, dy, dx, 1, 2);
    expect(dx[0]).toBe(-1);
    expect(dx[1]).toBeCloseTo(3 * (1 - Math.tanh(0.2) ** 2), 15);
    expect(dx[2]).toBeCloseTo(4 * (1 - Math.tanh(0.3) ** 2), 15);
  });
});

describe('glu and threshold', () => {
  const refusal = (fn: () => unknown): string => {
    let caught: unknown;
    try {
      fn();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GruError);
    return (caught as Error).message;
  };

  it('are accepted in a config (Keras accepts the names) but refused at call time where Keras fails, with the reason', () => {
    const t = new GRU({ units: 2, activation: 'threshold' });
    expect(t.getConfig().activation).toBe('threshold');
    const tm = refusal(() => t.forwardSync([[[1, 2]]]));
    expect(tm).toContain('No registered GRU backend can run this call.');
    expect(tm).toContain("reference: activation 'threshold'");
    // Keras: units 1 and 3 cannot be halved, units 4 halves to 2, which does not broadcast to 4.
    for (const units of [1, 3, 4]) {
      for (const arg of ['activation', 'recurrentActivation'] as const) {
        const l = new GRU({ units, [arg]: 'glu' } as GruOptions);
        expect(l.getConfig()[arg === 'activation' ? 'activation' : 'recurrent_activation']).toBe('glu');
        const m = refusal(() => l.forwardSync([[[1, 2]]]));
        expect(m).toContain(
          `reference: ${arg} 'glu' halves the last axis, so its result is half as wide as its input: a GRU gate keeps its \`units\` width only at units = 2`,
        );
      }
    }
  });

  it('glu runs at units = 2 as Keras does: glu(v)[0] = v0 * sigmoid(v1), broadcast over both units', () => {
    // Keras 3.15.1's GRUCell.call (reset_after=False) written out: z = glu(x_z + h @ Uz), r = glu(x_r + h @ Ur),
    // hh = glu(x_h + (r * h) @ Uh), h = z * h + (1 - z) * hh, each glu one value broadcast over the units.
    // (The shipped Keras cases act_glu_units2, act_rec_glu_units2_reset_before and grad_glu_units2 check real Keras.)
    const l = new GRU({ units: 2, activation: 'glu', recurrentActivation: 'glu', resetAfter: false, dtype: 'float64', useBias: false });
    const K = [0.3, -0.2, 0.5, 0.1, -0.4, 0.7];
    const U = [0.2, 0.1, -0.3, 0.4, 0.6, -0.5, 0.05, -0.1, 0.3, 0.2, -0.2, 0.1];
    l.setWeights([
      { shape: [1, 6], data: K },
      { shape: [2, 6], data: U },
    ]);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const glu = (a: number, b: number) => a * sig(b);
    const xs = [1.5, -0.7];
    let h = [0.4, -0.6];
    const out = l.forwardSync({ shape: [1, 2, 1], data: xs }, { initialState: { shape: [1, 2], data: h } });
    for (const x of xs) {
      const rec = (col: number, hv: number[]) => hv[0] * U[col] + hv[1] * U[6 + col];
      const z = glu(x * K[0] + rec(0, h), x * K[1] + rec(1, h));
      const r = glu(x * K[2] + rec(2, h), x * K[3] + rec(3, h));
      const rh = [r * h[0], r * h[1]];
      const hh = glu(x * K[4] + rec(4, rh), x * K[5] + rec(5, rh));
      h = h.map((v) => z * v + (1 - z) * hh);
    }
    expect(Array.from(out.output.data)).toEqual([expect.closeTo(h[0], 14), expect.closeTo(h[1], 14)]);
  });

  it('gruActivationProblem says where a GRU of given units cannot run an activation (what every backend should ask)', () => {
    const glu = activationDef('glu');
    expect(gruActivationProblem(glu, 2)).toBeUndefined();
    for (const units of [1, 3, 4, 64]) {
      expect(gruActivationProblem(glu, units)).toBe(
        "'glu' halves the last axis, so its result is half as wide as its input: a GRU gate keeps its `units` width only at units = 2, " +
          "where Keras broadcasts the one-value half back; Keras's GRU fails at any other units (odd: the axis cannot be halved; even above 2: the half does not broadcast)",
      );
    }
    expect(gruActivationProblem(activationDef('threshold'), 2)).toContain('`threshold` and `default_value`');
    expect(gruActivationProblem(activationDef('softmax'), 1)).toBeUndefined();
    expect(gruActivationProblem(activationDef('sigmoid'), 7)).toBeUndefined();
  });

  it('give their reasons through applyActivation/activationVjp too; glu only at width 2', () => {
    const glu = activationDef('glu');
    expect(glu.unusable).toContain('halves the last axis');
    expect(activationDef('threshold').unusable).toContain('`threshold` and `default_value`');
    const a = new Float64Array(4);
    expect(() => applyActivation(glu, a, a, 0, 4)).toThrow("Activation glu cannot be used in a GRU: 'glu' halves the last axis");
    expect(() => activationVjp(glu, a, a, a, a, 0, 4)).toThrow('cannot be used in a GRU');
    const x = Float64Array.from([9, 0.5, -1.5, 7]);
    const y = new Float64Array(4);
    applyActivation(glu, x, y, 1, 2);
    const s = 1 / (1 + Math.exp(1.5));
    expect(Array.from(y)).toEqual([0, 0.5 * s, 0.5 * s, 0]);
    const dx = new Float64Array(4);
    activationVjp(glu, x, y, Float64Array.from([0, 2, 3, 0]), dx, 1, 2);
    expect(dx[1]).toBeCloseTo(5 * s, 15);
    expect(dx[2]).toBeCloseTo(5 * 0.5 * s * (1 - s), 15);
    expect(() => new GRU({ units: 2, recurrentActivation: 'threshold' }).forwardSync([[[1]]], { backend: 'reference' })).toThrow(
      "Backend 'reference' cannot run this call: recurrentActivation 'threshold' needs `threshold` and `default_value` arguments",
    );
  });
});

describe('row-wise recurrent activations act on each gate, as Keras applies them to z and r separately', () => {
  it('GRU(units=1, recurrent_activation="softmax"), one step, one feature: both gates are 1, so Keras outputs 0', () => {
    const l = new GRU({ units: 1, recurrentActivation: 'softmax' });
    l.setWeights([
      { shape: [1, 3], data: [0.4, -0.3, 0.8] },
      { shape: [1, 3], data: [0.2, 0.5, -0.6] },
      { shape: [2, 3], data: [0.1, 0.2, 0.3, -0.1, 0.05, 0.2] },
    ]);
    expect(Array.from(l.forwardSync([[[1.3]]]).output.data)).toEqual([0]);
  });

  for (const name of ['softmax', 'log_softmax', 'sparsemax']) {
    it(`${name}: z and r are each the activation of their own units values`, () => {
      const H = 3;
      const l = new GRU({ units: H, recurrentActivation: name, dtype: 'float64', useBias: false, resetAfter: false });
      // r's pre-activations are the largest, so an activation taken across both gates would change z.
      const K = [0.2, -0.1, 0.4, 0.9, 0.6, 0.8, 0.5, -0.5, 0.3];
      l.setWeights([
        { shape: [1, 3 * H], data: K },
        { shape: [H, 3 * H], data: new Array(3 * H * H).fill(0) },
      ]);
      // One step from a zero state: pre-activations are x * K; the recurrent kernel is zero.
      const x = 0.8;
      const gate = (g: number) => {
        const out = new Float64Array(H);
        applyActivation(
          activationDef(name),
          Float64Array.from({ length: H }, (_, j) => x * K[g * H + j]),
          out,
          0,
          H,
        );
        return out;
      };
      const z = gate(0);
      const hh = Array.from({ length: H }, (_, j) => Math.tanh(x * K[2 * H + j]));
      const want = hh.map((v, j) => (1 - z[j]) * v);
      const got = Array.from(l.forwardSync([[[x]]]).output.data);
      got.forEach((v, j) => expect(v).toBeCloseTo(want[j], 14));
    });
  }
});
