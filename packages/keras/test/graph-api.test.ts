import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, supportedLayers, supportedOps, UnsafeModelError, UnsupportedLayerError } from '../src/index.js';
import { GRAPH, GRAPH_FIXTURES, type GraphFixture } from './graph-fixtures.js';
import type { Tensor } from '@gru/core';
import { expectClose, FIXTURES, readJson } from './helpers.js';

const fixture = (name: string) => GRAPH_FIXTURES.find((f) => f.name === name) as GraphFixture;
const weightsOf = (name: string) => join(GRAPH, `${name}.weights.h5`);
type Layer = { class_name: string; name: string; module?: string; registered_name?: string | null; config: Record<string, any>; inbound_nodes: any[] };
const layersOf = (c: Record<string, any>) => c.layers as Layer[];
const configOf = (name: string) => structuredClone(fixture(name).model_config) as Record<string, any>;
const named = (c: Record<string, any>, name: string) => layersOf(c).find((l) => l.name === name) as Layer;

describe('inputs and outputs of a Functional graph', () => {
  it('takes several inputs as a list or by input name, and returns every output', async () => {
    const f = fixture('seq2seq');
    const model = await loadModel(join(GRAPH, 'seq2seq.keras'));
    expect(model.inputs.map((i) => i.name)).toEqual(['encoder_in', 'decoder_in']);
    const [e, d] = f.inputs;
    expectClose(await model.predict([e, d]), f.expected[0]);
    expectClose(await model.predict({ decoder_in: d, encoder_in: e }), f.expected[0]);
    await expect(model.predict(e)).rejects.toThrow(/has 2 inputs \(encoder_in, decoder_in\); pass a list of 2 tensors or an object keyed by input name/);
    await expect(model.predict({ encoder_in: e })).rejects.toThrow(/takes inputs 'encoder_in', 'decoder_in'; received keys 'encoder_in'/);
    await expect(model.predict([d, e])).rejects.toThrow(/expects input 'encoder_in' of shape \[null, 5, 3\]/);
  });

  it('a nested model (a Sequential used as a layer) runs its layers, its mask reaching the layers after it', async () => {
    const f = fixture('nested_sequential');
    const model = await loadModel(join(GRAPH, 'nested_sequential.keras'));
    expect(model.layers.map((l) => l.name)).toEqual(['encoder/embedding', 'encoder/gru', 'outer_gru', 'head']);
    expectClose(await model.predict(f.inputs[0]), f.expected[0]);
    // Keras's outputs differ from the unmasked ones: the encoder's Embedding(mask_zero) masks outer_gru.
    const c = configOf('nested_sequential');
    named(c, 'encoder').config.layers[1].config.mask_zero = false;
    const unmasked = await (await loadModel(weightsOf('nested_sequential'), { config: c })).predict(f.inputs[0]);
    expect(Array.from(unmasked.data).some((v, i) => Math.abs(v - f.expected[0].data[i]) > 1e-3)).toBe(true);
  });

  it("summary shows a nested model called twice as one row with both calls' inputs, as Keras does", async () => {
    const s = (await loadModel(join(GRAPH, 'nested_shared.keras'))).summary();
    expect([...s.matchAll(/^│ (\S+) \(/gm)].map((m) => m[1])).toEqual(['left', 'right', 'shared', 'concatenate_1', 'score']);
    expect(s).toMatch(/│ shared \(Sequential\) +│ \(None, 3\) +│ +123 │ left\[0\]\[0\], right\[0\]\[0\] +│/);
    expect(s).toMatch(/│ concatenate_1 \(Concatenate\) +│ \(None, 6\) +│ +0 │ shared\[0\]\[0\], shared\[1\]\[0\] +│/);
    const two = (await loadModel(join(GRAPH, 'nested_functional.keras'))).summary();
    expect(two).toMatch(/│ mid \(Functional\) +│ \(None, 2\) +│ +137 │ x\[0\]\[0\], y\[0\]\[0\] +│/);
    expect(two).toMatch(/│ add \(Add\) +│ \(None, 2\) +│ +0 │ mid\[0\]\[0\], skip\[0\]\[0\] +│/);
  });

  it('a nested model built on a dict of inputs is refused as unsupported, saying so', async () => {
    const c = configOf('nested_functional');
    const mid = named(c, 'mid').config;
    mid.input_layers = { seq: mid.input_layers[0], meta: mid.input_layers[1] };
    const err = await loadModel(weightsOf('nested_functional'), { config: c }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.message).toMatch(/nested model 'mid' \(Functional\) takes or returns a dict of tensors, which gru does not support for a nested model/);
  });

  it('a nested model called with an explicit mask= is refused as unsupported, saying so', async () => {
    const c = configOf('nested_sequential');
    const node = named(c, 'encoder').inbound_nodes[0];
    node.kwargs = { ...node.kwargs, mask: node.args[0] };
    const err = await loadModel(weightsOf('nested_sequential'), { config: c }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.message).toMatch(/nested model 'encoder' \(Sequential\) is called with an explicit mask=, which gru does not support for a nested model/);
  });

  it('a model built on dicts takes its inputs keyed and returns its outputs keyed, as Keras (keys sorted, as Keras sorts them)', async () => {
    const f = fixture('dict_io');
    const model = await loadModel(join(GRAPH, 'dict_io.keras'));
    // The file lists {'sequence', 'meta'} and {'reg', 'cls'}; Keras's model.inputs/outputs sort them.
    expect(model.inputKeys).toEqual(['meta', 'sequence']);
    expect(model.inputs.map((i) => i.name)).toEqual(['meta_in', 'seq']);
    expect(model.outputKeys).toEqual(['cls', 'reg']);
    const x = { meta: f.inputs[1], sequence: f.inputs[0] };
    const y = await model.predictDict(x);
    expect(Object.keys(y)).toEqual(['cls', 'reg']);
    expectClose(y.cls, f.expected[1]);
    expectClose(model.predictDictSync(x).reg, f.expected[0]);
    const [cls, reg] = await model.predictOutputs(x);
    expectClose(cls, f.expected[1]);
    expectClose(reg, f.expected[0]);
    await expect(model.predict(x)).rejects.toThrow(/returns a dict of outputs \('cls', 'reg'\); use predictDict\(\)/);
    await expect(model.predictOutputs(f.inputs)).rejects.toThrow(/built on a dict of inputs; pass an object keyed 'meta', 'sequence', received a list of 2/);
    await expect(model.predictOutputs({ seq: f.inputs[0], meta_in: f.inputs[1] })).rejects.toThrow(
      /takes inputs 'meta', 'sequence'; received keys 'seq', 'meta_in'/,
    );
    const plain = await loadModel(join(GRAPH, 'seq2seq.keras'));
    expect(plain.outputKeys).toBeUndefined();
    await expect(plain.predictDict(fixture('seq2seq').inputs)).rejects.toThrow(/returns a list of outputs, not a dict/);
  });

  it('dict keys that name Object.prototype members (__proto__, constructor, toString) are own properties, in and out', async () => {
    const f = fixture('dict_io');
    const c = configOf('dict_io');
    c.input_layers = JSON.parse('{"__proto__": ["seq", 0, 0], "constructor": ["meta_in", 0, 0]}');
    c.output_layers = JSON.parse('{"toString": ["reg", 0, 0], "__proto__": ["cls", 0, 0]}');
    const model = await loadModel(weightsOf('dict_io'), { config: c });
    const x = Object.fromEntries([
      ['__proto__', f.inputs[0]],
      ['constructor', f.inputs[1]],
    ]);
    const y = await model.predictDict(x);
    expect(Object.getPrototypeOf(y)).toBe(Object.prototype);
    expect(Object.keys(y).sort()).toEqual(['__proto__', 'toString']);
    const proto = '__proto__';
    expect(Object.hasOwn(y, proto)).toBe(true);
    expectClose(y[proto], f.expected[1]);
    expectClose(model.predictDictSync(x).toString as unknown as Tensor, f.expected[0]);
    expect(JSON.parse(JSON.stringify(y))[proto].shape).toEqual(f.expected[1].shape);
  });

  it('dict keys are sorted as Python sorts them (by code point), not in JavaScript object order (integer-like keys first)', async () => {
    const f = fixture('dict_io');
    const c = configOf('dict_io');
    // Keras 3.15.1 (model.outputs; predict on jax) orders them '10', '2', 'z'; Object.keys gives '2', '10', 'z'.
    c.output_layers = JSON.parse('{"z": ["reg", 0, 0], "2": ["cls", 0, 0], "10": ["reg", 0, 0]}');
    const three = await loadModel(weightsOf('dict_io'), { config: c });
    expect(three.outputKeys).toEqual(['10', '2', 'z']);
    const outs = await three.predictOutputs({ meta: f.inputs[1], sequence: f.inputs[0] });
    expectClose(outs[0], f.expected[0]);
    expectClose(outs[1], f.expected[1]);
    expectClose(outs[2], f.expected[0]);
    c.output_layers = JSON.parse('{"\\uffff": ["reg", 0, 0], "\\ud83d\\ude00": ["cls", 0, 0]}');
    expect((await loadModel(weightsOf('dict_io'), { config: c })).outputKeys).toEqual(['\uffff', '\u{1f600}']);
  });

  it('predict refuses a multi-output model; predictOutputs returns each output', async () => {
    const f = fixture('bidir_seq2seq');
    const model = await loadModel(join(GRAPH, 'bidir_seq2seq.keras'));
    await expect(model.predict(f.inputs)).rejects.toThrow(/has 2 outputs; use predictOutputs\(\)/);
    const outs = await model.predictOutputs(f.inputs);
    expect(outs.map((o) => o.shape)).toEqual(f.expected.map((e) => e.shape));
    expect(model.outputShapes).toEqual([
      [null, 3, 2],
      [null, 8],
    ]);
  });

  it('summary prints the graph as Keras does: layer (type), output shape, params, connected to', async () => {
    const model = await loadModel(join(GRAPH, 'seq2seq.keras'));
    const s = model.summary();
    expect(s).toMatch(/┃ Layer \(type\) +┃ Output Shape +┃ Param # ┃ Connected to +┃/);
    expect(s).toMatch(/│ encoder_in \(InputLayer\) +│ \(None, 5, 3\) +│ +0 │ - +│/);
    expect(s).toMatch(/│ encoder \(GRU\) +│ \[\(None, 6\), \(None, 6\)\] +│ +198 │ encoder_in\[0\]\[0\] +│/);
    expect(s).toMatch(/│ decoder \(GRU\) +│ \(None, 4, 6\) +│ +180 │ decoder_in\[0\]\[0\], encoder\[0\]\[1\] +│/);
    expect(s).toMatch(/Total params: 399 /);
  });

  describe("summary() prints what Keras 3.15.1's model.summary() prints (loaded with compile=False), cell for cell", () => {
    const printed = readJson<{ summaries: Record<string, { title: string; rows: string[][]; totals: string[] }> }>(join(FIXTURES, 'summaries.json')).summaries;
    const cellsOf = (summary: string) =>
      summary
        .split('\n')
        .filter((line) => line[0] === '│' || line[0] === '┃')
        .map((line) =>
          line
            .split(/[│┃]/)
            .slice(1, -1)
            .map((cell) => cell.trim()),
        );
    const cases: Record<string, string> = {
      summary_totals: 'a fitted Sequential: thousands separators, an adapted Normalization counted as non-trainable, no optimizer variables',
      summary_chain: 'a Functional chain: no "Connected to" column',
      summary_shared: "a shared layer, a Bidirectional and a nested model: one row per layer with every call's inputs",
      summary_outputs: 'a chain whose outputs are taken along it (GRU return_state): still no "Connected to" column',
      summary_nested_outputs: 'a nested model of two outputs, one read: its row shows both, as Keras prints it',
    };
    for (const [name, what] of Object.entries(cases)) {
      it(`${name}: ${what}`, async () => {
        const keras = printed[name];
        const summary = (await loadModel(join(FIXTURES, `${name}.keras`))).summary();
        const lines = summary.split('\n');
        expect(lines[0]).toBe(keras.title);
        expect(cellsOf(summary)).toEqual(keras.rows);
        expect(lines.slice(-3)).toEqual(keras.totals);
      });
    }
  });

  it("summary lists the rows in Keras's model.layers order, op nodes included (their tensors appear in 'Connected to')", async () => {
    const s = (await loadModel(join(GRAPH, 'gru_mha.keras'))).summary();
    // As Keras 3.15.1 prints gru_mha: the second input after gru_16, the NotEqual op as a layer.
    const order = ['tokens', 'embedding_7', 'not_equal_20', 'gru_15', 'multi_head_attention', 'gru_16', 'queries', 'dense_13', 'multi_head_attention_1'];
    const names = [...s.matchAll(/^│ (\S+) \(/gm)].map((m) => m[1]);
    expect(names).toEqual(order);
    expect(s).toMatch(/│ not_equal_20 \(NotEqual\) +│ \(None, 5\) +│ +0 │ tokens\[0\]\[0\] +│/);
    expect(s).toMatch(/│ gru_15 \(GRU\) +│ \(None, 5, 4\) +│ +120 │ embedding_7\[0\]\[0\], not_equal_20\[0\]\[0\] +│/);
  });

  it('a shared layer is one layer with one set of weights, called twice', async () => {
    const model = await loadModel(join(GRAPH, 'shared_gru.keras'));
    expect(model.layers.filter((l) => l.name === 'shared').length).toBe(1);
    // As Keras prints it: one row, the weights counted once, every call's inputs.
    expect(model.summary()).toMatch(
      /│ shared \(GRU\) +│ \(None, 4, 3\) +│ +63 │ masking_1\[0\]\[0\], any_6\[0\]\[0\], masking_2\[0\]\[0\], any_7\[0\]\[0\] +│/,
    );
    expect(model.summary()).not.toMatch(/call of/);
  });

  it('lists the layers and ops it runs', () => {
    expect(supportedLayers()).toEqual(expect.arrayContaining(['GRU', 'Bidirectional(GRU)', 'TimeDistributed', 'Conv1D', 'MultiHeadAttention', 'Dot']));
    expect(supportedOps()).toEqual(expect.arrayContaining(['NotEqual', 'Any', 'LogicalOr', 'LogicalAnd', 'ExpandDims', 'ZerosLike', 'Concatenate', 'Cast']));
  });
});

/** A Keras 3 Functional config rewritten as Keras 2 writes it: inbound lists, states as extra inputs, no op nodes or mask= arguments. */
function asKeras2(config: Record<string, any>): Record<string, any> {
  const c = structuredClone(config);
  const ref = (t: any) => [...t.config.keras_history, {}];
  c.layers = layersOf(c)
    .filter((l) => !(l.module ?? '').startsWith('keras.src.ops'))
    .map((l) => {
      const nodes = l.inbound_nodes.map((n: any) => {
        const first = n.args[0];
        const refs = Array.isArray(first) ? first.map(ref) : [ref(first)];
        const states = n.kwargs.initial_state;
        if (states) refs.push(...(Array.isArray(states) ? states : [states]).map(ref));
        return refs;
      });
      const { module: _m, registered_name: _r, build_config: _b, ...rest } = l as any;
      // A nested Functional model is rewritten too; a nested Sequential's config has no calls.
      if (l.class_name === 'Functional') rest.config = asKeras2(l.config);
      return { ...rest, inbound_nodes: nodes };
    });
  return c;
}

describe('Keras 2 Functional configs: inbound lists, implicit masks, states as extra inputs', () => {
  for (const name of [
    'seq2seq',
    'embed_gru',
    'masking_gru',
    'tagger',
    'bidir_seq2seq',
    'shared_gru',
    'td_words',
    'nested_sequential',
    'nested_shared',
    'nested_functional',
  ]) {
    it(`${name}, rewritten as Keras 2 writes it, predicts what Keras 3 did`, async () => {
      const f = fixture(name);
      const model = await loadModel(weightsOf(name), { config: asKeras2(f.model_config), compat: 'keras3' });
      const outs = await model.predictOutputs(f.inputs.length === 1 ? f.inputs[0] : f.inputs);
      outs.forEach((o, i) => expectClose(o, f.expected[i], `${name} output ${i}`));
    });
  }
});

describe('Softmax with a mask= tensor', () => {
  it('keeps the positions where a float mask is > 0.5, as Keras 3 does (0.3, 0.5, -1 and NaN are masked)', async () => {
    // softmax_axis1 softmaxes `features` over axis 1, here with Identity(features) as its mask.
    const c = configOf('softmax_layers');
    named(c, 'softmax_axis1').inbound_nodes[0].kwargs.mask = {
      class_name: '__keras_tensor__',
      config: { shape: [null, 4, 3], dtype: 'float32', keras_history: ['identity', 0, 0] },
    };
    const model = await loadModel(weightsOf('softmax_layers'), { config: c });
    // Columns (axis 1) of a (1, 4, 3) input: [1, 0.3, 0.5, -1], [2, 0.6, 0.7, 0], [0.51, NaN, 3, 0.2].
    const cols = [
      [1, 0.3, 0.5, -1],
      [2, 0.6, 0.7, 0],
      [0.51, Number.NaN, 3, 0.2],
    ];
    const features = { shape: [1, 4, 3], data: Float32Array.from({ length: 12 }, (_, i) => cols[i % 3][Math.floor(i / 3)]) };
    const tokens = { shape: [1, 6], data: Int32Array.of(1, 2, 3, 0, 0, 0) };
    const out = (await model.predictOutputs([tokens, features]))[1];
    for (let j = 0; j < 3; j++) {
      const kept = cols[j].map((v) => v > 0.5);
      const sum = cols[j].reduce((a, v, k) => a + (kept[k] ? Math.exp(v) : 0), 0);
      cols[j].forEach((v, k) => expect(out.data[k * 3 + j]).toBeCloseTo(kept[k] ? Math.exp(v) / sum : 0, 6));
    }
  });
});

describe('Normalization keeping the batch axis', () => {
  it('runs on a fixed-batch input, as Keras does (statistics per sample); on a batch of unknown size it is refused as Keras refuses it', async () => {
    const c = configOf('normalization_variants');
    const input = layersOf(c).find((l) => l.class_name === 'InputLayer') as Layer;
    input.config.batch_shape = [2, 4, 3];
    Object.assign(named(c, 'norm_given').config, {
      axis: [0, 2],
      mean: [
        [0.1, 0.2, 0.3],
        [1, 2, 3],
      ],
      variance: [
        [1, 4, 0.25],
        [9, 0, 16],
      ],
    });
    Object.assign(named(c, 'norm_scalar_invert').config, { axis: 0, mean: [0.5, -1], variance: [4, 1] });
    const model = await loadModel(weightsOf('normalization_variants'), { config: c });
    const x = fixture('normalization_variants').inputs[0];
    const outs = await model.predictOutputs(x);
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < 4; t++)
        for (let ch = 0; ch < 3; ch++) {
          const i = (b * 4 + t) * 3 + ch;
          const m = [
            [0.1, 0.2, 0.3],
            [1, 2, 3],
          ][b][ch];
          const v = [
            [1, 4, 0.25],
            [9, 0, 16],
          ][b][ch];
          const want = (x.data[i] - m) / Math.max(Math.sqrt(v), 1e-7); // variance 0: divided by epsilon
          expect(Math.abs(outs[3].data[i] - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
          expect(outs[4].data[i]).toBeCloseTo([0.5, -1][b] + x.data[i] * [2, 1][b], 5);
        }
    // Statistics per sample of a batch of 2: another batch size is refused, naming the layer.
    const one = { shape: [1, 4, 3], data: Array.from(x.data).slice(0, 12) };
    await expect(model.predictOutputs(one)).rejects.toThrow(/the batch size is fixed: Normalization 'norm_given' keeps the batch axis/);
    input.config.batch_shape = [null, 4, 3];
    const err = await loadModel(weightsOf('normalization_variants'), { config: c }).catch((e) => e);
    expect(err.message).toMatch(/layer 'norm_given' \(Normalization\): All `axis` values to be kept must have a known shape/);
  });
});

describe('Rescaling checks its scale and offset when the model loads', () => {
  it('a scale that does not broadcast to the sample shape is refused; one that does runs', async () => {
    const c = configOf('normalization_variants');
    named(c, 'rescale_channels').config.scale = [1, 2];
    const err = await loadModel(weightsOf('normalization_variants'), { config: c }).catch((e) => e);
    expect(err.message).toMatch(/layer 'rescale_channels' \(Rescaling\): `scale` of shape \[2\] does not broadcast to its input's sample shape \[4,3\]/);
    named(c, 'rescale_channels').config.scale = [[1], [2], [3], [4]];
    const model = await loadModel(weightsOf('normalization_variants'), { config: c });
    const x = fixture('normalization_variants').inputs[0];
    const out = (await model.predictOutputs(x))[5];
    expect(out.data[(1 * 4 + 2) * 3 + 1]).toBeCloseTo(x.data[(1 * 4 + 2) * 3 + 1] * 3 + 0.25, 5);
  });
});

describe("Normalization's count weight", () => {
  it('loads from any numeric dtype, as Keras casts it (float64, int16, float16 here); its shape is still checked', async () => {
    // norm_count_dtypes.py wrote normalization_variants's weights with each count (16) stored in another dtype.
    const f = fixture('normalization_variants');
    const model = await loadModel(join(GRAPH, '..', 'norm_count_dtypes.weights.h5'), { config: f.model_config });
    for (const name of ['norm_all', 'norm_invert', 'norm_axes']) {
      const count = model.layers.find((l) => l.name === name)?.getWeights()[2];
      expect(count?.shape, name).toEqual([]);
      expect(Array.from(count?.data ?? []), name).toEqual([16]);
    }
    (await model.predictOutputs(f.inputs[0])).forEach((o, i) => expectClose(o, f.expected[i]));
  });
});

describe('refusals name the class of what gru does not run', () => {
  it('an unsupported layer reading a GRU state is named, not the layer after it', async () => {
    const c = configOf('seq2seq');
    named(c, 'decoder').class_name = 'LSTM';
    const err = await loadModel(weightsOf('seq2seq'), { config: c }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.className).toBe('LSTM');
    expect(err.layerName).toBe('decoder');
    expect(err.message).toMatch(/layer 'decoder' \(LSTM\): LSTM layers are not supported/);
  });

  it('an RNN around another cell than GRUCell, and a Softmax over several axes, are refused naming what', async () => {
    const c = configOf('rnn_gru_cell');
    named(c, 'rnn_back').config.cell.class_name = 'LSTMCell';
    let err = await loadModel(weightsOf('rnn_gru_cell'), { config: c }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.className).toBe('RNN(LSTMCell)');
    expect(err.message).toMatch(/layer 'rnn_back' \(RNN\): an RNN around a LSTMCell is not supported; gru runs RNN\(GRUCell\(\.\.\.\)\) only/);

    const s = configOf('softmax_layers');
    named(s, 'softmax_axis1').config.axis = [1, 2];
    err = await loadModel(weightsOf('softmax_layers'), { config: s }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.message).toMatch(/layer 'softmax_axis1' \(Softmax\): softmax over several axes/);
  });

  it('an unknown Keras op node, a wrapped unsupported layer, an unsupported call argument', async () => {
    const op = configOf('embed_gru');
    const ne = layersOf(op).find((l) => l.class_name === 'NotEqual') as Layer;
    ne.class_name = 'Einsum';
    ne.registered_name = 'Einsum';
    let err = await loadModel(weightsOf('embed_gru'), { config: op }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.className).toBe('Einsum');
    expect(err.message).toMatch(/the Keras op Einsum is not supported by gru/);

    const td = configOf('tagger');
    layersOf(td).find((l) => l.class_name === 'TimeDistributed')!.config.layer.class_name = 'LSTM';
    err = await loadModel(weightsOf('tagger'), { config: td }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.className).toBe('TimeDistributed(LSTM)');

    const kw = configOf('gru_attention');
    layersOf(kw).find((l) => l.class_name === 'Attention')!.inbound_nodes[0].kwargs.mystery = 3;
    err = await loadModel(weightsOf('gru_attention'), { config: kw }).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.message).toMatch(/is called with mystery=3, which gru does not support for Attention/);
  });

  it('legacy .h5 op nodes named like a gru layer (ops.reshape, ops.average, ops.softmax) are refused as ops, as in .keras', async () => {
    // A legacy .h5 record has no `module`; an op's config has no `trainable` (the configs Keras 3.15.1 writes).
    for (const [className, config] of [
      ['Reshape', { newshape: [-1, 12] }],
      ['Average', { axis: 1 }],
      ['Softmax', { axis: 1 }],
    ] as const) {
      for (const legacy of [true, false]) {
        const c = configOf('softmax_layers');
        const entry = named(c, 'identity');
        Object.assign(entry, { class_name: className, config: { name: 'identity', ...config } });
        if (legacy) delete entry.module;
        else Object.assign(entry, { module: 'keras.src.ops.numpy', registered_name: className });
        const err = await loadModel(weightsOf('softmax_layers'), { config: c }).catch((e) => e);
        expect(err, `${className} legacy=${legacy}`).toBeInstanceOf(UnsupportedLayerError);
        expect(err.message).toMatch(new RegExp(`layer 'identity' \\(${className}\\): the Keras op ${className} is not supported by gru`));
      }
    }
  });

  it('Lambda layers and custom layers in a graph are refused before anything runs', async () => {
    const lambda = configOf('multi_io');
    Object.assign(named(lambda, 'score'), { class_name: 'Lambda', config: { name: 'score', function: ['4wEAAAAA', null, null], function_type: 'lambda' } });
    await expect(loadModel(weightsOf('multi_io'), { config: lambda })).rejects.toThrow(UnsafeModelError);
    const custom = configOf('multi_io');
    Object.assign(named(custom, 'score'), { class_name: 'MyScore', module: 'my_project.layers', registered_name: 'MyScore' });
    await expect(loadModel(weightsOf('multi_io'), { config: custom })).rejects.toThrow(/custom object "MyScore" from module 'my_project.layers'/);
  });
});

describe('bad graphs get clear errors', () => {
  it("a GRU's or GlobalAveragePooling1D's mask= from a tensor that is not (batch, timesteps) is refused when the model loads", async () => {
    const c = configOf('bidir_seq2seq');
    named(c, 'decoder').inbound_nodes[0].kwargs.mask = {
      class_name: '__keras_tensor__',
      config: { shape: [null, 5], dtype: 'bool', keras_history: ['not_equal_6', 0, 0] },
    };
    await expect(loadModel(weightsOf('bidir_seq2seq'), { config: c })).rejects.toThrow(
      "layer 'decoder' (GRU): is called with a mask of shape [null, 5]; its input of shape [null, 3, 2] needs a mask of shape [null, 3] (batch, timesteps) or [null, 3, null] (batch, timesteps, k).",
    );
    const pool = configOf('gru_norm_pool');
    named(pool, 'global_average_pooling1d').inbound_nodes[0].kwargs.mask.config.keras_history = ['embedding_5', 0, 0];
    await expect(loadModel(weightsOf('gru_norm_pool'), { config: pool })).rejects.toThrow(
      "layer 'global_average_pooling1d' (GlobalAveragePooling1D): is called with a mask of shape [null, 6, 4]; its input of shape [null, 6, 5] needs a mask of shape [null, 6] (batch, timesteps).",
    );
  });

  it('a cycle, a missing layer, a missing output, a shared layer whose calls need different weights', async () => {
    const cycle = configOf('seq2seq');
    named(cycle, 'encoder').inbound_nodes[0].args[0].config.keras_history = ['decoder', 0, 0];
    await expect(loadModel(weightsOf('seq2seq'), { config: cycle })).rejects.toThrow(/the layer graph has a cycle \(through 'encoder', 'decoder'/);

    const missing = configOf('seq2seq');
    named(missing, 'decoder').inbound_nodes[0].kwargs.initial_state.config.keras_history = ['nowhere', 0, 0];
    await expect(loadModel(weightsOf('seq2seq'), { config: missing })).rejects.toThrow(
      /layer 'decoder' takes its input from 'nowhere', which is not in the model/,
    );

    const output = configOf('seq2seq');
    named(output, 'decoder').inbound_nodes[0].kwargs.initial_state.config.keras_history = ['encoder', 0, 2];
    await expect(loadModel(weightsOf('seq2seq'), { config: output })).rejects.toThrow(/reads output #2 of 'encoder', which returns 2 tensor\(s\)/);

    const shared = configOf('shared_gru');
    const right = layersOf(shared).find((l) => l.class_name === 'InputLayer' && l.name === 'right') as Layer;
    right.config.batch_shape = [null, 4, 5];
    await expect(loadModel(weightsOf('shared_gru'), { config: shared })).rejects.toThrow(
      /layer 'shared' \(GRU\): is called 2 times with inputs that need different weights/,
    );
  });

  it('an initial state of the wrong width, and a merge of unequal shapes', async () => {
    const state = configOf('seq2seq');
    named(state, 'decoder').config.units = 5;
    await expect(loadModel(weightsOf('seq2seq'), { config: state })).rejects.toThrow(
      /layer 'decoder' \(GRU\): initial state #0 must have shape \(batch, 5\), found \[null,6\]/,
    );
    const merge = configOf('multi_io');
    layersOf(merge).find((l) => l.class_name === 'Add')!.inbound_nodes[0].args[0][1].config.keras_history = ['features', 0, 0];
    await expect(loadModel(weightsOf('multi_io'), { config: merge })).rejects.toThrow(
      "layer 'add' (Add): Inputs have incompatible shapes. Received shapes (5, 4) and (5, 3)",
    );
  });
});

describe('the runner frees each value after its last reader', () => {
  const peakOf = (model: unknown) => (model as { runner: { peak: number } }).runner.peak;

  it('a chain holds at most one value between layers; a graph holds only what later calls still read', async () => {
    const chain = await loadModel(join(GRAPH, 'simple_1d.keras'));
    await chain.predict(fixture('simple_1d').inputs[0]);
    expect(peakOf(chain)).toBe(1);
    const graph = await loadModel(join(GRAPH, 'multi_io.keras'));
    await graph.predictOutputs(fixture('multi_io').inputs);
    // 38 calls (layers and op nodes); at the widest point the merges' two inputs, the mask
    // plumbing and the merged results are alive together, far fewer than every value.
    const calls = (graph as unknown as { spec: { nodes: unknown[] } }).spec.nodes.length;
    expect(peakOf(graph)).toBeGreaterThan(2);
    expect(peakOf(graph)).toBeLessThan(calls / 2);
  });
});

describe('TimeDistributed hands the wrapped layer its mask as Keras does', () => {
  /** td_words with the TimeDistributed(GRU)'s mask= replaced by a (batch, words) mask (an Any op over the characters' mask). */
  function perWordMask(): Record<string, any> {
    const c = configOf('td_words');
    const ref = (name: string, shape: (number | null)[]) => ({ class_name: '__keras_tensor__', config: { shape, dtype: 'bool', keras_history: [name, 0, 0] } });
    const any = {
      module: 'keras.src.ops.numpy',
      class_name: 'Any',
      config: { name: 'any_word', axis: -1, keepdims: false },
      registered_name: 'Any',
      name: 'any_word',
      inbound_nodes: [{ args: [ref('not_equal_9', [null, 4, 5])], kwargs: {} }],
    };
    layersOf(c).splice(layersOf(c).indexOf(named(c, 'word_gru')), 0, any as unknown as Layer);
    named(c, 'word_gru').inbound_nodes[0].kwargs.mask = ref('any_word', [null, 4]);
    return c;
  }

  it('a (batch, steps) mask= on a TimeDistributed(GRU) is refused when the model loads: Keras would hand the GRU one value per sample', async () => {
    await expect(loadModel(weightsOf('td_words'), { config: perWordMask() })).rejects.toThrow(
      "layer 'word_gru' (TimeDistributed): is called with a mask of shape [null, 4] (one value per step), but the GRU it wraps takes a mask over its own steps: " +
        'Keras hands it one mask value per sample, which Keras cannot run either; its input of shape [null, 4, 5, 3] needs a mask of shape [null, 4, 5].',
    );
  });

  it('the same mask reaching it at predict time (an implicit mask) is refused with the same reason; a mask of the wrong size is named', async () => {
    const model = await loadModel(join(GRAPH, 'td_words.keras'));
    const td = model.layers.find((l) => l.name === 'word_gru') as (typeof model.layers)[number];
    const tensor = { shape: [2, 4, 5, 3], data: new Float32Array(120).fill(0.5) };
    expect(() => td.applySync({ tensor, mask: new Uint8Array(8).fill(1), maskShape: [2, 4] })).toThrow(
      "Layer 'word_gru' (TimeDistributed): is called with a mask of shape [2, 4] (one value per step), but the GRU it wraps takes a mask over its own steps",
    );
    expect(() => td.applySync({ tensor, mask: new Uint8Array(8).fill(1) })).toThrow(
      "Layer 'word_gru' (TimeDistributed): argument 'mask' has 8 values; expected 40, shape [2, 4, 5] (the mask its input of shape [2, 4, 5, 3] needs; pass maskShape for another shape).",
    );
    expect(() => td.applySync({ tensor, mask: new Uint8Array(56).fill(1), maskShape: [2, 7, 4] })).toThrow(
      "Layer 'word_gru' (TimeDistributed): is called with a mask of shape [2, 7, 4]; its input of shape [2, 4, 5, 3] needs a mask whose shape starts with [2, 4].",
    );
    // The wrapped GRU's rule holds for the mask each step gets: (words, characters[, k]).
    expect(() => td.applySync({ tensor, mask: new Uint8Array(48).fill(1), maskShape: [2, 4, 6] })).toThrow(
      "Layer 'word_gru' (TimeDistributed): is called with a mask of shape [2, 4, 6] and an input of shape [2, 4, 5, 3], which the GRU it wraps gets one step at a time; " +
        'at each step it is called with a mask of shape [2, 6]; its input of shape [2, 5, 3] needs a mask of shape [2, 5] (batch, timesteps) or [2, 5, null] (batch, timesteps, k).',
    );
    expect(td.applySync({ tensor, mask: new Uint8Array(80).fill(1), maskShape: [2, 4, 5, 2] }).tensor.shape).toEqual([2, 4, 4]);
    // A word whose last two characters are masked: its output is the GRU's state after its first three.
    const x = Float32Array.from({ length: 120 }, (_, i) => Math.sin(i));
    const mask = new Uint8Array(40).fill(1);
    mask.fill(0, 3, 5);
    const masked = td.applySync({ tensor: { shape: [2, 4, 5, 3], data: x }, mask });
    const firstThree = td.applySync({ tensor: { shape: [1, 1, 3, 3], data: x.slice(0, 9) }, mask: null });
    expect(masked.tensor.shape).toEqual([2, 4, 4]);
    expectClose(firstThree.tensor, { shape: [1, 1, 4], data: Array.from(masked.tensor.data.slice(0, 4)) }, 'word 0');
    const unmasked = td.applySync({ tensor: { shape: [2, 4, 5, 3], data: x }, mask: null });
    expect(Array.from(unmasked.tensor.data.slice(0, 4))).not.toEqual(Array.from(masked.tensor.data.slice(0, 4)));
    model.dispose();
  });
});

describe('TimeDistributed of a layer that needs steps, on 0 inner steps', () => {
  // Keras fails too for a GRU or Bidirectional (IndexError); gru's message named the folded
  // (batch * time, 0, 3) shape.
  for (const [name, layer, inner] of [
    ['td_words', 'word_gru', 'GRU'],
    ['td_bidir_words', 'time_distributed_1', 'Bidirectional'],
  ] as const) {
    it(`${name}: names the shape the caller passed`, async () => {
      const model = await loadModel(join(GRAPH, `${name}.keras`));
      const td = model.layers.find((l) => l.className === 'TimeDistributed') as (typeof model.layers)[number];
      expect(td.name).toBe(layer);
      const features = (fixture(name).inputs[0] as { shape: number[] }).shape.slice(3);
      for (const shape of [
        [2, 4, 0, ...features],
        [0, 4, 0, ...features],
      ]) {
        const message =
          `Layer '${layer}' (TimeDistributed): received an input of shape ${JSON.stringify(shape).replaceAll(',', ', ')}, with 0 steps on axis 2; ` +
          `the ${inner} it wraps gets each time step as an input of shape ${JSON.stringify([shape[0], 0, ...features]).replaceAll(',', ', ')} and needs at least one step (Keras fails there too, with an IndexError).`;
        expect(() => td.applySync({ tensor: { shape, data: new Float32Array(0) }, mask: null })).toThrow(message);
        await expect(td.apply({ tensor: { shape, data: new Float32Array(0) }, mask: null })).rejects.toThrow(message);
      }
      model.dispose();
    });
  }
});

describe('TimeDistributed of a global pooling, on 0 inner steps', () => {
  /** A Keras 2 (TF.js) model: x (batch, time, steps, 3) -> TimeDistributed(className). */
  const tdPooling = (className: string) => {
    const layers = [
      { class_name: 'InputLayer', name: 'x', config: { name: 'x', batch_input_shape: [null, null, null, 3], dtype: 'float32' }, inbound_nodes: [] },
      {
        class_name: 'TimeDistributed',
        name: 'td',
        config: { name: 'td', layer: { class_name: className, config: { name: 'pool' } } },
        inbound_nodes: [[['x', 0, 0, {}]]],
      },
    ];
    const model = { class_name: 'Functional', config: { name: 'm', layers, input_layers: [['x', 0, 0]], output_layers: [['td', 0, 0]] } };
    const json = { format: 'layers-model', modelTopology: { keras_version: '2.15.0', model_config: model }, weightsManifest: [] };
    return loadModel(new TextEncoder().encode(JSON.stringify(json)), { files: {} });
  };
  // Keras 3.15.1 (jax, numpy) on zeros((2, 4, 0, 3)): TimeDistributed(GlobalAveragePooling1D())
  // returns a (2, 4, 3) array of NaN, TimeDistributed(GlobalMaxPooling1D()) fails (ValueError).
  // gru refuses both (it never returns NaN for degenerate input) and says what Keras does.
  for (const [className, keras] of [
    ['GlobalAveragePooling1D', 'Keras returns NaN there (a mean over no steps), which gru does not return'],
    ['GlobalMaxPooling1D', 'Keras fails there too (a max over no steps)'],
  ] as const) {
    it(`${className}: refused, naming the caller's shape and what Keras does`, async () => {
      const model = await tdPooling(className);
      await expect(model.predict({ shape: [2, 4, 0, 3], data: [] })).rejects.toThrow(
        `Layer 'td' (TimeDistributed): received an input of shape [2, 4, 0, 3], with 0 steps on axis 2; the ${className} it wraps gets each time step as an input of shape [2, 0, 3] and needs at least one step (${keras}).`,
      );
      // One inner step: each time step's pooling is that step.
      const data = Array.from({ length: 2 * 4 * 3 }, (_, i) => i / 8);
      const y = await model.predict({ shape: [2, 4, 1, 3], data });
      expect(y.shape).toEqual([2, 4, 3]);
      expect(Array.from(y.data)).toEqual(data.map((v) => Math.fround(v)));
      model.dispose();
    });
  }
});

describe('TimeDistributed with a mask on an empty batch', () => {
  // 0 % (0 * steps) is NaN: the mask check refused the empty mask of an empty batch.
  for (const name of ['td_words', 'td_bidir_words', 'td_dense_mask']) {
    it(`${name} answers an empty batch with an empty result, as with no mask`, async () => {
      const f = fixture(name);
      const model = await loadModel(join(GRAPH, `${name}.keras`));
      const shape = [0, ...(f.inputs[0] as { shape: number[] }).shape.slice(1)];
      const out = await model.predict({ shape, data: new Float32Array(0) });
      expect(out.shape[0]).toBe(0);
      expect(out.data.length).toBe(0);
    });
  }
});
