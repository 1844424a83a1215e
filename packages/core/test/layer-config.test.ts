import { beforeEach, describe, expect, it } from 'vitest';
import { clearSession, deserializeLayer, GRU, GRUCell, GruError, looksLikeKeras2, serializeLayer } from '../src/index.js';
import { expectKerasError } from './helpers/errors.js';

/** Expect `fn` to throw a GruError of `kerasType` whose message contains every fragment. */

const POLICY = (name: string) => ({ module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null });

// keras.layers.GRU(4).get_config() in Keras 3.15.1 (json.dumps output, pasted).
const KERAS_GRU_4 = {
  name: 'gru',
  trainable: true,
  dtype: POLICY('float32'),
  return_sequences: false,
  return_state: false,
  go_backwards: false,
  stateful: false,
  unroll: false,
  zero_output_for_mask: false,
  units: 4,
  activation: 'tanh',
  recurrent_activation: 'sigmoid',
  use_bias: true,
  kernel_initializer: {
    module: 'keras.initializers',
    class_name: 'GlorotUniform',
    config: { seed: null, input_axes: null, output_axes: null },
    registered_name: null,
  },
  recurrent_initializer: { module: 'keras.initializers', class_name: 'Orthogonal', config: { seed: null, gain: 1.0 }, registered_name: null },
  bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
  kernel_regularizer: null,
  recurrent_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  recurrent_constraint: null,
  bias_constraint: null,
  dropout: 0.0,
  recurrent_dropout: 0.0,
  reset_after: true,
  seed: null,
};

// keras.layers.GRUCell(4).get_config() in Keras 3.15.1.
const KERAS_CELL_4 = {
  name: 'gru_cell',
  trainable: true,
  dtype: POLICY('float32'),
  units: 4,
  activation: 'tanh',
  recurrent_activation: 'sigmoid',
  use_bias: true,
  kernel_initializer: KERAS_GRU_4.kernel_initializer,
  recurrent_initializer: KERAS_GRU_4.recurrent_initializer,
  bias_initializer: KERAS_GRU_4.bias_initializer,
  kernel_regularizer: null,
  recurrent_regularizer: null,
  bias_regularizer: null,
  kernel_constraint: null,
  recurrent_constraint: null,
  bias_constraint: null,
  dropout: 0.0,
  recurrent_dropout: 0.0,
  reset_after: true,
  seed: null,
};

// Keras 3.15.1: keras.layers.GRU(5, activation='relu', recurrent_activation='hard_sigmoid', use_bias=False,
// kernel_initializer='he_normal', recurrent_initializer='zeros', bias_initializer='ones', kernel_regularizer='l2',
// recurrent_regularizer=L1L2(l1=0.01, l2=0.02), bias_regularizer='l1', activity_regularizer='l1',
// kernel_constraint='max_norm', recurrent_constraint='unit_norm', bias_constraint='non_neg', dropout=0.25,
// recurrent_dropout=0.1, reset_after=False, seed=42, return_sequences=True, return_state=True, go_backwards=True,
// stateful=True, unroll=True, zero_output_for_mask=True, dtype='float64', name='enc', trainable=False).get_config()
const KERAS_GRU_FULL = {
  name: 'enc',
  trainable: false,
  dtype: POLICY('float64'),
  activity_regularizer: { module: 'keras.regularizers', class_name: 'L1', config: { l1: 0.009999999776482582 }, registered_name: null },
  return_sequences: true,
  return_state: true,
  go_backwards: true,
  stateful: true,
  unroll: true,
  zero_output_for_mask: true,
  units: 5,
  activation: 'relu',
  recurrent_activation: 'hard_sigmoid',
  use_bias: false,
  kernel_initializer: {
    module: 'keras.initializers',
    class_name: 'HeNormal',
    config: { seed: null, input_axes: null, output_axes: null },
    registered_name: null,
  },
  recurrent_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
  bias_initializer: { module: 'keras.initializers', class_name: 'Ones', config: {}, registered_name: null },
  kernel_regularizer: { module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.01 }, registered_name: null },
  recurrent_regularizer: { module: 'keras.regularizers', class_name: 'L1L2', config: { l1: 0.01, l2: 0.02 }, registered_name: null },
  bias_regularizer: { module: 'keras.regularizers', class_name: 'L1', config: { l1: 0.009999999776482582 }, registered_name: null },
  kernel_constraint: { module: 'keras.constraints', class_name: 'MaxNorm', config: { max_value: 2, axis: 0 }, registered_name: null },
  recurrent_constraint: { module: 'keras.constraints', class_name: 'UnitNorm', config: { axis: 0 }, registered_name: null },
  bias_constraint: { module: 'keras.constraints', class_name: 'NonNeg', config: {}, registered_name: null },
  dropout: 0.25,
  recurrent_dropout: 0.1,
  reset_after: false,
  seed: 42,
};

