import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BidirectionalLayer, type EmbeddingLayer, loadModel, modelFromParsed, parseModel, type KerasModel, type LoadOptions } from '../src/index.js';
import { expectClose, FIXTURES, maxExcess, readJson, withoutSharedIds, type JsonTensor } from './helpers.js';

/** A fixture made by generate_fixtures.py: the files, the config, every weight, an input and Keras's outputs. */
interface Fixture {
  name: string;
  keras_version: string;
  files: string[];
  model_config: Record<string, unknown>;
  layers: { name: string; weights: { path: string; shape: number[]; data: number[] }[] }[];
  input: JsonTensor;
  expected: JsonTensor[];
}

const fixture = (name: string) => readJson<Fixture>(join(FIXTURES, `${name}.json`));

/** Each file of each fixture, with what it needs to load. */
const FILES: { fixture: string; file: string; format: string; options?: (f: Fixture) => LoadOptions }[] = [
  { fixture: 'k3_embed_stack', file: 'k3_embed_stack.keras', format: 'keras' },
  { fixture: 'k3_embed_stack', file: 'k3_embed_stack.weights.h5', format: 'keras-weights', options: (f) => ({ config: f.model_config }) },
  { fixture: 'k3_masked_bidir', file: 'k3_masked_bidir.keras', format: 'keras' },
  { fixture: 'k3_masked_bidir', file: 'k3_masked_bidir.h5', format: 'h5' },
  { fixture: 'k3_bidir_modes', file: 'k3_bidir_modes.keras', format: 'keras' },
  { fixture: 'k3_bidir_none', file: 'k3_bidir_none.keras', format: 'keras' },
  { fixture: 'k3_functional', file: 'k3_functional.keras', format: 'keras' },
  { fixture: 'k3_functional', file: 'k3_functional.weights.h5', format: 'keras-weights', options: (f) => ({ config: JSON.stringify(f.model_config) }) },
  { fixture: 'k3_functional', file: 'k3_functional.h5', format: 'h5' },
  { fixture: 'k2_hard_sigmoid', file: 'k2_hard_sigmoid.h5', format: 'h5' },
  { fixture: 'k2_hard_sigmoid', file: 'k2_hard_sigmoid.weights.h5', format: 'h5-weights', options: (f) => ({ config: f.model_config }) },
  { fixture: 'k2_embed_bidir', file: 'k2_embed_bidir.h5', format: 'h5' },
  { fixture: 'tfjs_embed_bidir', file: 'tfjs_embed_bidir/model.json', format: 'tfjs' },
];

async function load(entry: (typeof FILES)[number]): Promise<{ model: KerasModel; ref: Fixture }> {
  const ref = fixture(entry.fixture);
  return { model: await loadModel(join(FIXTURES, entry.file), entry.options?.(ref)), ref };
}

describe('every format loads and predicts as Keras did', () => {
  for (const entry of FILES) {
    it(`${entry.file}`, async () => {
      const { model, ref } = await load(entry);
      expect(model.format).toBe(entry.format);
      const outputs = await model.predictOutputs(ref.input);
      expect(outputs.length).toBe(ref.expected.length);
      outputs.forEach((o, i) => expectClose(o, ref.expected[i], `output ${i}`));
      const sync = model.predictOutputsSync(ref.input);
      sync.forEach((o, i) => expectClose(o, ref.expected[i], `sync output ${i}`));
    });
  }
});

