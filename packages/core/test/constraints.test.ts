import { describe, expect, it } from 'vitest';
import { GruError } from '../src/errors.js';
import { type Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm, getConstraint, serializeConstraint } from '../src/constraints.js';

function thrown(fn: () => unknown): GruError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GruError);
    return e as GruError;
  }
  throw new Error('expected a throw');
}

/** Serialized forms Keras 3.15.1 wrote (config_cases.json: gru_non_default, gru_cell_non_default). */
const KERAS = {
  maxNorm: { module: 'keras.constraints', class_name: 'MaxNorm', config: { max_value: 2.0, axis: 0 }, registered_name: null },
  unitNorm: { module: 'keras.constraints', class_name: 'UnitNorm', config: { axis: 0 }, registered_name: null },
  nonNeg: { module: 'keras.constraints', class_name: 'NonNeg', config: {}, registered_name: null },
};

const K = [0.5, -1.5, 2.0, 0.1, 1.25, 0.75, -2.5, 0.2, -0.3, 1.1, 0.4, 0.05]; // a [3, 4] kernel
const B = [0.3, -1.2, 2.2, 0.9, -0.1, 0.0]; // a [6] bias, or a [2, 3] reset_after bias

/**
 * Outputs of Keras 3.15.1 (numpy backend; float64 with the float64->float32 demotion disabled,
 * as the project's references), called on a keras.Variable of the given dtype: [name, config,
 * dtype, input, shape, expected output].
 */