// What tf.keras 2.x wrote for a tf.compat.v1-style GRU (string dtype, time_major, implementation).
const KERAS2_CONFIG = {
  name: 'gru_7',
  trainable: true,
  dtype: 'float32',
  batch_input_shape: [null, null, 3],
  return_sequences: false,
  return_state: false,
  go_backwards: false,
  stateful: false,
  unroll: false,
  time_major: false,
  units: 4,
  activation: 'tanh',
  recurrent_activation: 'hard_sigmoid',
  use_bias: true,
  kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
  recurrent_initializer: { class_name: 'Orthogonal', config: { gain: 1.0, seed: null } },
  bias_initializer: { class_name: 'Zeros', config: {} },
  kernel_regularizer: null,
  recurrent_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  recurrent_constraint: null,
  bias_constraint: null,
  dropout: 0.0,
  recurrent_dropout: 0.0,
  implementation: 1,
  reset_after: false,
};

beforeEach(() => clearSession());

describe('Keras defaults and get_config', () => {
  it('new GRU({units: 4}).getConfig() equals Keras 3.15.1 literally', () => {
    expect(new GRU({ units: 4 }).getConfig()).toEqual(KERAS_GRU_4);
  });

  it('new GRUCell({units: 4}).getConfig() equals Keras 3.15.1 literally', () => {
    expect(new GRUCell({ units: 4 }).getConfig()).toEqual(KERAS_CELL_4);
  });

  it('resolved defaults: float32, implementation 2, useCudnn auto, no backend pinned', () => {
    const l = new GRU({ units: 4 });
    expect(l.dtype).toBe('float32');
    expect(l.units).toBe(4);
    expect(l.built).toBe(false);
    expect(l.config.implementation).toBe(2);
    expect(l.config.useCudnn).toBe('auto');
    expect(l.config.timeMajor).toBe(false);
    expect(l.config.backend).toBeUndefined();
    expect(l.config.compat).toBe('keras3');
    expect(l.cell.dropoutMaskCount).toBe(1);
  });

  it('every camelCase option lands on its snake_case Keras key (full config equals Keras)', () => {
    const l = new GRU({
      units: 5,
      activation: 'relu',
      recurrentActivation: 'hard_sigmoid',
      useBias: false,
      kernelInitializer: 'he_normal',
      recurrentInitializer: 'zeros',
      biasInitializer: 'ones',
      kernelRegularizer: 'l2',
      recurrentRegularizer: { class_name: 'L1L2', config: { l1: 0.01, l2: 0.02 } },
      biasRegularizer: 'l1',
      activityRegularizer: 'l1',
      kernelConstraint: 'max_norm',
      recurrentConstraint: 'unit_norm',
      biasConstraint: 'non_neg',
      dropout: 0.25,
      recurrentDropout: 0.1,
      resetAfter: false,
      seed: 42,
      returnSequences: true,
      returnState: true,
      goBackwards: true,
      stateful: true,
      unroll: true,
      zeroOutputForMask: true,
      dtype: 'float64',
      name: 'enc',
      trainable: false,
    });
    expect(l.getConfig()).toEqual(KERAS_GRU_FULL);
    // Keras forces implementation 1 when recurrent_dropout > 0.
    expect(l.config.implementation).toBe(1);
    expect(l.cell.dropoutMaskCount).toBe(3);
    expect(l.dtype).toBe('float64');
  });

  it('fromConfig(Keras 3 config) round-trips to the same config', () => {
    expect(GRU.fromConfig(KERAS_GRU_FULL).getConfig()).toEqual(KERAS_GRU_FULL);
    expect(GRU.fromConfig(KERAS_GRU_4).getConfig()).toEqual(KERAS_GRU_4);
    expect(GRUCell.fromConfig(KERAS_CELL_4).getConfig()).toEqual(KERAS_CELL_4);
  });

  it('fromConfig accepts the {class_name, config} wrapper Keras serializes', () => {
    const l = GRU.fromConfig({ module: 'keras.layers', class_name: 'GRU', config: KERAS_GRU_4, registered_name: null });
    expect(l.getConfig()).toEqual(KERAS_GRU_4);
  });

  it('dropout rates are clamped to [0, 1] like Keras (min(1, max(0, rate)))', () => {
    const c = new GRU({ units: 4, dropout: 1.5, recurrentDropout: -2 }).getConfig();
    expect(c.dropout).toBe(1);
    expect(c.recurrent_dropout).toBe(0);
  });

  it("activation null is 'linear'; aliases serialize to Keras's canonical names", () => {
    const c = new GRU({ units: 2, activation: null, recurrentActivation: 'hard_swish' }).getConfig();
    expect(c.activation).toBe('linear');
    expect(c.recurrent_activation).toBe('hard_silu');
    expect(new GRU({ units: 2, activation: 'swish' }).getConfig().activation).toBe('silu');
    const fromObj = new GRU({ units: 2, activation: { class_name: 'function', config: 'relu' } as unknown as string });
    expect(fromObj.getConfig().activation).toBe('relu');
  });

  it('mixed_float16 round-trips in the config', () => {
    expect(new GRU({ units: 2, dtype: 'mixed_float16' }).getConfig().dtype).toEqual(POLICY('mixed_float16'));
  });

  it('a layer built by a call serializes with its build_config, and deserializes built', () => {
    const l = new GRU({ units: 2 });
    l.forwardSync([[[1, 2, 3]]]);
    const s = serializeLayer(l);
    expect(s.class_name).toBe('GRU');
    expect(s.module).toBe('keras.layers');
    expect(s.build_config).toEqual({ input_shape: [1, 1, 3] });
    const back = deserializeLayer(s) as GRU;
    expect(back.built).toBe(true);
    expect(back.kernel.shape).toEqual([3, 6]);
  });
});

