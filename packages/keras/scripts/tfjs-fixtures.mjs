// Writes real TF.js layers-model files (model.json + weights.bin, saved by tfjs-layers 4.22's own
// model.save through an IOHandler) for the loader's tests, with tfjs's own predictions; then
// `python test/fixtures/generate_fixtures.py tfjs_real` adds Keras's (`expected`):
//   node scripts/tfjs-fixtures.mjs        (from packages/keras; writes test/fixtures/tfjs_real/)
// tfjs is resolved from the workspace's benchmarks package (which depends on tfjs 4.22), so that
// @gru/keras does not carry it as a dependency. Weights are seeded (not trained) with non-zero
// biases, so every term of the math shows in the outputs.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '@gru/conformance/testing';

const here = dirname(fileURLToPath(import.meta.url));
const fromBenchmarks = createRequire(join(here, '..', '..', '..', 'benchmarks', 'package.json'));
const tf = fromBenchmarks('@tensorflow/tfjs-core');
fromBenchmarks('@tensorflow/tfjs-backend-cpu');
const tfl = fromBenchmarks('@tensorflow/tfjs-layers');
const LAYERS_VERSION = fromBenchmarks('@tensorflow/tfjs-layers/package.json').version;
await tf.setBackend('cpu');

// tfjs's default recurrent initializer (orthogonal) needs the chained tensor ops that only the
// full @tensorflow/tfjs bundle registers; the weights are seeded afterwards anyway.
const GRU_INIT = { recurrentInitializer: 'glorotUniform' };

const OUT = join(here, '..', 'test', 'fixtures', 'tfjs_real');

function seedWeights(model, seed) {
  const r = rng(seed);
  model.setWeights(
    model.getWeights().map((w) =>
      tf.tensor(
        Array.from({ length: w.size }, () => 1.2 * r() - 0.6),
        w.shape,
        'float32',
      ),
    ),
  );
}

const normal = (r, shape) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())) };
};

/** Token ids in [1, vocab) with zeros (padding) at the given [left, right] ends of each row. */
function tokens(r, batch, steps, vocab, pad) {
  const data = [];
  for (let b = 0; b < batch; b++) {
    const [left, right] = pad[b];
    for (let t = 0; t < steps; t++) data.push(t < left || t >= steps - right ? 0 : 1 + Math.floor(r() * (vocab - 1)));
  }
  return { shape: [batch, steps], data };
}