const CASES: [string, Record<string, unknown>, 'float32' | 'float64', number[], number[], number[]][] = [
  [
    'MaxNorm',
    { max_value: 2, axis: 0 },
    'float32',
    K,
    [3, 4],
    [
      0.4999999701976776, -1.495798945426941, 1.2397514581680298, 0.09999995678663254, 1.2499998807907104, 0.7478994727134705, -1.5496892929077148,
      0.19999991357326508, -0.29999998211860657, 1.096919298171997, 0.24795030057430267, 0.04999997839331627,
    ],
  ],
  [
    'MaxNorm',
    { max_value: 1, axis: 1 },
    'float32',
    K,
    [3, 4],
    [
      0.19596543908119202, -0.5878963470458984, 0.7838617563247681, 0.03919309005141258, 0.43090641498565674, 0.25854384899139404, -0.8618128299713135,
      0.0689450278878212, -0.24806945025920868, 0.9095879793167114, 0.3307592570781708, 0.04134490713477135,
    ],
  ],
  [
    'MaxNorm',
    { max_value: 1, axis: -1 },
    'float64',
    K,
    [3, 4],
    [
      0.1959654427369139, -0.5878963282107417, 0.7838617709476556, 0.039193088547382786, 0.43090639347475657, 0.258543836084854, -0.8618127869495131,
      0.06894502295596106, -0.24806944866559805, 0.9095879784405263, 0.3307592648874641, 0.04134490811093301,
    ],
  ],
  [
    'MaxNorm',
    { max_value: 1.5, axis: [0, 1] },
    'float32',
    K,
    [3, 4],
    [
      0.18526992201805115, -0.555809736251831, 0.7410796880722046, 0.03705398365855217, 0.46317481994628906, 0.2779048681259155, -0.9263496398925781,
      0.07410796731710434, -0.11116195470094681, 0.40759384632110596, 0.14821593463420868, 0.018526991829276085,
    ],
  ],
  [
    'MaxNorm',
    { max_value: 1.5, axis: null },
    'float64',
    K,
    [3, 4],
    [
      0.18526991416829547, -0.5558097425048865, 0.7410796566731819, 0.03705398283365909, 0.46317478542073864, 0.27790487125244323, -0.9263495708414773,
      0.07410796566731818, -0.11116194850097728, 0.40759381117025006, 0.14821593133463637, 0.018526991416829546,
    ],
  ],
  [
    'UnitNorm',
    { axis: 0 },
    'float32',
    K,
    [3, 4],
    [
      0.3624996840953827, -0.7478994727134705, 0.6198757290840149, 0.4364355802536011, 0.9062492251396179, 0.37394973635673523, -0.7748447060585022,
      0.8728711605072021, -0.21749982237815857, 0.5484596490859985, 0.12397515028715134, 0.21821779012680054,
    ],
  ],
  [
    'UnitNorm',
    { axis: 0 },
    'float64',
    K,
    [3, 4],
    [
      0.36249969051599984, -0.7478994451261018, 0.6198757081614484, 0.4364355899958774, 0.9062492262899995, 0.3739497225630509, -0.7748446352018106,
      0.8728711799917548, -0.2174998143095999, 0.5484595930924747, 0.12397514163228969, 0.2182177949979387,
    ],
  ],
  ['UnitNorm', { axis: 0 }, 'float32', B, [6], [0.11188112199306488, -0.4475244879722595, 0.8204615116119385, 0.33564332127571106, -0.037293706089258194, 0.0]],
  [
    'MaxNorm',
    { max_value: 2, axis: 0 },
    'float32',
    B,
    [6],
    [0.22376224398612976, -0.895048975944519, 1.640923023223877, 0.6712867021560669, -0.07458741217851639, 0.0],
  ],
  ['MaxNorm', { max_value: 1, axis: 0 }, 'float32', B, [2, 3], [0.29999998211860657, -0.996545672416687, 1.0, 0.8999998569488525, -0.08304547518491745, 0.0]],
  [
    'UnitNorm',
    { axis: -1 },
    'float64',
    B,
    [2, 3],
    [0.11886432305297313, -0.47545729221189253, 0.8716717023884698, 0.9938836249175335, -0.11043151387972594, 0.0],
  ],
  [
    'MinMaxNorm',
    { min_value: 0.5, max_value: 1.5, rate: 0.7, axis: 0 },
    'float32',
    K,
    [3, 4],
    [
      0.4999999701976776, -1.2352943420410156, 1.250869631767273, 0.18275243043899536, 1.2499998807907104, 0.6176471710205078, -1.5635870695114136,
      0.3655048608779907, -0.29999998211860657, 0.9058825969696045, 0.2501739263534546, 0.09137621521949768,
    ],
  ],
  [
    'MinMaxNorm',
    { min_value: 1, max_value: 2, rate: 1, axis: 1 },
    'float64',
    K,
    [3, 4],
    [
      0.3919308854738278, -1.1757926564214833, 1.5677235418953113, 0.07838617709476557, 0.8618127869495131, 0.517087672169708, -1.7236255738990263,
      0.1378900459119221, -0.2999999751930551, 1.0999999090412023, 0.3999999669240735, 0.04999999586550919,
    ],
  ],
  [
    'NonNeg',
    {},
    'float32',
    K,
    [3, 4],
    [0.5, 0.0, 2.0, 0.10000000149011612, 1.25, 0.75, 0.0, 0.20000000298023224, 0.0, 1.100000023841858, 0.4000000059604645, 0.05000000074505806],
  ],
];

describe('results equal Keras bit for bit', () => {
  it.each(CASES.map((c, i) => [i, ...c] as const))('case %i: %s %j %s', (_i, cls, config, dtype, input, shape, expected) => {
    const c = getConstraint({ module: 'keras.constraints', class_name: cls, config, registered_name: null })!;
    const data = dtype === 'float32' ? Float32Array.from(input) : Float64Array.from(input);
    const before = Array.from(data);
    const out = c.apply(data, shape);
    expect(out.constructor).toBe(data.constructor);
    expect(out).not.toBe(data);
    expect(Array.from(data)).toEqual(before); // input untouched
    expect(Array.from(out)).toEqual(expected);
  });

  it('sums long rows in numpy pairwise order (float32, exact)', () => {
    // A 1000-value bias: numpy sums squares pairwise (blocks of <= 128, 8 accumulators); a plain
    // running float32 sum gives a different norm here (17376.447 vs 17376.449), so different outputs.
    const n = 1000;
    const data = Float32Array.from({ length: n }, (_, i) => Math.fround((((i * 37) % 101) - 50) / 7));
    const out = new UnitNorm(0).apply(data, [n]);
    expect(Array.from(out.subarray(0, 3))).toEqual([-0.054186541587114334, -0.014088500291109085, 0.026009541004896164]);
  });
});