describe("compat: 'keras2' and 'keras2-v1'", () => {
  it("'keras2-v1' defaults to hard_sigmoid (Keras 2 formula) and reset_after=False", () => {
    const l = new GRU({ units: 3, compat: 'keras2-v1' });
    const c = l.getConfig();
    expect(c.recurrent_activation).toBe('hard_sigmoid');
    expect(c.reset_after).toBe(false);
    l.build([null, null, 2]);
    expect(l.cell.spec()).toEqual({
      units: 3,
      inputDim: 2,
      activation: 'tanh',
      recurrentActivation: 'keras2_hard_sigmoid',
      useBias: true,
      resetAfter: false,
      dtype: 'float32',
    });
    expect(l.bias?.shape).toEqual([9]);
  });

  it("'keras2-v1' cell has the same defaults", () => {
    const c = new GRUCell({ units: 3, compat: 'keras2-v1' });
    c.build(2);
    expect(c.spec().recurrentActivation).toBe('keras2_hard_sigmoid');
    expect(c.spec().resetAfter).toBe(false);
  });

  it("'keras2-v1' defaults to implementation 1 (tf.compat.v1: kwargs.pop('implementation', 1)); 'keras2' to 2", () => {
    expect(new GRU({ units: 3, compat: 'keras2-v1' }).getConfig().implementation).toBe(1);
    expect(new GRUCell({ units: 3, compat: 'keras2-v1' }).getConfig().implementation).toBe(1);
    expect(new GRU({ units: 3, compat: 'keras2-v1', implementation: 2 }).getConfig().implementation).toBe(2);
    expect(new GRU({ units: 3, compat: 'keras2' }).getConfig().implementation).toBe(2);
    expect(new GRUCell({ units: 3, compat: 'keras2' }).getConfig().implementation).toBe(2);
    expect(new GRU({ units: 3 }).config.implementation).toBe(2);
    // The v1 default survives a config round trip (the config writes it out).
    expect(GRU.fromConfig(new GRU({ units: 3, compat: 'keras2-v1' }).getConfig()).config.implementation).toBe(1);
  });

  it("'keras2-v1' draws three input dropout masks (one per gate), as implementation 1 does", () => {
    const x = [
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ];
    const v1 = new GRU({ units: 2, dropout: 0.5, seed: 3, compat: 'keras2-v1' });
    expect(v1.cell.dropoutMaskCount).toBe(3);
    v1.forwardSync(x, { training: true });
    expect(v1.cell.getDropoutMask(2)?.length).toBe(3);
    expect(v1.cell.getDropoutMaskForCell(x[0], true, 3)).toHaveLength(3);
    // One shared mask is what implementation 2 takes; a v1 layer asks for three.
    expect(() =>
      v1.forwardSync(x, {
        training: true,
        dropoutMask: [
          [2, 0],
          [0, 2],
        ],
      }),
    ).toThrow(GruError);
    const three = [
      [
        [2, 0],
        [0, 2],
      ],
      [
        [0, 2],
        [2, 0],
      ],
      [
        [2, 2],
        [0, 0],
      ],
    ];
    expect(v1.forwardSync(x, { training: true, dropoutMask: three }).output.shape).toEqual([2, 2]);
    const k2 = new GRU({ units: 2, dropout: 0.5, seed: 3, compat: 'keras2' });
    expect(k2.cell.dropoutMaskCount).toBe(1);
    k2.forwardSync(x, { training: true });
    expect(k2.cell.getDropoutMask(2)?.length).toBe(1);
    expect(new GRUCell({ units: 2, dropout: 0.5, compat: 'keras2-v1' }).dropoutMaskCount).toBe(3);
  });

  it("'keras2' keeps Keras's defaults but reads hard_sigmoid as clip(0.2x + 0.5, 0, 1)", () => {
    const l = new GRU({ units: 3, compat: 'keras2', recurrentActivation: 'hard_sigmoid' });
    expect(l.getConfig().reset_after).toBe(true);
    expect(l.getConfig().recurrent_activation).toBe('hard_sigmoid');
    l.build([null, null, 2]);
    expect(l.cell.spec().recurrentActivation).toBe('keras2_hard_sigmoid');
    const k3 = new GRU({ units: 3, recurrentActivation: 'hard_sigmoid' });
    k3.build([null, null, 2]);
    expect(k3.cell.spec().recurrentActivation).toBe('hard_sigmoid');
  });

  it('explicit options override the keras2-v1 defaults', () => {
    const c = new GRU({ units: 3, compat: 'keras2-v1', recurrentActivation: 'sigmoid', resetAfter: true }).getConfig();
    expect(c.recurrent_activation).toBe('sigmoid');
    expect(c.reset_after).toBe(true);
  });

  it('fromConfig of a tf.keras 2 config: string dtype, time_major, implementation, batch_input_shape', () => {
    expect(looksLikeKeras2(KERAS2_CONFIG)).toBe(true);
    expect(looksLikeKeras2(KERAS_GRU_4)).toBe(false);
    const l = GRU.fromConfig(KERAS2_CONFIG);
    expect(l.config.compat).toBe('keras2');
    expect(l.name).toBe('gru_7');
    expect(l.config.implementation).toBe(1);
    expect(l.config.timeMajor).toBe(false);
    expect(l.built).toBe(true);
    expect(l.kernel.shape).toEqual([3, 12]);
    expect(l.cell.spec().recurrentActivation).toBe('keras2_hard_sigmoid');
    const c = l.getConfig();
    // A Keras 2 layer writes tf.keras 2's config back (string dtype, time_major, implementation).
    expect(c.dtype).toBe('float32');
    expect(c.implementation).toBe(1);
    expect(c.time_major).toBe(false);
    expect('zero_output_for_mask' in c).toBe(false);
    expect('seed' in c).toBe(false);
    expect(c.reset_after).toBe(false);
    expect(c.recurrent_activation).toBe('hard_sigmoid');
    const { batch_input_shape: _shape, kernel_initializer: _k, recurrent_initializer: _r, bias_initializer: _b, ...rest } = KERAS2_CONFIG;
    expect(c).toMatchObject(rest);
  });

  it('fromConfig with time_major: true gives a time-major layer that keeps the key', () => {
    const l = GRU.fromConfig({ ...KERAS2_CONFIG, time_major: true });
    expect(l.config.timeMajor).toBe(true);
    expect(l.getConfig().time_major).toBe(true);
    expect(l.inputShape).toEqual([null, null, 3]);
  });

  it('fromConfig(..., {compat}) overrides the guess', () => {
    expect(GRU.fromConfig(KERAS2_CONFIG, { compat: 'keras3' }).cell.spec().recurrentActivation).toBe('hard_sigmoid');
    expect(GRU.fromConfig({ ...KERAS_GRU_4, recurrent_activation: 'hard_sigmoid' }, { compat: 'keras2' }).config.compat).toBe('keras2');
  });

  it('a Keras 2 config with a plain float64 dtype string builds a float64 layer', () => {
    const l = GRU.fromConfig({ ...KERAS2_CONFIG, dtype: 'float64' });
    expect(l.dtype).toBe('float64');
    expect(l.kernel.data).toBeInstanceOf(Float64Array);
  });
});

