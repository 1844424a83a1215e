import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
import { expectClose, FIXTURES, readBytes, readJson, type JsonTensor } from './helpers.js';

const DIR = join(FIXTURES, 'tfjs_embed_bidir');
const SHARDS = ['group1-shard1of2.bin', 'group1-shard2of2.bin'];
const ref = readJson<{ input: JsonTensor; expected: JsonTensor[] }>(join(FIXTURES, 'tfjs_embed_bidir.json'));
const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const shards = () => Object.fromEntries(SHARDS.map((s) => [s, readBytes(join(DIR, s))]));
const modelJson = () => JSON.parse(readFileSync(join(DIR, 'model.json'), 'utf8'));

/** A one-layer model: Dense(2, no bias) on 2 features, so predict([[1,0],[0,1]]) returns its kernel. */
function denseModel(weight: Record<string, unknown>, version = '2.15.0') {
  return {
    format: 'layers-model',
    modelTopology: {
      keras_version: version,
      model_config: {
        class_name: 'Sequential',
        config: {
          name: 'tiny',
          layers: [
            { class_name: 'InputLayer', config: { batch_input_shape: [null, 2], dtype: 'float32', name: 'x' } },
            { class_name: 'Dense', config: { name: 'dense', units: 2, activation: 'linear', use_bias: false, dtype: 'float32' } },
          ],
        },
      },
    },
    weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'dense/kernel', shape: [2, 2], dtype: 'float32', ...weight }] }],
  };
}

const IDENTITY = { shape: [2, 2], data: [1, 0, 0, 1] };

describe('TF.js layers format', () => {
  it('a nested model (the Sequential used as a layer of a Functional) is refused as unsupported, naming it', async () => {
    const json = modelJson();
    const inner = json.modelTopology.model_config;
    inner.config.name = 'encoder';
    json.modelTopology.model_config = {
      class_name: 'Functional',
      config: {
        name: 'outer',
        layers: [
          { class_name: 'InputLayer', name: 'x', config: { batch_input_shape: [null, 5], dtype: 'float32', name: 'x' }, inbound_nodes: [] },
          { ...inner, name: 'encoder', inbound_nodes: [[['x', 0, 0, {}]]] },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['encoder', 0, 0]],
      },
    };
    await expect(loadModel(encode(json), { files: shards() })).rejects.toThrow(
      /layer 'encoder' is a model used as a layer \(a nested model\), which gru does not support in TensorFlow.js files/,
    );
  });

  it("tfjs-layers' own layout: topology without model_config, weights named <layer>/<weight>", async () => {
    const json = modelJson();
    json.modelTopology = { ...json.modelTopology.model_config, keras_version: 'tfjs-layers 4.22.0', backend: 'tensor_flow.js' };
    json.generatedBy = 'TensorFlow.js tfjs-layers v4.22.0';
    for (const w of json.weightsManifest[0].weights) w.name = w.name.replace('/gru_cell/', '/');
    const model = await loadModel(encode(json), { files: shards() });
    expect(model.compat).toBe('keras2');
    expectClose(await model.predict(ref.input), ref.expected[0]);
  });

  it('weights are matched by name, not position: a reordered manifest loads the same', async () => {
    const json = modelJson();
    const weights = json.weightsManifest[0].weights as { name: string; shape: number[] }[];
    // Swap the two Dense weights in the manifest and their bytes in the shards.
    const files = shards();
    const all = new Uint8Array([...files[SHARDS[0]], ...files[SHARDS[1]]]);
    const sizes = weights.map((w) => 4 * w.shape.reduce((a, b) => a * b, 1));
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const n = weights.length;
    const order = [...weights.keys()].map((i) => (i === n - 2 ? n - 1 : i === n - 1 ? n - 2 : i));
    const reordered = new Uint8Array(all.length);
    let at = 0;
    for (const i of order) {
      reordered.set(all.subarray(offsets[i], offsets[i] + sizes[i]), at);
      at += sizes[i];
    }
    json.weightsManifest[0].weights = order.map((i) => weights[i]);
    json.weightsManifest[0].paths = ['all.bin'];
    const model = await loadModel(encode(json), { files: { 'all.bin': reordered } });
    expectClose(await model.predict(ref.input), ref.expected[0]);
  });

  it('float16-quantized weights are decoded exactly (normal, negative, largest, subnormal)', async () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]);
    const model = await loadModel(encode(denseModel({ quantization: { dtype: 'float16' } })), { files: { 'w.bin': new Uint8Array(halves.buffer) } });
    expect(Array.from((await model.predict(IDENTITY)).data)).toEqual([1, -2, 65504, Math.fround(2 ** -24)]);
  });

  it('uint8 and uint16 affine quantization: value = q * scale + min', async () => {
    const q8 = new Uint8Array([0, 1, 128, 255]);
    const m8 = await loadModel(encode(denseModel({ quantization: { dtype: 'uint8', scale: 0.5, min: -1 } })), { files: { 'w.bin': q8 } });
    expect(Array.from((await m8.predict(IDENTITY)).data)).toEqual([-1, -0.5, 63, 126.5]);
    const q16 = new Uint16Array([0, 2, 40000, 65535]);
    const m16 = await loadModel(encode(denseModel({ quantization: { dtype: 'uint16', scale: 0.25, min: 3 } })), {
      files: { 'w.bin': new Uint8Array(q16.buffer) },
    });
    expect(Array.from((await m16.predict(IDENTITY)).data)).toEqual([3, 3.5, 10003, 16386.75]);
  });

  it('refuses graph models, bad quantization, and manifests that do not match the topology', async () => {
    await expect(loadModel(encode({ ...denseModel({}), format: 'graph-model' }), { files: {} })).rejects.toThrow(
      /is a TF\.js "graph-model"; only TF\.js layers models/,
    );
    await expect(loadModel(encode(denseModel({ quantization: { dtype: 'int4' } })), { files: {} })).rejects.toThrow(
      /quantization dtype "int4" is not supported/,
    );
    await expect(loadModel(encode(denseModel({ quantization: { dtype: 'uint8' } })), { files: {} })).rejects.toThrow(/needs finite `scale` and `min`/);
    await expect(loadModel(encode(denseModel({ name: 'other/kernel' })), { files: {} })).rejects.toThrow(
      /layer 'dense' needs kernel \[2, 2\]; the weights manifest has none \(names: other\/kernel\)/,
    );
    await expect(loadModel(encode(denseModel({ shape: [2, 3] })), { files: {} })).rejects.toThrow(
      /weight 'dense\/kernel' has shape \[2, 3\], but layer 'dense' needs kernel of shape \[2, 2\]/,
    );
    const extra = denseModel({});
    extra.weightsManifest[0].weights.push({ name: 'dense/kernel_2', shape: [1], dtype: 'float32' });
    await expect(loadModel(encode(extra), { files: {} })).rejects.toThrow(/lists weights no layer of the model uses: dense\/kernel_2/);
    const twice = denseModel({});
    twice.weightsManifest[0].weights.push({ name: 'copy/dense/kernel', shape: [2, 2], dtype: 'float32' });
    await expect(loadModel(encode(twice), { files: {} })).rejects.toThrow(/has 2 candidates \(dense\/kernel, copy\/dense\/kernel\)/);
  });
});