describe('semantics', () => {
  it('MaxNorm leaves columns under max_value almost unchanged (epsilon) and rescales the others', () => {
    const data = Float64Array.from([3, 0.1, 4, 0.2]); // [2, 2]: column norms 5 and ~0.2236
    const out = new MaxNorm(2, 0).apply(data, [2, 2]);
    expect(out[0]).toBeCloseTo((3 * 2) / (5 + 1e-7), 15);
    expect(out[2]).toBeCloseTo((4 * 2) / (5 + 1e-7), 15);
    const n1 = Math.sqrt(0.1 * 0.1 + 0.2 * 0.2);
    expect(out[1]).toBeCloseTo((0.1 * n1) / (n1 + 1e-7), 15);
  });

  it('UnitNorm of a zero column stays zero (epsilon in the denominator)', () => {
    const out = new UnitNorm().apply(Float32Array.from([0, 1, 0, 1]), [2, 2]);
    expect(Array.from(out)).toEqual([0, Math.fround(1 / Math.fround(Math.fround(Math.SQRT2) + Math.fround(1e-7))), 0, out[3]]);
  });

  it('NonNeg: maximum(w, 0), NaN kept, -0 becomes 0 (numpy)', () => {
    const out = new NonNeg().apply(Float64Array.from([-0, Number.NaN, -1, 2]), [4]);
    expect(Object.is(out[0], 0)).toBe(true);
    expect(out[1]).toBeNaN();
    expect(out[2]).toBe(0);
    expect(out[3]).toBe(2);
  });

  it('MinMaxNorm with rate < 1 moves norms part of the way', () => {
    const data = Float64Array.from([3, 4]); // [2, 1], norm 5
    const out = new MinMaxNorm(0, 1, 0.5, 0).apply(data, [2, 1]);
    const desired = 0.5 * 1 + 0.5 * 5;
    expect(out[0]).toBeCloseTo((3 * desired) / (5 + 1e-7), 14);
    expect(out[1]).toBeCloseTo((4 * desired) / (5 + 1e-7), 14);
  });

  it('the base Constraint is the identity', () => {
    const c = getConstraint('Constraint')!;
    expect(Array.from(c.apply(Float32Array.from([1, -2]), [2]))).toEqual([1, -2]);
    expect(serializeConstraint(c)).toEqual({ module: 'keras.constraints', class_name: 'Constraint', config: {}, registered_name: null });
  });
});

describe('axis errors (numpy wording)', () => {
  it('rejects out-of-range, duplicate and non-integer axes', () => {
    const d = new Float32Array(6).fill(1);
    expect(() => new MaxNorm(2, 2).apply(d, [2, 3])).toThrow('axis 2 is out of bounds for array of dimension 2');
    expect(() => new MaxNorm(2, -3).apply(d, [2, 3])).toThrow('axis -3 is out of bounds for array of dimension 2');
    expect(() => new UnitNorm(1).apply(d, [6])).toThrow('axis 1 is out of bounds for array of dimension 1');
    expect(() => new MaxNorm(2, [0, 0]).apply(d, [2, 3])).toThrow("duplicate value in 'axis'");
    expect(() => new MaxNorm(2, [0, -2]).apply(d, [2, 3])).toThrow("duplicate value in 'axis'");
    const e = thrown(() => new MaxNorm(2, 1.5).apply(d, [2, 3]));
    expect(e.kerasType).toBe('TypeError');
    expect(e.message).toBe("'float' object cannot be interpreted as an integer");
    expect(() => new MaxNorm(2, 0).apply(d, [4, 2])).toThrow(GruError); // 6 values, shape of 8
  });
});