describe('round trips: weights read from a file equal the ones Keras wrote', () => {
  for (const entry of FILES) {
    it(`${entry.file}`, async () => {
      const { model, ref } = await load(entry);
      const withWeights = model.layers.filter((l) => l.getWeights().length > 0);
      expect(withWeights.map((l) => l.name)).toEqual(ref.layers.map((l) => l.name));
      withWeights.forEach((layer, i) => {
        const want = ref.layers[i].weights;
        const got = layer.getWeights();
        expect(
          got.map((w) => w.shape),
          layer.name,
        ).toEqual(want.map((w) => w.shape));
        got.forEach((w, j) => expect(Array.from(w.data), want[j].path).toEqual(want[j].data));
      });
    });
  }

  it('layer configs are the ones in the file, and GRU configs survive core (getConfig)', async () => {
    const { model, ref } = await load(FILES[0]);
    const layers = (ref.model_config as { layers: { class_name: string; config: Record<string, unknown> }[] }).layers.slice(1);
    model.layers.forEach((l, i) => expect(withoutSharedIds(l.config)).toEqual(layers[i].config));
    for (const [i, l] of model.layers.entries()) {
      if (l.className === 'GRU') expect(model.getGRU(l.name).getConfig()).toEqual(layers[i].config);
    }
  });
});

describe('Keras semantics that differ between versions and layers', () => {
  it("Keras 2 files mean Keras 2's hard_sigmoid (reading them as Keras 3 would be off by far more than rounding)", async () => {
    const ref = fixture('k2_hard_sigmoid');
    const parsed = await parseModel(join(FIXTURES, 'k2_hard_sigmoid.h5'));
    expect(parsed.spec.compat).toBe('keras2');
    expectClose(await modelFromParsed(parsed).predict(ref.input), ref.expected[0]);
    const wrong = modelFromParsed({ ...parsed, spec: { ...parsed.spec, compat: 'keras3' } });
    expect(maxExcess(await wrong.predict(ref.input), ref.expected[0])).toBeGreaterThan(1e-4);
  });

  it('Keras 2 Bidirectional without backward_layer gets a go_backwards copy named backward_<name>', async () => {
    const { model } = await load(FILES.find((f) => f.file === 'k2_embed_bidir.h5') as (typeof FILES)[number]);
    const bi = model.getLayer('bidirectional') as BidirectionalLayer;
    expect(bi).toBeInstanceOf(BidirectionalLayer);
    expect(bi.forwardLayer.name).toBe('forward_gru_2');
    expect(bi.backwardLayer.name).toBe('backward_gru_2');
    expect(bi.backwardLayer.config.goBackwards).toBe(true);
    // Keras forces zero_output_for_mask = return_sequences on both wrapped layers.
    expect(bi.forwardLayer.config.zeroOutputForMask).toBe(true);
    expect(bi.backwardLayer.config.zeroOutputForMask).toBe(true);
    expect([...model.grus.keys()]).toEqual(['forward_gru_2', 'backward_gru_2', 'gru_3']);
  });

  it('Embedding(mask_zero) masks the padded steps: changing a padded step changes nothing, a kept step does', async () => {
    const { model, ref } = await load(FILES[0]);
    expect((model.getLayer('embedding') as EmbeddingLayer).maskZero).toBe(true);
    const x = ref.input;
    const base = await model.predict(x);
    // Row 1 is right-padded with two zeros; row 0 has none. Replacing a kept id changes row 0 only.
    const changed = { shape: x.shape, data: [...x.data] };
    changed.data[0] = changed.data[0] === 1 ? 2 : 1;
    const after = await model.predict(changed);
    const rowDiff = (r: number) => Math.max(...[0, 1].map((j) => Math.abs(after.data[r * 2 + j] - base.data[r * 2 + j])));
    expect(rowDiff(0)).toBeGreaterThan(1e-6);
    expect(rowDiff(1)).toBe(0);
  });

  it('merge_mode=None returns both directions; predict() asks for predictOutputs()', async () => {
    const { model, ref } = await load(FILES.find((f) => f.file === 'k3_bidir_none.keras') as (typeof FILES)[number]);
    expect(model.outputShapes).toEqual([
      [null, 2],
      [null, 2],
    ]);
    await expect(model.predict(ref.input)).rejects.toThrow(/has 2 outputs; use predictOutputs/);
  });
});
