import { GruError } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';

/**
 * A small file can ask predict for an output no typed array can hold (RepeatVector or
 * UpSampling1D by 2^20, twice). The call is refused before allocating, naming the layer and the
 * size, instead of the engine's "RangeError: Invalid typed array length". Steps are of unknown
 * size here: known ones are refused at load already (predict-limits.test.ts).
 */
const input = (shape: (number | null)[]) => ({ class_name: 'InputLayer', config: { batch_input_shape: [null, ...shape], dtype: 'float32', name: 'in' } });

async function sequential(layers: Record<string, unknown>[]) {
  const modelJson = {
    format: 'layers-model',
    modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: 'Sequential', config: { name: 's', layers } } },
    weightsManifest: [],
  };
  return loadModel(new TextEncoder().encode(JSON.stringify(modelJson)), { files: {} });
}

describe('outputs too large for a typed array', () => {
  it('RepeatVector: predict names the layer and the size', async () => {
    const model = await sequential([
      input([null, 1]),
      { class_name: 'UpSampling1D', config: { name: 'u', size: 1 << 20 } },
      { class_name: 'Flatten', config: { name: 'f' } },
      { class_name: 'RepeatVector', config: { name: 'r2', n: 1 << 20 } },
    ]);
    const x = { shape: [1, 4, 1], data: new Float32Array(4) };
    for (const run of [() => model.predict(x), async () => model.predictSync(x)]) {
      const err = await run().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GruError);
      expect((err as Error).message).toBe(
        "Layer 'r2' (RepeatVector): its output needs 4398046511104 values (16384.00 GiB), beyond the 2147483647 values one typed array may hold.",
      );
    }
  });

  it('UpSampling1D: predict names the layer', async () => {
    const model = await sequential([
      input([null, 1]),
      { class_name: 'UpSampling1D', config: { name: 'u1', size: 1 << 20 } },
      { class_name: 'UpSampling1D', config: { name: 'u2', size: 1 << 20 } },
    ]);
    await expect(model.predict({ shape: [1, 4, 1], data: new Float32Array(4) })).rejects.toThrow(
      "Layer 'u2' (UpSampling1D): its output needs 4398046511104 values",
    );
  });
});