describe('Keras 2 compat survives getConfig / fromConfig', () => {
  const X = { shape: [2, 4, 3], data: Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.3) * 2) };
  const XT = { shape: [2, 3], data: [0.5, -1, 2, 1.5, 0.25, -2] };
  const H = [{ shape: [2, 3], data: [0.1, -0.2, 0.3, 0, 0.5, -0.5] }];
  const json = (o: unknown) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
  // 'keras2' keeps Keras's sigmoid default, so ask for hard_sigmoid, the activation whose meaning differs.
  const opts = { keras2: { recurrentActivation: 'hard_sigmoid' }, 'keras2-v1': {} } as const;

  for (const compat of ['keras2', 'keras2-v1'] as const) {
    it(`GRU (${compat}): the config is tf.keras 2's, reloads as Keras 2 and gives the same outputs`, () => {
      const l = new GRU({ units: 3, returnSequences: true, compat, seed: 7, ...opts[compat] });
      const want = l.forwardSync(X).output.data;
      const cfg = json(l.getConfig());
      expect(looksLikeKeras2(cfg)).toBe(true);
      expect(cfg).toMatchObject({ dtype: 'float32', time_major: false, recurrent_activation: 'hard_sigmoid', seed: 7 });
      expect(cfg.implementation).toBe(l.config.implementation);
      const back = GRU.fromConfig(cfg);
      expect(back.config.compat).toBe('keras2');
      expect(back.getConfig()).toEqual(cfg);
      back.setWeights(l.getWeights());
      expect(Array.from(back.forwardSync(X).output.data)).toEqual(Array.from(want));
      // Read as Keras 3, the same config would mean another hard_sigmoid and other numbers.
      const k3 = GRU.fromConfig(cfg, { compat: 'keras3' });
      k3.setWeights(l.getWeights());
      expect(Array.from(k3.forwardSync(X).output.data)).not.toEqual(Array.from(want));
    });

    it(`GRUCell (${compat}): the config reloads as Keras 2 and gives the same step`, () => {
      const c = new GRUCell({ units: 3, compat, ...opts[compat] });
      c.build(3);
      const want = c.call(XT, H).output.data;
      const cfg = json(c.getConfig());
      expect(looksLikeKeras2(cfg)).toBe(true);
      expect(cfg.dtype).toBe('float32');
      expect('seed' in cfg).toBe(false);
      const back = GRUCell.fromConfig(cfg);
      expect(back.config.compat).toBe('keras2');
      expect(back.getConfig()).toEqual(cfg);
      back.build(3);
      back.setWeights(c.getWeights());
      expect(Array.from(back.call(XT, H).output.data)).toEqual(Array.from(want));
    });

    it(`serializeLayer / deserializeLayer keep ${compat} for GRU and GRUCell`, () => {
      const l = new GRU({ units: 3, compat, ...opts[compat] });
      l.build([2, 4, 3]);
      const back = deserializeLayer(json(serializeLayer(l))) as GRU;
      expect(back.config.compat).toBe('keras2');
      expect(back.cell.spec().recurrentActivation).toBe('keras2_hard_sigmoid');
      back.setWeights(l.getWeights());
      expect(Array.from(back.forwardSync(X).output.data)).toEqual(Array.from(l.forwardSync(X).output.data));
      const cell = new GRUCell({ units: 3, compat, ...opts[compat] });
      const cellBack = deserializeLayer(json(serializeLayer(cell))) as GRUCell;
      expect(cellBack.config.compat).toBe('keras2');
      expect(cellBack.getConfig()).toEqual(json(cell.getConfig()));
    });
  }

  it('a mixed-precision Keras 2 cell writes a Policy object, still read as Keras 2; Keras 3 layers are unchanged', () => {
    const cfg = json(new GRUCell({ units: 2, compat: 'keras2', dtype: 'mixed_float16' }).getConfig());
    expect(cfg.dtype).toEqual({ class_name: 'Policy', config: { name: 'mixed_float16' } });
    expect(GRUCell.fromConfig(cfg).config.compat).toBe('keras2');
    expect(new GRU({ units: 4 }).getConfig()).toEqual(KERAS_GRU_4);
    expect(looksLikeKeras2(KERAS_CELL_4)).toBe(false);
  });
});

