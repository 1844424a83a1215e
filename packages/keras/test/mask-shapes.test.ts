import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelLayer } from '../src/index.js';
import { GRAPH, GRAPH_FIXTURES } from './graph-fixtures.js';

// Masks of other shapes than their tensor's without its last axis, as Keras 3.15.1 makes and reads
// them (each case checked against Keras with KERAS_BACKEND=jax; see the expectations' comments).

const layerOf = (layers: readonly ModelLayer[], name: string) => layers.find((l) => l.name === name) as ModelLayer;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const seq = (shape: number[]) => ({ shape, data: Float32Array.from({ length: size(shape) }, (_, i) => Math.sin(i * 0.7)) });
/** 0/1 values, mostly 1, fixed. */
const bits = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i % 5 === 3 ? 0 : 1));
const tokens = (shape: number[]) => ({ shape, data: Float32Array.from({ length: size(shape) }, (_, i) => 1 + (i % 4)) });
const floats = (shape: number[], m: Uint8Array) => ({ shape, data: Float32Array.from(m) });
type Config = Record<string, any>;
const configOf = (name: string): Config => structuredClone(GRAPH_FIXTURES.find((f) => f.name === name)?.model_config) as Config;
const ref = (layer: string, shape: (number | null)[], dtype = 'float32') => ({
  class_name: '__keras_tensor__',
  config: { shape, dtype, keras_history: [layer, 0, 0] },
});

