import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
import { GRAPH_FIXTURES, graphFiles, graphInputs } from './graph-fixtures.js';
import { expectClose, expectedInOutputOrder } from './helpers.js';

/**
 * The graph fixtures (Keras 3.15.1 models of each pattern issue 14 lists: tagger, masked
 * Functional chains with op nodes, encoder-decoders with states, several inputs and outputs,
 * merges, shared layers, the simple layers) load from .keras, legacy .h5 and .weights.h5 and
 * predict every output as Keras did, on the async and the sync path.
 */
describe('graph models predict as Keras did, in every format', () => {
  for (const f of GRAPH_FIXTURES) {
    for (const { file, path, options } of graphFiles(f)) {
      it(`${file}: ${f.description}`, async () => {
        const model = await loadModel(path, options);
        const expected = expectedInOutputOrder(f, model.outputKeys);
        const want = (i: number) => expected[i];
        const outputs = await model.predictOutputs(graphInputs(f));
        expect(outputs.length).toBe(f.expected.length);
        outputs.forEach((o, i) => expectClose(o, want(i), `${file} output ${i}`));
        model.predictOutputsSync(graphInputs(f)).forEach((o, i) => expectClose(o, want(i), `${file} sync output ${i}`));
        expect(model.outputShapes.length).toBe(f.expected.length);
        if (f.output_names) {
          // Keyed as Keras's predict returned them; outputKeys sorted.
          const keyed = await model.predictDict(graphInputs(f));
          expect(Object.keys(keyed).sort()).toEqual([...f.output_names].sort());
          expect(model.outputKeys).toEqual([...f.output_names].sort());
          f.output_names.forEach((k, i) => expectClose(keyed[k], f.expected[i], `${file} output '${k}'`));
        }
      });
    }
  }

  it('round trip: every layer with weights gets exactly the weights Keras saved, in order', async () => {
    for (const f of GRAPH_FIXTURES) {
      for (const { path, options } of graphFiles(f)) {
        const model = await loadModel(path, options);
        const got = model.layers.filter((l) => l.getWeights().length > 0);
        expect(
          got.map((l) => l.name),
          path,
        ).toEqual(f.layers.map((l) => l.name));
        got.forEach((l, i) => {
          const ws = l.getWeights();
          expect(ws.map((w) => w.shape)).toEqual(f.layers[i].weights.map((w) => w.shape));
          ws.forEach((w, j) => expect(Array.from(w.data), `${path} ${l.name} #${j}`).toEqual(f.layers[i].weights[j].data));
        });
      }
    }
  });
});