describe('layer names', () => {
  it('auto names gru, gru_1, gru_2; given names do not consume a number; clearSession restarts', () => {
    expect(new GRU({ units: 2 }).name).toBe('gru');
    expect(new GRU({ units: 2 }).name).toBe('gru_1');
    expect(new GRU({ units: 2, name: 'encoder' }).name).toBe('encoder');
    expect(new GRU({ units: 2 }).name).toBe('gru_2');
    clearSession();
    expect(new GRU({ units: 2 }).name).toBe('gru');
  });

  it("a GRU's cell is named 'gru_cell' without consuming a GRUCell auto name (as Keras)", () => {
    const l = new GRU({ units: 2 });
    expect(l.cell.name).toBe('gru_cell');
    expect(new GRUCell({ units: 2 }).name).toBe('gru_cell');
    expect(new GRUCell({ units: 2 }).name).toBe('gru_cell_1');
    expect(new GRU({ units: 2 }).name).toBe('gru_1');
  });

  it('the name is in get_config and fromConfig keeps it', () => {
    const l = new GRU({ units: 2, name: 'dec' });
    expect(l.getConfig().name).toBe('dec');
    expect(GRU.fromConfig(l.getConfig()).name).toBe('dec');
  });
});

describe('computeOutputShape, outputShape, inputShape', () => {
  const cases: [boolean, boolean, boolean, unknown][] = [
    [false, false, false, [2, 4]],
    [true, false, false, [2, 7, 4]],
    [
      false,
      true,
      false,
      [
        [2, 4],
        [2, 4],
      ],
    ],
    [
      true,
      true,
      false,
      [
        [2, 7, 4],
        [2, 4],
      ],
    ],
    [false, false, true, [2, 4]],
    [true, false, true, [7, 2, 4]],
    [
      false,
      true,
      true,
      [
        [2, 4],
        [2, 4],
      ],
    ],
    [
      true,
      true,
      true,
      [
        [7, 2, 4],
        [2, 4],
      ],
    ],
  ];
  for (const [returnSequences, returnState, timeMajor, expected] of cases) {
    it(`returnSequences=${returnSequences} returnState=${returnState} timeMajor=${timeMajor}`, () => {
      const l = new GRU({ units: 4, returnSequences, returnState, timeMajor });
      const input = timeMajor ? [7, 2, 3] : [2, 7, 3];
      expect(l.computeOutputShape(input)).toEqual(expected);
      // The shapes of an actual call agree with computeOutputShape.
      const r = l.forwardSync({ shape: input, data: new Array(42).fill(0.1) });
      const shapes = r.outputs.map((o) => o.shape);
      expect(returnState ? shapes : shapes[0]).toEqual(expected);
    });
  }

  it('unknown dimensions stay null', () => {
    expect(new GRU({ units: 4 }).computeOutputShape([null, null, 3])).toEqual([null, 4]);
    expect(new GRU({ units: 4, returnSequences: true, returnState: true }).computeOutputShape([null, 5, 3])).toEqual([
      [null, 5, 4],
      [null, 4],
    ]);
  });

  it('inputShape/outputShape before and after build; a stateful layer knows its batch', () => {
    const l = new GRU({ units: 4, returnSequences: true });
    expect(l.inputShape).toEqual([null, null, null]);
    l.build([null, null, 3]);
    expect(l.inputShape).toEqual([null, null, 3]);
    expect(l.outputShape).toEqual([null, null, 4]);
    const s = new GRU({ units: 4, stateful: true, returnState: true });
    s.build([6, 5, 3]);
    expect(s.inputShape).toEqual([6, null, 3]);
    expect(s.outputShape).toEqual([
      [6, 4],
      [6, 4],
    ]);
    const tm = new GRU({ units: 4, stateful: true, timeMajor: true, returnSequences: true });
    tm.build([5, 6, 3]);
    expect(tm.inputShape).toEqual([null, 6, 3]);
    expect(tm.outputShape).toEqual([null, 6, 4]);
  });

  it('rejects shapes that are not rank 3', () => {
    expectKerasError(() => new GRU({ units: 4 }).computeOutputShape([2, 3]), 'ValueError', 'rank-3', '[2,3]');
    expectKerasError(() => new GRU({ units: 4 }).build([2, 3]), 'ValueError', '(batch, timesteps, features)', '[2,3]');
  });

  it('weights have Keras shapes for every useBias/resetAfter combination', () => {
    const shapes = (o: { useBias: boolean; resetAfter: boolean }) => {
      const l = new GRU({ units: 4, ...o });
      l.build([null, null, 3]);
      return l.getWeights().map((w) => w.shape);
    };
    expect(shapes({ useBias: true, resetAfter: true })).toEqual([
      [3, 12],
      [4, 12],
      [2, 12],
    ]);
    expect(shapes({ useBias: true, resetAfter: false })).toEqual([[3, 12], [4, 12], [12]]);
    expect(shapes({ useBias: false, resetAfter: true })).toEqual([
      [3, 12],
      [4, 12],
    ]);
  });
});