describe("TimeDistributed's mask keeps its shape (Keras 3: compute_mask returns the mask it was given)", () => {
  it('TimeDistributed(GRU) on (batch, time, steps, features) passes its (batch, time, steps) mask on unchanged', async () => {
    const model = await loadModel(join(GRAPH, 'td_words.keras'));
    const td = layerOf(model.layers, 'word_gru');
    const m = bits(40);
    const out = td.applySync({ tensor: seq([2, 4, 5, 3]), mask: m });
    // Keras: td.compute_mask(x, mask).shape == (2, 4, 5); gru reduced it to (2, 4) with `any`.
    expect(out.tensor.shape).toEqual([2, 4, 4]);
    expect(out.maskShape).toEqual([2, 4, 5]);
    expect(Array.from(out.mask ?? [])).toEqual(Array.from(m));
    // The next GRU reads it per step (any over the 5), as Keras's scan does: the same as its reduction.
    const gru = layerOf(model.layers, 'sentence_gru');
    const perStep = Uint8Array.from({ length: 8 }, (_, r) => (m.subarray(r * 5, r * 5 + 5).some((b) => b === 1) ? 1 : 0));
    expect(Array.from(gru.applySync(out).tensor.data)).toEqual(Array.from(gru.applySync({ tensor: out.tensor, mask: perStep }).tensor.data));
    model.dispose();
  });

  it("a layer after it that does not read masks passes that mask on with its shape (Keras's compute_mask returns it), where it refused it", async () => {
    const td = await loadModel(join(GRAPH, 'td_words.keras'));
    const out = layerOf(td.layers, 'word_gru').applySync({ tensor: seq([2, 4, 5, 3]), mask: bits(40) });
    const norm = layerOf((await loadModel(join(GRAPH, 'gru_norm_pool.keras'))).layers, 'layer_normalization');
    // LayerNormalization on (2, 4, 4) with the (2, 4, 5) mask: Keras runs it and passes the mask on.
    const normed = norm.applySync({ tensor: seq([2, 4, norm.inputShape[2] as number]), mask: out.mask, maskShape: out.maskShape });
    expect(normed.maskShape).toEqual([2, 4, 5]);
    expect(Array.from(normed.mask ?? [])).toEqual(Array.from(bits(40)));
    td.dispose();
  });

  it('a (batch, time, steps, 0) mask masks every step of the wrapped GRU (Keras: any over an empty axis), instead of failing a length check', async () => {
    const model = await loadModel(join(GRAPH, 'td_words.keras'));
    const td = layerOf(model.layers, 'word_gru');
    const x = seq([2, 4, 5, 3]);
    const empty = await td.apply({ tensor: x, mask: new Uint8Array(0), maskShape: [2, 4, 5, 0] });
    // Keras: TimeDistributed(GRU)(x, mask=zeros((2, 4, 5, 0))) == the same with zeros((2, 4, 5)), and its mask keeps (2, 4, 5, 0).
    expect(Array.from(empty.tensor.data)).toEqual(Array.from(td.applySync({ tensor: x, mask: new Uint8Array(40) }).tensor.data));
    expect(empty.maskShape).toEqual([2, 4, 5, 0]);
    expect(empty.mask?.length).toBe(0);
    // Zero words: Keras's GRU fails on zero steps (IndexError); gru names the shapes the caller passed.
    expect(() => td.applySync({ tensor: seq([2, 4, 0, 3]), mask: new Uint8Array(0) })).toThrow(
      "Layer 'word_gru' (TimeDistributed): received an input of shape [2, 4, 0, 3], with 0 steps on axis 2; the GRU it wraps gets each time step as an input of shape [2, 0, 3] and needs at least one step (Keras fails there too, with an IndexError).",
    );
    model.dispose();
  });

  it('a layer that cannot take the passed-on mask fails as Keras does, where it ran with a reduced mask', async () => {
    const td = await loadModel(join(GRAPH, 'td_words.keras'));
    const out = layerOf(td.layers, 'word_gru').applySync({ tensor: seq([2, 4, 5, 3]), mask: bits(40) });
    const pooling = await loadModel(join(GRAPH, 'gru_norm_pool.keras'));
    // Keras: GlobalAveragePooling1D on (2, 4, 4) with a (2, 4, 5) mask fails to broadcast.
    expect(() => layerOf(pooling.layers, 'global_average_pooling1d').applySync(out)).toThrow(
      "Layer 'global_average_pooling1d' (GlobalAveragePooling1D): is called with a mask of shape [2, 4, 5]; its input of shape [2, 4, 4] needs a mask of shape [2, 4] (batch, timesteps).",
    );
    td.dispose();
    pooling.dispose();
  });

  it('in a graph: an Attention over a TimeDistributed output reads its (batch, time, steps) mask by shape and fails, as Keras does', async () => {
    // td_words with Attention()([w, w]) between the TimeDistributed(GRU) and the sentence GRU.
    const c = configOf('td_words');
    const w = ref('word_gru', [null, 4, 4]);
    const at = c.layers.findIndex((l: { name: string }) => l.name === 'sentence_gru');
    c.layers.splice(at, 0, {
      module: 'keras.layers',
      class_name: 'Attention',
      config: { name: 'att', trainable: true, dtype: 'float32', use_scale: false, score_mode: 'dot', dropout: 0 },
      registered_name: null,
      name: 'att',
      inbound_nodes: [{ args: [[w, w]], kwargs: {} }],
    });
    c.layers[at + 1].inbound_nodes[0].args = [ref('att', [null, 4, 4])];
    const model = await loadModel(join(GRAPH, 'td_words.weights.h5'), { config: c });
    // Keras: Attention.call fails, "Incompatible shapes for broadcasting: shapes=[(2, 4, 5), (2, 4, 4), ...]".
    await expect(model.predict(tokens([2, 4, 5]))).rejects.toThrow(
      "Layer 'att' (Attention): argument 'query_mask' has shape [2, 4, 5]; its query of shape [2, 4, 4] needs a mask that broadcasts to [2, 4].",
    );
    model.dispose();
  });
  it("a (batch, time, 1) mask ORed by Add keeps its shape, though its length is (batch, time)'s: GlobalAveragePooling1D then fails, as in Keras", async () => {
    // td_words on one character per word (its mask (batch, 4, 1)), with Add()([w, w]) and
    // GlobalAveragePooling1D after the TimeDistributed(GRU), as a second output.
    const c = JSON.parse(JSON.stringify(configOf('td_words')).replaceAll('[null,4,5]', '[null,4,1]').replaceAll('[null,5,3]', '[null,1,3]'));
    const w = ref('word_gru', [null, 4, 4]);
    const layer = (class_name: string, name: string, args: unknown[]) => ({
      module: 'keras.layers',
      class_name,
      config: { name, trainable: true, dtype: 'float32' },
      registered_name: null,
      name,
      inbound_nodes: [{ args, kwargs: {} }],
    });
    c.layers.push(layer('Add', 'add', [[w, w]]), layer('GlobalAveragePooling1D', 'pool', [ref('add', [null, 4, 4])]));
    c.output_layers = [
      ['dense_2', 0, 0],
      ['pool', 0, 0],
    ];
    const model = await loadModel(join(GRAPH, 'td_words.weights.h5'), { config: c });
    // Keras: Add().compute_mask of two (2, 4, 1) masks has shape (2, 4, 1), and
    // GlobalAveragePooling1D with it fails ("Incompatible shapes for broadcasting").
    await expect(model.predictOutputs([tokens([2, 4, 1])])).rejects.toThrow(
      "Layer 'pool' (GlobalAveragePooling1D): is called with a mask of shape [2, 4, 1]; its input of shape [2, 4, 4] needs a mask of shape [2, 4] (batch, timesteps).",
    );
    model.dispose();
  });
  it('an output listed twice is copied with its mask and the mask keeps its shape', async () => {
    const c = configOf('td_words');
    c.output_layers = [
      ['dense_2', 0, 0],
      ['word_gru', 0, 0],
      ['word_gru', 0, 0],
    ];
    const model = await loadModel(join(GRAPH, 'td_words.weights.h5'), { config: c });
    // The model's API returns tensors only; the runner's outputs carry the masks beside them.
    const runner = (model as unknown as { runner: { runSync(inputs: unknown[], ctx: object): { mask: Uint8Array | null; maskShape?: number[] }[] } }).runner;
    const [, first, copy] = runner.runSync([{ tensor: tokens([2, 4, 5]), mask: null }], {});
    expect(first.maskShape).toEqual([2, 4, 5]);
    expect(copy.maskShape).toEqual([2, 4, 5]);
    expect(Array.from(copy.mask ?? [])).toEqual(Array.from(first.mask ?? []));
    model.dispose();
  });
});

