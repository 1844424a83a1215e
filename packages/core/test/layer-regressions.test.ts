import { afterEach, describe, expect, it } from 'vitest';
import {
  GRU,
  GRUCell,
  GRU_BACKEND_SPEC_VERSION,
  activationDef,
  applyActivation,
  referenceBackend,
  registerBackend,
  unregisterBackend,
  type GruBackend,
} from '../src/index.js';

// Bugs found by the API tests, each pinned here once fixed.
describe('regressions', () => {
  afterEach(() => {
    unregisterBackend('flaky-bug');
  });

  it('resetStates([h]) takes h as a nested array', () => {
    const l = new GRU({ units: 4, stateful: true });
    l.forwardSync([[[1, 2, 3]], [[1, 2, 3]]]);
    l.resetStates([
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
    ]);
    expect(Array.from(l.states![0].data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a rejected call does not leave its supplied dropout mask behind for the next call', () => {
    const x = [
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      [
        [-1, 0.5],
        [2, -3],
        [0.1, 0.2],
      ],
    ];
    const mk = () => {
      const l = new GRU({
        units: 3,
        dropout: 0.5,
        recurrentDropout: 0.5,
        seed: 11,
        kernelInitializer: { class_name: 'GlorotUniform', config: { seed: 1 } },
        recurrentInitializer: { class_name: 'Orthogonal', config: { seed: 2 } },
      });
      l.build([2, 3, 2]);
      return l;
    };
    const zeros = [0, 1, 2].map(() => ({ shape: [2, 2], data: [0, 0, 0, 0] }));
    const a = mk();
    expect(() => a.forwardSync(x, { training: true, dropoutMask: zeros, recurrentDropoutMask: [{ shape: [1, 1], data: [1] }] })).toThrow(
      'recurrentDropoutMask',
    );
    expect(Array.from(a.forwardSync(x, { training: true }).output.data)).toEqual(Array.from(mk().forwardSync(x, { training: true }).output.data));
  });

  it('a backend registered again after a failed load is loaded afresh', async () => {
    let failNext = true;
    const make = (): GruBackend => {
      let loaded = false;
      return {
        specVersion: GRU_BACKEND_SPEC_VERSION,
        name: 'flaky-bug',
        priority: 5,
        async load() {
          if (failNext) throw new Error('no device');
          loaded = true;
        },
        isLoaded: () => loaded,
        supports: () => true,
        prepare: async (s, w) => referenceBackend.prepareSync!(s, w),
        prepareSync: (s, w) => referenceBackend.prepareSync!(s, w),
      };
    };
    registerBackend(make());
    const l = new GRU({ units: 2 });
    const first = await l.forward([[[1, 2]]]);
    expect(first.backend).toBe('reference');
    expect(first.skipped.find((s) => s.name === 'flaky-bug')?.reason).toBe('failed to load: no device');
    unregisterBackend('flaky-bug');
    failNext = false;
    registerBackend(make());
    expect((await l.forward([[[1, 2]]])).backend).toBe('flaky-bug');
  });

  it('sparsemax follows Keras 3.15.1 (its threshold sums the support cumulative sums)', () => {
    const y = new Float64Array(4);
    applyActivation(activationDef('sparsemax'), Float64Array.from([3, -1, 0, 2.9]), y, 0, 4);
    expect(Array.from(y)).toEqual([0, 0, 0, 0]); // keras.activations.sparsemax, 3.15.1
    applyActivation(activationDef('sparsemax'), Float64Array.from([3, -1, 0, 0.5]), y, 0, 4);
    expect(Array.from(y)).toEqual([1, 0, 0, 0]);
  });

  it('a built stateful layer has zero states, as Keras creates them in build()', () => {
    const l = new GRU({ units: 4, stateful: true });
    l.build([2, 5, 3]);
    expect(l.states?.[0].shape).toEqual([2, 4]);
    expect(Array.from(l.states![0].data)).toEqual(new Array(8).fill(0));
  });

  it('an activity regularizer sits right after dtype in the config, as in Keras', () => {
    const keys = Object.keys(new GRU({ units: 2, activityRegularizer: 'l2' }).getConfig());
    expect(keys.slice(0, 5)).toEqual(['name', 'trainable', 'dtype', 'activity_regularizer', 'return_sequences']);
    expect(Object.keys(new GRU({ units: 2 }).getConfig()).indexOf('activity_regularizer')).toBe(keys.indexOf('bias_regularizer') + 0);
  });

  it('a time-major layer takes a time-major mask [timesteps, batch]', () => {
    const x = [
      [[1], [2]],
      [[3], [4]],
      [[5], [6]],
    ]; // [T=3, B=2, 1]
    const l = new GRU({ units: 2, timeMajor: true, seed: 1 });
    expect(() =>
      l.forwardSync(x, {
        mask: [
          [1, 1, 0],
          [1, 1, 1],
        ],
      }),
    ).toThrow('`mask` must have shape (3, 2) (timesteps, batch), received (2, 3)');
    expect(
      l.forwardSync(x, {
        mask: [
          [1, 1],
          [1, 0],
          [0, 1],
        ],
      }).output.shape,
    ).toEqual([2, 2]);
  });

  it('GRUCell keeps working after the tf.keras API cached a single recurrent mask', () => {
    const c = new GRUCell({ units: 3, recurrentDropout: 0.5, seed: 1 });
    c.build(2);
    c.getRecurrentDropoutMaskForCell([[0.1, 0.2, 0.3]], true);
    expect(() => c.call([[1, 2]], [[[0.1, 0.2, 0.3]]], { training: true })).not.toThrow();
  });
});

describe('fromConfig for loaders', () => {
  it('build: false skips building (and the initializers) even when the config records the input shape', () => {
    const config = { ...new GRU({ units: 3 }).getConfig(), batch_input_shape: [null, 5, 2] };
    expect(GRU.fromConfig(config).built).toBe(true);
    expect(GRU.fromConfig(config, { build: false }).built).toBe(false);
  });

  it('a Keras 2 config without reset_after (Keras < 2.1.5) resets before the matmul', () => {
    const keras2: Record<string, unknown> = { ...new GRU({ units: 3 }).getConfig(), time_major: false, dtype: 'float32', implementation: 2 };
    delete keras2.reset_after;
    expect(GRU.fromConfig(keras2).config.resetAfter).toBe(false);
    expect(GRU.fromConfig({ ...keras2, reset_after: true }).config.resetAfter).toBe(true);
  });
});