describe('constructor validation (Keras messages)', () => {
  it('units', () => {
    expectKerasError(() => new GRU({ units: 0 }), 'ValueError', 'Received an invalid value for argument `units`, expected a positive integer, got 0.');
    expectKerasError(() => new GRU({ units: -1 }), 'ValueError', 'got -1.');
    expectKerasError(() => new GRU({ units: 2.5 }), 'ValueError', 'state_size must be an integer');
    expectKerasError(() => new GRU({ units: '4' as unknown as number }), 'TypeError', "'<=' not supported between instances of 'str' and 'int'");
    expectKerasError(() => new GRUCell({ units: 0 }), 'ValueError', 'argument `units`');
    // NaN passes Python's `units <= 0`; a JS NaN names the argument instead of a comparison of floats.
    expectKerasError(() => new GRU({ units: Number.NaN }), 'ValueError', 'argument `units`, expected a positive integer, got nan.');
  });

  it("Keras's base-layer arguments input_shape, input_dim and autocast are accepted, as Keras accepts them, and left out of the config", () => {
    for (const options of [{ inputShape: [null, 3] }, { inputShape: [10, 3] }, { inputDim: 3 }, { autocast: false }, { inputShape: null }]) {
      const gru = new GRU({ units: 4, name: 'g', ...options });
      expect(gru.built).toBe(false);
      expect(gru.getConfig()).toEqual(new GRU({ units: 4, name: 'g' }).getConfig());
      expect(new GRUCell({ units: 4, name: 'c', ...options }).getConfig()).toEqual(new GRUCell({ units: 4, name: 'c' }).getConfig());
    }
    expectKerasError(
      () => new GRU({ units: 4, inputShape: [0, 3] }),
      'ValueError',
      'Argument `input_shape` must be a list of positive integers or None, received [0, 3].',
    );
    expectKerasError(() => new GRU({ units: 4, inputDim: 1.5 }), 'ValueError', 'Argument `input_dim` must be a positive integer, received 1.5.');
    expectKerasError(() => new GRU({ units: 4, autocast: 'no' as never }), 'TypeError', 'Argument `autocast` must be a boolean, received no (str).');
  });

  it('fromConfig builds from input_dim / batch_input_shape only where they give a positive integer size', () => {
    expect(GRU.fromConfig({ ...KERAS_GRU_4, input_dim: 3 }).built).toBe(true);
    expectKerasError(
      () => GRU.fromConfig({ ...KERAS_GRU_4, input_dim: 0 }),
      'ValueError',
      'Argument `input_dim` must give a positive integer input size, received 0.',
    );
    expectKerasError(
      () => GRU.fromConfig({ ...KERAS_GRU_4, batch_input_shape: [null, 5, 2.5] }),
      'ValueError',
      'Argument `batch_input_shape` must give a positive integer input size, received [None, 5, 2.5].',
    );
  });

  it('a boolean where units or a rate goes is named (Python would take True for 1)', () => {
    expectKerasError(() => new GRU({ units: true as never }), 'TypeError', 'Argument `units` must be a positive integer, received True (bool).');
    expectKerasError(
      () => new GRU({ units: 4, dropout: true as never }),
      'TypeError',
      'Argument `dropout` must be a number between 0 and 1, received True (bool).',
    );
    expectKerasError(
      () => new GRU({ units: 4, recurrentDropout: false as never }),
      'TypeError',
      'Argument `recurrent_dropout` must be a number between 0 and 1, received False (bool).',
    );
  });

  it('unknown options, with Python repr of the values (as Keras prints kwargs)', () => {
    expectKerasError(() => new GRU({ units: 4, bogus: 1 } as never), 'ValueError', "Unrecognized keyword arguments passed to GRU: {'bogus': 1}");
    expectKerasError(
      () => new GRU({ units: 4, return_sequences: true, foo: 'x' } as never),
      'ValueError',
      "Unrecognized keyword arguments passed to GRU: {'return_sequences': True, 'foo': 'x'}",
    );
    // Layer-only options are unknown to the cell.
    expectKerasError(
      () => new GRUCell({ units: 4, returnSequences: true } as never),
      'ValueError',
      "Unrecognized keyword arguments passed to GRUCell: {'returnSequences': True}",
    );
    expectKerasError(() => GRU.fromConfig({ ...KERAS_GRU_4, bogus_key: 2 }), 'ValueError', "{'bogus_key': 2}");
  });

  it('use_cudnn', () => {
    expectKerasError(
      () => new GRU({ units: 4, useCudnn: 'yes' as never }),
      'ValueError',
      "Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, False}. Received: use_cudnn=yes",
    );
    // None is not 'auto' in Keras either.
    expectKerasError(() => new GRU({ units: 4, useCudnn: null as never }), 'ValueError', 'Received: use_cudnn=None');
    expectKerasError(() => GRU.fromConfig({ ...KERAS_GRU_4, use_cudnn: null }), 'ValueError', 'Received: use_cudnn=None');
  });

  it("name: a string without `/` (Keras's message); null is an auto name", () => {
    expectKerasError(
      () => new GRU({ units: 4, name: 'a/b' }),
      'ValueError',
      "Argument `name` must be a string and cannot contain character `/`. Received: name=a/b (of type <class 'str'>)",
    );
    expectKerasError(() => new GRU({ units: 4, name: 123 as never }), 'ValueError', "Received: name=123 (of type <class 'int'>)");
    expectKerasError(() => new GRU({ units: 4, name: {} as never }), 'ValueError', 'Received: name={}');
    expectKerasError(() => new GRUCell({ units: 4, name: 'x/y' }), 'ValueError', 'cannot contain character `/`');
    expect(new GRU({ units: 4, name: null as never }).name).toMatch(/^gru/);
  });

  it('seed: a uint32, as Keras keeps it', () => {
    expectKerasError(() => new GRU({ units: 4, seed: -1 }), 'OverflowError', '`seed` must be an integer from 0 to 4294967295', 'received -1');
    expectKerasError(() => new GRU({ units: 4, seed: 2 ** 32 }), 'OverflowError', '`seed`', 'received 4294967296');
    expectKerasError(() => GRU.fromConfig({ ...KERAS_GRU_4, seed: 2 ** 40 }), 'OverflowError', '`seed`');
    expect(new GRU({ units: 4, seed: 2 ** 32 - 1 }).getConfig().seed).toBe(2 ** 32 - 1);
    expect(new GRU({ units: 4, seed: 0 }).getConfig().seed).toBe(0);
  });

  it('booleans, implementation, compat, seed, dtype, activation, backend', () => {
    expectKerasError(() => new GRU({ units: 4, returnSequences: 1 as never }), 'TypeError', '`returnSequences` must be a boolean', 'received 1');
    expectKerasError(() => new GRU({ units: 4, useBias: 'no' as never }), 'TypeError', '`useBias`', 'no');
    expectKerasError(() => new GRU({ units: 4, implementation: 3 as never }), 'ValueError', '`implementation` must be 1 or 2, received 3');
    expectKerasError(() => new GRU({ units: 4, compat: 'keras1' as never }), 'ValueError', '`compat`', 'keras1');
    expectKerasError(() => new GRU({ units: 4, seed: 1.5 }), 'ValueError', '`seed`', '1.5');
    expectKerasError(() => new GRU({ units: 4, dtype: 'int8' }), 'ValueError', 'Invalid dtype policy', 'int8');
    expectKerasError(() => new GRU({ units: 4, activation: 'bogus' }), 'ValueError', 'Could not interpret activation function identifier: bogus');
    expectKerasError(() => new GRU({ units: 4, recurrentActivation: 'nope' }), 'ValueError', 'Could not interpret activation function identifier: nope');
    expectKerasError(() => new GRU({ units: 4, backend: 3 as never }), 'TypeError', '`backend`', 'received 3');
    expectKerasError(() => new GRU({ units: 4, dropout: 'high' as never }), 'TypeError', "'>' not supported between instances of 'str' and 'float'");
    expectKerasError(() => new GRU({ units: 4, dropout: Number.NaN }), 'ValueError', 'argument `dropout`, expected a number between 0 and 1, got nan.');
    expectKerasError(() => new GRU({ units: 4, recurrentDropout: Number.NaN }), 'ValueError', 'argument `recurrent_dropout`', 'got nan.');
  });

  it('a non-object options argument', () => {
    expectKerasError(() => new GRU(4 as never), 'TypeError', 'options object', '4');
  });
});