describe('attention masks broadcast as Keras broadcasts them', () => {
  // Masks of batch 1 or no batch axis come from ops inside a graph (a model input must have the
  // batch's size), so the layers are called here as the graph runner calls them.
  const [B, T, S] = [2, 3, 5];
  const q = { tensor: seq([B, T, 4]), mask: null };
  const v = { tensor: seq([B, S, 4]), mask: null };
  const maskFlow = (shape: number[], m: Uint8Array) => ({ tensor: floats(shape, m), mask: null });
  const fail =
    (layer: ModelLayer) =>
    (message: string): never => {
      throw new Error(`Layer '${layer.name}' (${layer.className}): ${message}`);
    };

  it('MultiHeadAttention: attention_mask (1, T, S), (B, 1, S), (T, S), (B, T, 1) run as their broadcast to (B, T, S); (S,) and (B, S) fail', async () => {
    const model = await loadModel(join(GRAPH, 'gru_mha.keras'));
    const mha = layerOf(model.layers, 'multi_head_attention_1');
    const run = (shape: number[], m: Uint8Array) => {
      const call = { args: [{ tensor: { ...q } }, { tensor: { ...v } }], named: { attention_mask: [maskFlow(shape, m)] }, mask: null, kwargs: {} };
      mha.checkCallMasks(fail(mha), call, false);
      return mha.call(call, null, {})[0].tensor;
    };
    // Keras: each equals the same call with np.broadcast_to(mask, (B, T, S)) (max difference 0.0).
    const cases: [number[], (b: number, t: number, s: number) => number][] = [
      [[1, T, S], (_b, t, s) => t * S + s],
      [[B, 1, S], (b, _t, s) => b * S + s],
      [[T, S], (_b, t, s) => t * S + s],
      [[B, T, 1], (b, t) => b * T + t],
    ];
    for (const [shape, at] of cases) {
      const m = Uint8Array.from({ length: size(shape) }, (_, i) => (i % 3 === 1 ? 0 : 1));
      const full = Uint8Array.from({ length: B * T * S }, (_, i) => m[at(Math.floor(i / (T * S)), Math.floor(i / S) % T, i % S)]);
      expect(Array.from(run(shape, m).data), String(shape)).toEqual(Array.from(run([B, T, S], full).data));
    }
    // Keras: (S,) "axis -3 is out of bounds"; (B, S) "incompatible shapes for broadcasting".
    expect(() => run([S], bits(S))).toThrow(
      "Layer 'multi_head_attention_1' (MultiHeadAttention): argument 'attention_mask' has shape [5]; its query of shape [2, 3, 4] and value of shape [2, 5, 4] need a mask that broadcasts to [2, 3, 5], or to [2, 2, 3, 5] (batch, heads, Tq, Tv).",
    );
    expect(() => run([B, S], bits(B * S))).toThrow("argument 'attention_mask' has shape [2, 5]; its query of shape [2, 3, 4]");
    // Rank 4 is (batch, heads, Tq, Tv), one mask per head (graph/mha_head_masks holds Keras's values):
    // a (B, 1, T, S) one is the (B, T, S) one; (1, 2, T, S) is broadcast over the batch.
    const m = bits(B * T * S);
    expect(Array.from(run([B, 1, T, S], m).data)).toEqual(Array.from(run([B, T, S], m).data));
    const perHead = Uint8Array.from({ length: 2 * T * S }, (_, i) => (i % 4 === 1 ? 0 : 1));
    expect(Array.from(run([1, 2, T, S], perHead).data)).toEqual(Array.from(run([B, 2, T, S], Uint8Array.from([...perHead, ...perHead])).data));
    expect(Array.from(run([1, 2, T, S], perHead).data)).not.toEqual(Array.from(run([1, T, S], perHead.slice(0, T * S)).data));
    expect(() => run([B, 3, T, S], bits(B * 3 * T * S))).toThrow(
      "argument 'attention_mask' has shape [2, 3, 3, 5]; its query of shape [2, 3, 4] and value of shape [2, 5, 4] need a mask that broadcasts to [2, 3, 5], or to [2, 2, 3, 5] (batch, heads, Tq, Tv).",
    );
    // With the inputs' masks Keras ANDs their (B, T, S) mask aligned on the heads axis: refused, naming why.
    const masked = {
      args: [{ tensor: { ...q, mask: bits(B * T) } }, { tensor: { ...v } }],
      named: { attention_mask: [maskFlow([B, 2, T, S], bits(B * 2 * T * S))] },
      mask: null,
      kwargs: {},
    };
    expect(() => mha.checkCallMasks(fail(mha), masked, false)).toThrow(
      "argument 'attention_mask' has shape [2, 2, 3, 5] while its query, value or key carries a mask; Keras then ANDs their (batch, Tq, Tv) mask with it aligned on the heads axis instead of the batch axis, which gru does not; fold those masks into attention_mask, or pass one of shape [2, 3, 5].",
    );
    model.dispose();
  });

  it('Attention: value_mask (1, Tv), (B, 1), (B, 1, Tv) run as their broadcast to (B, Tv); (B, Tv, 1) is refused, naming why', async () => {
    const model = await loadModel(join(GRAPH, 'gru_attention.keras'));
    const att = layerOf(model.layers, 'attention_1');
    const run = (shape: number[], m: Uint8Array) => {
      const call = { args: [{ list: [{ ...q }, { ...v }] }], named: {}, mask: [null, maskFlow(shape, m)], kwargs: {} };
      att.checkCallMasks(fail(att), call, false);
      return att.call(call, [null, m], {})[0].tensor;
    };
    // Keras: each equals the call with the mask broadcast to (B, Tv) (max difference 0.0).
    const m5 = [1, 0, 1, 1, 0];
    const want = run([B, S], Uint8Array.from([...m5, ...m5]));
    expect(Array.from(run([1, S], Uint8Array.from(m5)).data)).toEqual(Array.from(want.data));
    expect(Array.from(run([B, 1, S], Uint8Array.from([...m5, ...m5])).data)).toEqual(Array.from(want.data));
    expect(Array.from(run([B, 1], Uint8Array.from([1, 0])).data)).toEqual(Array.from(run([B, S], Uint8Array.from([1, 1, 1, 1, 1, 0, 0, 0, 0, 0])).data));
    // Keras: with Tq (3) != Tv (5) a (B, Tv, 1) mask fails to broadcast against the (B, Tq, Tv) scores.
    expect(() => run([B, S, 1], bits(B * S))).toThrow(
      "Layer 'attention_1' (Attention): argument 'value_mask' has shape [2, 5, 1]; its value of shape [2, 5, 4] and the query's 3 steps need a mask that broadcasts to the scores' [2, 3, 5] as Keras aligns it, on the right (one of 2 axes gets the Tq axis: (x, Tv) is read as (x, 1, Tv)).",
    );
    // Keras: with Tq == Tv (self-attention) it runs, reading the (B, T, 1) mask per query row, as
    // its broadcast to (B, T, T) (graph/attention_query_masks holds Keras's values for (B, Tq, Tv)).
    const self = (shape: number[], m: Uint8Array) => {
      const call = { args: [{ list: [{ ...v }, { ...v }] }], named: {}, mask: [null, maskFlow(shape, m)], kwargs: {} };
      att.checkCallMasks(fail(att), call, false);
      return att.call(call, [null, m], {})[0].tensor;
    };
    const rows = bits(B * S);
    const spread = Uint8Array.from({ length: B * S * S }, (_, i) => rows[Math.floor(i / S)]);
    const perRow = self([B, S, 1], rows);
    expect(perRow.shape).toEqual([B, S, 4]);
    expect(Array.from(perRow.data)).toEqual(Array.from(self([B, S, S], spread).data));
    expect(Array.from(perRow.data)).not.toEqual(Array.from(self([B, S], rows).data));
    model.dispose();
  });
  it('Attention with use_causal_mask: a (B, 1, Tv) value_mask is refused (Keras returns an output of another rank); (Tv,) and (1, Tv) run as (B, Tv)', async () => {
    const model = await loadModel(join(GRAPH, 'gru_attention.keras'));
    const att = layerOf(model.layers, 'attention_1');
    const run = (shape: number[], m: Uint8Array) => {
      const call = { args: [{ list: [{ ...q }, { ...v }] }], named: {}, mask: [null, maskFlow(shape, m)], kwargs: { use_causal_mask: true } };
      att.checkCallMasks(fail(att), call, false);
      return att.call(call, [null, m], {})[0].tensor;
    };
    const m5 = [1, 0, 1, 1, 0];
    const want = run([B, S], Uint8Array.from([...m5, ...m5]));
    // Keras (use_causal_mask=True): (5,) and (1, 5) give the (2, 5) mask's output (max difference 0.0);
    // (2, 1, 5) gives an output of shape (2, 2, 3, 4) (expand_dims(-2) of the mask, ANDed with the causal mask).
    expect(Array.from(run([S], Uint8Array.from(m5)).data)).toEqual(Array.from(want.data));
    expect(Array.from(run([1, S], Uint8Array.from(m5)).data)).toEqual(Array.from(want.data));
    expect(() => run([B, 1, S], Uint8Array.from([...m5, ...m5]))).toThrow(
      "Layer 'attention_1' (Attention): argument 'value_mask' has shape [2, 1, 5] and use_causal_mask is true; Keras then adds an axis to the mask and returns an output of 4 axes, which gru does not; pass a value mask of shape [2, 5], or call without use_causal_mask.",
    );
    model.dispose();
  });
  it('Attention on rank-4 inputs aligns a value mask of 3 axes on the right against the scores (b1, b2, Tq, Tv), as Keras does, and refuses one Keras cannot broadcast', async () => {
    // graph/attention_rank4_masks holds Keras's values for b1 == b2 == Tq == 2; gru read a
    // (b1, b2, Tv) mask as (b1, b2, 1, Tv) (up to 1.19 off) and ran where Keras fails.
    const model = await loadModel(join(GRAPH, 'attention_rank4_masks.keras'));
    const att = layerOf(model.layers, 'attention_rows');
    const run = (b2: number, shape: number[], m: Uint8Array, kwargs = {}) => {
      const call = {
        args: [
          {
            list: [
              { tensor: seq([B, b2, 2, 4]), mask: null },
              { tensor: seq([B, b2, S, 4]), mask: null },
            ],
          },
        ],
        named: {},
        mask: [null, maskFlow(shape, m)],
        kwargs,
      };
      att.checkCallMasks(fail(att), call, false);
      return att.call(call, [null, m], {})[0].tensor;
    };
    // Keras: a (1, Tq, Tv) mask is each (b1, b2)'s per-query rows; with b2 == 3 != Tq, (2, 3, 5)
    // fails to broadcast ("Incompatible shapes for broadcasting").
    const rows = bits(2 * S);
    const perQuery = Uint8Array.from({ length: B * 3 * 2 * S }, (_, i) => rows[i % (2 * S)]);
    expect(Array.from(run(3, [1, 2, S], rows).data)).toEqual(Array.from(run(3, [B, 3, 2, S], perQuery).data));
    expect(() => run(3, [B, 3, S], bits(B * 3 * S))).toThrow(
      "Layer 'attention_rows' (Attention): argument 'value_mask' has shape [2, 3, 5]; its value of shape [2, 3, 5, 4] and the query's 2 steps need a mask that broadcasts to the scores' [2, 3, 2, 5] as Keras aligns it, on the right (one of 2 axes gets the Tq axis: (x, Tv) is read as (x, 1, Tv)).",
    );
    // With use_causal_mask Keras adds the Tq axis whatever the rank: (b1, b2, Tv) is one row per
    // (b1, b2), ANDed with the causal (Tq, Tv) mask.
    const cols = bits(B * 3 * S);
    const spread = Uint8Array.from({ length: B * 3 * 2 * S }, (_, i) => cols[Math.floor(i / (2 * S)) * S + (i % S)] & (i % S <= Math.floor(i / S) % 2 ? 1 : 0));
    const causal = { use_causal_mask: true };
    expect(Array.from(run(3, [B, 3, S], cols, causal).data)).toEqual(Array.from(run(3, [B, 3, 2, S], spread).data));
    expect(() => run(3, [B, 3, 2, S], spread, causal)).toThrow(
      "argument 'value_mask' has shape [2, 3, 2, 5] and use_causal_mask is true; Keras then adds an axis to the mask and returns an output of 5 axes",
    );
    model.dispose();
  });
});