describe('identifiers and serialization', () => {
  it('accepts Keras names, classes and configs', () => {
    const cases: Record<string, [string, Record<string, unknown>]> = {
      max_norm: ['MaxNorm', { max_value: 2, axis: 0 }],
      MaxNorm: ['MaxNorm', { max_value: 2, axis: 0 }],
      min_max_norm: ['MinMaxNorm', { min_value: 0, max_value: 1, rate: 1, axis: 0 }],
      MinMaxNorm: ['MinMaxNorm', { min_value: 0, max_value: 1, rate: 1, axis: 0 }],
      non_neg: ['NonNeg', {}],
      NonNeg: ['NonNeg', {}],
      unit_norm: ['UnitNorm', { axis: 0 }],
      UnitNorm: ['UnitNorm', { axis: 0 }],
      constraint: ['Constraint', {}],
    };
    for (const [name, [cls, config]] of Object.entries(cases)) {
      const c = getConstraint(name)!;
      expect(c.className).toBe(cls);
      expect(c.getConfig()).toEqual(config);
    }
    expect(getConstraint(UnitNorm)!.className).toBe('UnitNorm');
    expect(getConstraint({ class_name: 'max_norm', config: { max_value: 3, axis: [0, 1] } })!.getConfig()).toEqual({ max_value: 3, axis: [0, 1] });
    const obj = new NonNeg();
    expect(getConstraint(obj)).toBe(obj);
    expect(getConstraint(null)).toBeNull();
    expect(serializeConstraint(null)).toBeNull();
  });

  it('reproduces the constraints of Keras GRU configs and round-trips', () => {
    expect(JSON.stringify(serializeConstraint(new MaxNorm(2.0, 0)))).toBe(JSON.stringify(KERAS.maxNorm));
    expect(JSON.stringify(serializeConstraint(getConstraint('unit_norm')))).toBe(JSON.stringify(KERAS.unitNorm));
    expect(JSON.stringify(serializeConstraint(getConstraint('non_neg')))).toBe(JSON.stringify(KERAS.nonNeg));
    const all: Constraint[] = [new MaxNorm(3, [0, 1]), new MinMaxNorm(0.1, 0.9, 0.5, -1), new NonNeg(), new UnitNorm(null), new MaxNorm(1, null)];
    for (const c of all) {
      const ser = serializeConstraint(c)!;
      expect(serializeConstraint(getConstraint(JSON.parse(JSON.stringify(ser))))).toEqual(ser);
    }
    expect(JSON.stringify(new MinMaxNorm(0.1, 0.9, 0.5, -1).getConfig())).toBe('{"min_value":0.1,"max_value":0.9,"rate":0.5,"axis":-1}');
  });

  it('rejects unknown identifiers with Keras messages', () => {
    expect(() => getConstraint('maxnorm')).toThrow('Could not interpret constraint identifier: maxnorm');
    expect(() => getConstraint('nope')).toThrow('Could not interpret constraint identifier: nope');
    expect(() => getConstraint(true)).toThrow('Could not interpret constraint identifier: True');
    const e = thrown(() => getConstraint({ class_name: 'MaxNorm', config: 5 }));
    expect(e.kerasType).toBe('TypeError');
    expect(e.message.startsWith("Expected 'config' to be a dict for MaxNorm,\ninstead got <class 'int'>")).toBe(true);
    const u = thrown(() => getConstraint({ class_name: 'UnitNorm', config: { axis: 0, max_value: 1 } }));
    expect(u.message).toContain("UnitNorm.__init__() got an unexpected keyword argument 'max_value'");
  });
});