describe('initializer None (Keras: the weight starts as glorot_uniform, the config keeps None)', () => {
  it.each(['kernelInitializer', 'recurrentInitializer', 'biasInitializer'] as const)('%s: null', (arg) => {
    const units = 3;
    const features = 4;
    const layer = new GRU({ units, [arg]: null } as { units: number });
    layer.build([null, null, features]);
    const weights = layer.getWeights();
    const index = { kernelInitializer: 0, recurrentInitializer: 1, biasInitializer: 2 }[arg];
    const w = weights[index];
    // Glorot uniform's limit for this weight's shape (fans as Keras computes them for 2-D shapes).
    const [fanIn, fanOut] = w.shape as [number, number];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    expect([...w.data].every((v) => Math.abs(v) <= limit)).toBe(true);
    // Not the default initializer's values: the bias's zeros, and glorot draws differ from zero.
    expect([...w.data].some((v) => v !== 0)).toBe(true);
    const snake = { kernelInitializer: 'kernel_initializer', recurrentInitializer: 'recurrent_initializer', biasInitializer: 'bias_initializer' }[arg];
    expect(layer.getConfig()[snake]).toBeNull();
    expect(GRU.fromConfig(layer.getConfig()).getConfig()[snake]).toBeNull();
  });

  it("a Keras config holding `bias_initializer: null` loads (it was refused as 'Could not interpret initializer identifier: None')", () => {
    const layer = GRU.fromConfig({ ...KERAS_GRU_4, bias_initializer: null });
    expect(layer.getConfig().bias_initializer).toBeNull();
    expect(new GRUCell({ units: 2, kernelInitializer: null }).getConfig().kernel_initializer).toBeNull();
  });
});

describe('half-precision dtype policies are refused when a layer or cell computes', () => {
  it.each(['mixed_float16', 'mixed_bfloat16', 'float16', 'bfloat16'])('GRUCell with %s refuses call (it ran silently in float32)', (dtype) => {
    const cell = new GRUCell({ units: 2, dtype });
    expect(cell.getConfig().dtype).toBeDefined();
    expectKerasError(
      () => cell.call([[1, 2, 3]], [[0, 0]]),
      'ValueError',
      `GRUCell '${cell.name}' has dtype policy '${dtype}'`,
      'gru computes in float32 or float64 only',
    );
  });
});
