import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
import { GRAPH, GRAPH_FIXTURES, type GraphFixture } from './graph-fixtures.js';
import { expectClose } from './helpers.js';

const fixture = (name: string) => GRAPH_FIXTURES.find((f) => f.name === name) as GraphFixture;
const firstRows = (t: { shape: number[]; data: number[] }, n: number) => {
  const per = t.data.length / t.shape[0];
  return { shape: [n, ...t.shape.slice(1)], data: t.data.slice(0, n * per) };
};

/** A weightless TF.js layers model: InputLayer (batch, steps, 4) -> one layer, and the given outputs. */
async function oneLayer(class_name: string, outputs: [string, number, number][] = [['pool', 0, 0]], dtype = 'float32') {
  const layers = [
    { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, null, 4], dtype }, inbound_nodes: [] },
    { class_name, name: 'pool', config: class_name === 'Dropout' ? { name: 'pool', rate: 0.5 } : { name: 'pool' }, inbound_nodes: [[['x', 0, 0, {}]]] },
  ];
  const model = { class_name: 'Functional', config: { name: 'm', layers, input_layers: [['x', 0, 0]], output_layers: outputs } };
  const json = { format: 'layers-model', modelTopology: { keras_version: '2.15.0', model_config: model }, weightsManifest: [] };
  return loadModel(new TextEncoder().encode(JSON.stringify(json)), { files: {} });
}

describe('predict checks its inputs before any layer runs', () => {
  it('refuses inputs with different batch sizes with Keras\'s "Data cardinality is ambiguous", naming the sizes', async () => {
    const [e, d] = fixture('seq2seq').inputs;
    const model = await loadModel(join(GRAPH, 'seq2seq.keras'));
    const message =
      /Data cardinality is ambiguous\. Make sure all arrays contain the same number of samples\. 'x' sizes: 2, 1 \(inputs 'encoder_in', 'decoder_in'\)/;
    await expect(model.predict([e, firstRows(d, 1)])).rejects.toThrow(message);
    await expect(model.predict({ encoder_in: e, decoder_in: firstRows(d, 1) })).rejects.toThrow(message);
    expect(() => model.predictSync([e, firstRows(d, 1)])).toThrow(message);
  });

  it('refuses a list of several tensors for a one-input model, and takes a list of one', async () => {
    const f = fixture('tagger');
    const model = await loadModel(join(GRAPH, 'tagger.keras'));
    await expect(model.predict([f.inputs[0], f.inputs[0]])).rejects.toThrow(/Layer "tagger" expects 1 input\(s\), but it received 2 input tensors\./);
    expectClose(await model.predict([f.inputs[0]]), f.expected[0]);
  });

  it.each([
    ['GlobalAveragePooling1D', 'Keras returns NaN there (a mean over no steps), which gru does not return'],
    ['GlobalMaxPooling1D', 'Keras fails there too (a max over no steps)'],
  ])('%s refuses an input of 0 steps instead of returning NaN or -Infinity, saying what Keras does', async (className, keras) => {
    const model = await oneLayer(className);
    await expect(model.predict({ shape: [2, 0, 4], data: [] })).rejects.toThrow(
      `Layer 'pool' (${className}): received an input with 0 steps (shape [2, 0, 4]); ${className} needs at least one step (${keras}).`,
    );
    const y = await model.predict({ shape: [1, 1, 4], data: [1, 2, 3, 4] });
    expect(Array.from(y.data)).toEqual([1, 2, 3, 4]);
  });
});

describe("predict's outputs belong to the caller", () => {
  it('copies a tensor listed twice among the outputs, or handed through from an input', async () => {
    const model = await oneLayer(
      'Dropout',
      [
        ['pool', 0, 0],
        ['pool', 0, 0],
        ['x', 0, 0],
      ],
      'float64',
    );
    const x = { shape: [1, 2, 4], data: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
    for (const outs of [await model.predictOutputs(x), model.predictOutputsSync(x)]) {
      outs[0].data[0] = 99;
      expect(outs.map((o) => o.data[0])).toEqual([99, 1, 1]);
      outs[2].data[1] = 99;
      expect(x.data[1]).toBe(2);
    }
  });
});
