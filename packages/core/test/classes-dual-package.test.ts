// The ESM and CJS builds loaded in one process are two copies of every class (an ESM app that
// imports @gru/core and a CJS dependency that requires it). Core's own checks of its classes
// (a SeedGenerator seed, serializeLayer telling a GRU from a GRUCell) must accept objects made by
// the other copy, as `instanceof GruError` does (errors-dual-package.test.ts).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as esm from '../dist/index.js';

const cjs = createRequire(import.meta.url)('../dist/index.cjs') as typeof esm;

const glorot = (seed: unknown) => ({ class_name: 'GlorotUniform', config: { seed } });

describe('SeedGenerator across the ESM and CJS builds', () => {
  it('are two copies of the class', () => {
    expect(cjs.SeedGenerator).not.toBe(esm.SeedGenerator);
  });

  it('an initializer of one copy takes a SeedGenerator of the other, and draws what its own would', () => {
    const own = cjs.getInitializer(glorot(new cjs.SeedGenerator(7))).generate([3, 2], 'float32');
    const other = cjs.getInitializer(glorot(new esm.SeedGenerator(7))).generate([3, 2], 'float32');
    expect(Array.from(other)).toEqual(Array.from(own));
    // The generator advances: a second call draws new values, as with the copy's own generator.
    const init = esm.getInitializer(glorot(new cjs.SeedGenerator(7)));
    const first = Array.from(init.generate([3, 2], 'float32'));
    expect(first).toEqual(Array.from(own));
    expect(Array.from(init.generate([3, 2], 'float32'))).not.toEqual(first);
  });

  it('serializes as a SeedGenerator, not as a plain copy of its fields', () => {
    const seed = esm.serializeInitializer(esm.getInitializer(glorot(new cjs.SeedGenerator(7))));
    expect(seed.config.seed).toEqual({
      module: 'keras.random',
      class_name: 'SeedGenerator',
      config: { seed: 7, name: 'seed_generator' },
      registered_name: null,
    });
  });

  it('a GRU of one copy takes an initializer seeded by the other copy', () => {
    const make = (seed: unknown) => {
      const layer = new cjs.GRU({ units: 2, kernelInitializer: glorot(seed) });
      layer.build([1, 2, 3]);
      return layer.getWeights()[0].data;
    };
    expect(Array.from(make(new esm.SeedGenerator(7)))).toEqual(Array.from(make(new cjs.SeedGenerator(7))));
  });

  it('instanceof holds across copies, and not for look-alikes', () => {
    expect(new cjs.SeedGenerator(1) instanceof esm.SeedGenerator).toBe(true);
    expect(new esm.SeedGenerator(1) instanceof cjs.SeedGenerator).toBe(true);
    const lookAlike = { seed: 1, initialSeed: 1, nextUint32: () => 0, uniform: () => 0, normal: () => 0 };
    for (const v of [lookAlike, null, undefined, 1, new cjs.GRU({ units: 1 })]) {
      expect(v instanceof esm.SeedGenerator).toBe(false);
    }
    expect(() => esm.getInitializer(glorot(lookAlike))).toThrow(/`seed` argument should be an instance of `keras.random.SeedGenerator\(\)`/);
  });
});

describe('GRU and GRUCell across the ESM and CJS builds', () => {
  it('instanceof holds across copies for each class, and only for its own class', () => {
    const gru = new cjs.GRU({ units: 2 });
    const cell = new cjs.GRUCell({ units: 2 });
    expect(gru instanceof esm.GRU).toBe(true);
    expect(cell instanceof esm.GRUCell).toBe(true);
    expect(gru.cell instanceof esm.GRUCell).toBe(true);
    expect(gru instanceof esm.GRUCell).toBe(false);
    expect(cell instanceof esm.GRU).toBe(false);
    expect({ cell: gru.cell, units: 2 } instanceof esm.GRU).toBe(false);
  });

  it('serializeLayer of one copy serializes a built GRU and GRUCell of the other as its own does', () => {
    const gru = new cjs.GRU({ units: 2, name: 'g' });
    gru.build([4, 5, 3]);
    const ser = esm.serializeLayer(gru);
    expect(ser).toEqual(cjs.serializeLayer(gru));
    expect(ser.class_name).toBe('GRU');
    expect(ser.build_config).toEqual({ input_shape: [4, 5, 3] });

    const cell = new esm.GRUCell({ units: 2, name: 'c' });
    cell.build(3);
    expect(cjs.serializeLayer(cell)).toEqual(esm.serializeLayer(cell));
    expect(cjs.serializeLayer(cell).class_name).toBe('GRUCell');
  });

  it('round trips through the other copy: serializeLayer, deserializeLayer and GRU.fromConfig', () => {
    const gru = new esm.GRU({ units: 2, name: 'g', returnSequences: true, seed: 3 });
    gru.build([1, 4, 3]);
    const back = cjs.deserializeLayer(esm.serializeLayer(gru));
    expect(back).toBeInstanceOf(cjs.GRU);
    expect(back.getConfig()).toEqual(gru.getConfig());
    expect(back.built).toBe(true);
    expect(esm.serializeLayer(back)).toEqual(esm.serializeLayer(gru));

    const again = cjs.GRU.fromConfig(gru.getConfig());
    expect(again.getConfig()).toEqual(gru.getConfig());
    expect(esm.serializeLayer(again).class_name).toBe('GRU');
  });
});