/** The model as tfjs-layers saves it (model.save through an IOHandler), in tfjs's own file layout. */
async function save(model, name) {
  const dir = join(OUT, name);
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

async function fixture(model, name, inputs, description, seed) {
  seedWeights(model, seed);
  await save(model, name);
  const xs = inputs.map((x) => tf.tensor(x.data, x.shape, 'float32'));
  const y = model.predict(xs.length === 1 ? xs[0] : xs);
  const ys = Array.isArray(y) ? y : [y];
  const expected = await Promise.all(ys.map(async (t) => ({ shape: t.shape, data: Array.from(await t.data()) })));
  writeFileSync(
    join(OUT, `${name}.json`),
    `${JSON.stringify(
      {
        name,
        description,
        files: [`${name}/model.json`, `${name}/weights.bin`],
        source: `saved by @tensorflow/tfjs-layers ${LAYERS_VERSION} (model.save); tfjs_expected = tfjs-layers' own predict on its cpu backend (float32)`,
        inputs,
        tfjs_expected: expected,
      },
      null,
      1,
    )}\n`,
  );
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const r = rng(14);

{
  const m = tfl.sequential({ name: 'tfjs_tagger' });
  m.add(tfl.layers.embedding({ inputDim: 9, outputDim: 3, maskZero: true, inputLength: 6 }));
  m.add(tfl.layers.gru({ ...GRU_INIT, units: 5, returnSequences: true, recurrentActivation: 'sigmoid' }));
  m.add(tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 3, activation: 'softmax' }) }));
  await fixture(
    m,
    'tfjs_tagger',
    [
      tokens(r, 3, 6, 9, [
        [0, 0],
        [0, 2],
        [1, 1],
      ]),
    ],
    'tfjs Sequential tagger: Embedding(maskZero) -> GRU(seq, sigmoid; tfjs has no resetAfter) -> TimeDistributed(Dense softmax).',
    1,
  );
}
{
  const m = tfl.sequential({ name: 'tfjs_bidir' });
  m.add(tfl.layers.embedding({ inputDim: 8, outputDim: 3, maskZero: true, inputLength: 5 }));
  m.add(tfl.layers.bidirectional({ layer: tfl.layers.gru({ ...GRU_INIT, units: 4, returnSequences: true }), mergeMode: 'ave' }));
  m.add(tfl.layers.gru({ ...GRU_INIT, units: 3 }));
  m.add(tfl.layers.dense({ units: 2, activation: 'tanh' }));
  await fixture(
    m,
    'tfjs_bidir',
    [
      tokens(r, 3, 5, 8, [
        [0, 0],
        [0, 2],
        [1, 0],
      ]),
    ],
    "tfjs Sequential: Embedding(maskZero) -> Bidirectional(GRU seq, tfjs's defaults: hardSigmoid, reset before), ave -> GRU -> Dense(tanh).",
    2,
  );
}
{
  const enc = tfl.input({ shape: [5, 3], name: 'encoder_in' });
  const dec = tfl.input({ shape: [4, 2], name: 'decoder_in' });
  const [, state] = tfl.layers.gru({ ...GRU_INIT, units: 6, returnState: true, recurrentActivation: 'sigmoid', name: 'encoder' }).apply(enc);
  const y = tfl.layers
    .gru({ ...GRU_INIT, units: 6, returnSequences: true, recurrentActivation: 'sigmoid', name: 'decoder' })
    .apply(dec, { initialState: [state] });
  const o = tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 3 }) }).apply(y);
  const m = tfl.model({ inputs: [enc, dec], outputs: o, name: 'tfjs_seq2seq' });
  await fixture(
    m,
    'tfjs_seq2seq',
    [normal(r, [2, 5, 3]), normal(r, [2, 4, 2])],
    "tfjs functional encoder-decoder: GRU(returnState) whose state is the decoder GRU's initialState -> TimeDistributed(Dense).",
    3,
  );
}
{
  const src = tfl.input({ shape: [5], name: 'source' });
  const tgt = tfl.input({ shape: [3, 2], name: 'target' });
  const h = tfl.layers.embedding({ inputDim: 8, outputDim: 3, maskZero: true }).apply(src);
  const [, f, b] = tfl.layers
    .bidirectional({ layer: tfl.layers.gru({ ...GRU_INIT, units: 4, returnState: true, recurrentActivation: 'sigmoid' }), name: 'bi_encoder' })
    .apply(h);
  const s = tfl.layers.concatenate({ name: 'states' }).apply([f, b]);
  const y = tfl.layers.gru({ ...GRU_INIT, units: 8, returnSequences: true, recurrentActivation: 'sigmoid', name: 'decoder' }).apply(tgt, { initialState: [s] });
  const o = tfl.layers.dense({ units: 2 }).apply(y);
  const m = tfl.model({ inputs: [src, tgt], outputs: o, name: 'tfjs_bidir_seq2seq' });
  await fixture(
    m,
    'tfjs_bidir_seq2seq',
    [
      tokens(r, 3, 5, 8, [
        [0, 0],
        [0, 2],
        [1, 0],
      ]),
      normal(r, [3, 3, 2]),
    ],
    "tfjs functional: Bidirectional(GRU, returnState) encoder over masked tokens, forward and backward states concatenated into the decoder GRU's initialState -> Dense.",
    4,
  );
}
console.error(`written to ${OUT}`);
