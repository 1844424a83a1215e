import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GruLayer, loadModel } from '../src/index.js';
import { expectClose, readJson, SAVED, withoutSharedIds, type JsonTensor } from './helpers.js';

/**
 * The saved models shipped with the conformance cases: `keras.Sequential([Input((T, F)),
 * GRU(units), Dense(d)])` saved by Keras 3.15.1 as .keras and .weights.h5, with Keras's
 * prediction for a fixed input (see ../shared/keras-refs/README.md, "saved/").
 */
interface SavedCase {
  name: string;
  files: string[];
  model_config: Record<string, unknown> & { layers: { class_name: string; config: Record<string, unknown> }[] };
  weights_in_get_weights_order: { path: string; shape: number[]; data: number[] }[];
  h5_datasets: { path: string; shape: number[] }[];
  inputs: JsonTensor;
  expected_prediction: JsonTensor;
}

for (const name of ['gru_small', 'gru_small_reset_before']) {
  const ref = readJson<SavedCase>(join(SAVED, `${name}.json`));
  const gruConfig = ref.model_config.layers.find((l) => l.class_name === 'GRU')?.config as Record<string, unknown>;

  describe(`saved model ${name}`, () => {
    it('.keras: loads and predicts as Keras did (async and sync paths)', async () => {
      const model = await loadModel(join(SAVED, `${name}.keras`));
      expect(model.format).toBe('keras');
      expect(model.kerasVersion).toBe('3.15.1');
      expect(model.compat).toBe('keras3');
      expectClose(await model.predict(ref.inputs), ref.expected_prediction);
      expectClose(model.predictSync(ref.inputs), ref.expected_prediction);
    });

    it('.weights.h5 with the model config: loads and predicts as Keras did', async () => {
      const model = await loadModel(join(SAVED, `${name}.weights.h5`), { config: ref.model_config });
      expect(model.format).toBe('keras-weights');
      expectClose(await model.predict(ref.inputs), ref.expected_prediction);
    });

    it('round trip: every weight equals what Keras wrote, in get_weights order', async () => {
      for (const file of [`${name}.keras`, `${name}.weights.h5`]) {
        const model = await loadModel(join(SAVED, file), { config: file.endsWith('.keras') ? undefined : ref.model_config });
        const got = model.layers.flatMap((l) => l.getWeights());
        expect(got.map((w) => w.shape)).toEqual(ref.weights_in_get_weights_order.map((w) => w.shape));
        got.forEach((w, i) => expect(Array.from(w.data), ref.weights_in_get_weights_order[i].path).toEqual(ref.weights_in_get_weights_order[i].data));
      }
    });

    it('round trip: the GRU is a @gru/core layer whose config equals the one Keras wrote', async () => {
      const model = await loadModel(join(SAVED, `${name}.keras`));
      const layer = model.getLayer('gru');
      expect(layer).toBeInstanceOf(GruLayer);
      const gru = model.getGRU('gru');
      expect(gru.getConfig()).toEqual(withoutSharedIds(gruConfig));
      expect(gru.getWeights().map((w) => w.shape)).toEqual(ref.h5_datasets.filter((d) => d.path.startsWith('layers/gru/')).map((d) => d.shape));
      const saved = withoutSharedIds(model.getConfig()) as { config: { layers: { config: unknown }[] } };
      expect(saved.config.layers.map((l) => l.config)).toEqual(withoutSharedIds(ref.model_config.layers.map((l) => l.config)));
    });

    it('the GRU runs on its own, giving what the model feeds the Dense layer', async () => {
      const model = await loadModel(join(SAVED, `${name}.keras`));
      const gru = model.getGRU('gru');
      const direct = await gru.forward(ref.inputs);
      const dense = model.getLayer('dense');
      const viaDense = dense.applySync({ tensor: direct.output, mask: null }, {});
      expectClose(viaDense.tensor, ref.expected_prediction, 'GRU then Dense, layer by layer');
      expect(direct.backend).toBe('reference');
    });
  });
}