describe('merge layers read the masks their inputs carry by shape', () => {
  const fail =
    (layer: ModelLayer) =>
    (message: string): never => {
      throw new Error(`Layer '${layer.name}' (${layer.className}): ${message}`);
    };
  /** The layer called as the graph runner calls it: masks checked, call, then compute_mask. */
  const merge = (layer: ModelLayer, inputs: { tensor: ReturnType<typeof seq>; mask: Uint8Array | null; maskShape?: number[] }[]) => {
    const call = { args: [{ list: inputs }], named: {}, mask: null, kwargs: {} };
    layer.checkCallMasks(fail(layer), call, true);
    const out = layer.call(
      call,
      inputs.map((f) => f.mask),
      {},
    );
    return {
      out: out[0].tensor,
      mask: layer.computeMask(
        call,
        inputs.map((f) => f.mask),
        1,
      )[0],
    };
  };
  const x = seq([2, 4, 3]);
  const m45 = bits(40);
  const m4 = Uint8Array.from([1, 0, 1, 1, 0, 0, 1, 1]);

  it('Add ORs masks of one shape, (batch, time, k) included; masks of two shapes fail (Keras: logical_or cannot broadcast them)', async () => {
    const model = await loadModel(join(GRAPH, 'multi_io.keras'));
    const add = layerOf(model.layers, 'add');
    const other = Uint8Array.from({ length: 40 }, (_, i) => (i % 7 === 0 ? 1 : 0));
    // Keras: Add().compute_mask([a, a], [(2, 4, 5), (2, 4, 5)]).shape == (2, 4, 5).
    const { mask } = merge(add, [
      { tensor: x, mask: m45, maskShape: [2, 4, 5] },
      { tensor: x, mask: other, maskShape: [2, 4, 5] },
    ]);
    expect(Array.from(mask ?? [])).toEqual(Array.from(m45, (b, i) => b | other[i]));
    expect(() =>
      merge(add, [
        { tensor: x, mask: m45, maskShape: [2, 4, 5] },
        { tensor: x, mask: m4 },
      ]),
    ).toThrow(
      "Layer 'add' (Add): the masks of its inputs have shapes [2, 4, 5] and [2, 4]; Keras combines them with logical_or, which needs shapes that broadcast together.",
    );
    model.dispose();
  });

  it("Add, Subtract and Average never read their inputs' masks: a (2, 1) mask on (2, 4, 3) inputs is neither read nor refused, and only ORed", async () => {
    const model = await loadModel(join(GRAPH, 'multi_io.keras'));
    // Keras: their merge functions ignore the masks; compute_mask ORs the (2, 1) masks to (2, 1).
    // gru spread each mask over its input on every call (2.4x the add's time at (8, 256, 256)),
    // reading a (2, 1) mask as (2, 4), past its end.
    const unread = (m: Uint8Array) =>
      new Proxy(m, {
        get(target, key) {
          if (typeof key === 'string' && /^\d+$/.test(key)) throw new Error(`mask value ${key} read`);
          return Reflect.get(target, key) as unknown;
        },
      });
    const y = seq([2, 4, 3]).data.map((v) => v * 3);
    for (const [name, want] of [
      ['add', (a: number, b: number) => Math.fround(a + b)],
      ['subtract', (a: number, b: number) => Math.fround(a - b)],
      ['average', (a: number, b: number) => Math.fround(Math.fround(a + b) / 2)],
    ] as const) {
      const layer = layerOf(model.layers, name);
      const inputs = [
        { tensor: x, mask: unread(Uint8Array.from([1, 0])), maskShape: [2, 1] },
        { tensor: { shape: [2, 4, 3], data: y }, mask: unread(Uint8Array.from([0, 0])), maskShape: [2, 1] },
      ];
      const call = { args: [{ list: inputs }], named: {}, mask: null, kwargs: {} };
      layer.checkCallMasks(fail(layer), call, true);
      const out = layer.call(call, [inputs[0].mask, inputs[1].mask], {})[0].tensor;
      expect(out.shape).toEqual([2, 4, 3]);
      expect(Array.from(out.data)).toEqual(Array.from(x.data, (v, i) => want(v, y[i])));
      const plain = [Uint8Array.from([1, 0]), Uint8Array.from([0, 0])];
      expect(Array.from(layer.computeMask(call, plain, 1)[0] ?? [])).toEqual([1, 0]);
      expect(layer.computeMaskShape([2, 1], 0, call)).toEqual([2, 1]);
    }
    model.dispose();
  });

  it('Add of inputs that Keras broadcasts ((2, 4, 3) + (2, 1, 3)) runs broadcast, and ORs their (2, 4) and (2, 1) masks to (2, 4)', async () => {
    const model = await loadModel(join(GRAPH, 'multi_io.keras'));
    const add = layerOf(model.layers, 'add');
    // Keras: Add()([a, b]) has shape (2, 4, 3), its mask logical_or((2, 4), (2, 1)) shape (2, 4);
    // gru refused it (merge_broadcast in graph/ holds Keras's values for every merge).
    const b = seq([2, 1, 3]);
    const { out, mask } = merge(add, [
      { tensor: x, mask: m4 },
      { tensor: b, mask: Uint8Array.from([1, 0]) },
    ]);
    expect(out.shape).toEqual([2, 4, 3]);
    expect(Array.from(out.data)).toEqual(Array.from(x.data, (v, i) => Math.fround(v + b.data[Math.floor(i / 12) * 3 + (i % 3)])));
    expect(Array.from(mask ?? [])).toEqual([1, 1, 1, 1, 0, 0, 1, 1]);
    expect(
      add.computeMaskShape([2, 4], 0, {
        args: [
          {
            list: [
              { tensor: x, mask: m4 },
              { tensor: b, mask: Uint8Array.from([1, 0]) },
            ],
          },
        ],
        named: {},
        mask: null,
        kwargs: {},
      }),
    ).toEqual([2, 4]);
    // Shapes Keras's rule refuses fail with Keras's message.
    expect(() =>
      merge(add, [
        { tensor: x, mask: null },
        { tensor: seq([2, 5, 3]), mask: null },
      ]),
    ).toThrow("Layer 'add' (Add): Inputs have incompatible shapes. Received shapes (4, 3) and (5, 3)");
    // A lower-rank input is expanded at axis 1 ((2, 3) as (2, 1, 3)), but Keras ORs the masks as
    // they are: (2, 4) | (2,) does not broadcast (jax: "Incompatible shapes for broadcasting").
    const v = seq([2, 3]);
    expect(() =>
      merge(add, [
        { tensor: x, mask: m4 },
        { tensor: v, mask: Uint8Array.from([1, 0]) },
      ]),
    ).toThrow(
      "Layer 'add' (Add): the masks of its inputs have shapes [2, 4] and [2]; Keras combines them with logical_or, which needs shapes that broadcast together.",
    );
    expect(
      merge(add, [
        { tensor: x, mask: null },
        { tensor: v, mask: null },
      ]).out.shape,
    ).toEqual([2, 4, 3]);
    model.dispose();
  });

  it('Maximum ignores the mask of an input Keras reshapes (expand_dims drops it): a masked (2, 3) with an unmasked (2, 4, 3) is a plain maximum', async () => {
    const model = await loadModel(join(GRAPH, 'multi_io.keras'));
    const maximum = layerOf(model.layers, 'maximum');
    const v = seq([2, 3]);
    const { out, mask } = merge(maximum, [
      { tensor: v, mask: Uint8Array.from([0, 0]) },
      { tensor: x, mask: null },
    ]);
    expect(Array.from(out.data)).toEqual(Array.from(x.data, (w, i) => Math.max(w, v.data[Math.floor(i / 12) * 3 + (i % 3)])));
    expect(mask).toBeNull();
    model.dispose();
  });

  it('Multiply and Maximum take one mask value per position but the last axis: a (batch, time, k) mask fails, as in Keras, where it was read as another mask', async () => {
    const model = await loadModel(join(GRAPH, 'multi_io.keras'));
    for (const name of ['multiply', 'maximum']) {
      const layer = layerOf(model.layers, name);
      // Keras: "Cannot broadcast to shape with fewer dimensions: arr_shape=(2, 4, 5, 1) shape=(2, 4, 3)".
      expect(() =>
        merge(layer, [
          { tensor: x, mask: m45, maskShape: [2, 4, 5] },
          { tensor: x, mask: m45, maskShape: [2, 4, 5] },
        ]),
      ).toThrow(`Layer '${name}' (${layer.className}): the mask of input 0 has shape [2, 4, 5]; its input of shape [2, 4, 3] needs a mask of shape [2, 4].`);
      expect(
        merge(layer, [
          { tensor: x, mask: m4 },
          { tensor: x, mask: m4 },
        ]).out.shape,
      ).toEqual([2, 4, 3]);
    }
    model.dispose();
  });

  it("Concatenate concatenates a mask of its input's rank as it is (Keras's compute_mask), not read per position", async () => {
    const model = await loadModel(join(GRAPH, 'multi_io.keras'));
    const concat = layerOf(model.layers, 'concatenate');
    expect(concat.config.axis ?? -1).toBe(-1);
    // Rows 1 and 5 of the (2, 4, 5) mask fully masked; the (2, 4) mask masks rows 1, 4 and 5.
    const m45c = Uint8Array.from(m45, (b, i) => (Math.floor(i / 5) === 1 || Math.floor(i / 5) === 5 ? 0 : b));
    const { mask } = merge(concat, [
      { tensor: x, mask: m45c, maskShape: [2, 4, 5] },
      { tensor: x, mask: m4 },
    ]);
    // Keras: any(concatenate([mask_a, mask_b[..., None] | zeros_like(b)], -1), -1) = any(mask_a, -1) | mask_b; Keras gives these values.
    expect(Array.from(mask ?? [])).toEqual([1, 0, 1, 1, 1, 0, 1, 1]);
    expect(() =>
      merge(concat, [
        { tensor: x, mask: bits(16), maskShape: [2, 8] },
        { tensor: x, mask: m4 },
      ]),
    ).toThrow(
      "Layer 'concatenate' (Concatenate): the mask of input 0 has shape [2, 8]; its input of shape [2, 4, 3] needs a mask of shape [2, 4], or of its rank.",
    );
    model.dispose();
  });
});
