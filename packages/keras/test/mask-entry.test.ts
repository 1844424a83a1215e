import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelLayer } from '../src/index.js';
import { GRAPH, GRAPH_FIXTURES } from './graph-fixtures.js';

// A mask handed to applySync/apply is a flat array: its shape travels beside it (Flow.maskShape)
// or is the one the layer expects. A GRU used to accept any multiple of batch x timesteps and
// read it as (batch, timesteps, k), so a mask of the wrong shape ran silently as another mask.

const layerOf = (layers: readonly ModelLayer[], name: string) => layers.find((l) => l.name === name) as ModelLayer;
const seq = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.7)) });
/** 0/1 values, mostly 1, fixed. */
const bits = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i % 5 === 3 ? 0 : 1));

describe('a mask entering applySync or apply is checked against its shape and the layer', () => {
  it('GRU: a mask of another length than (batch, timesteps) needs its shape, and that shape must be one Keras takes', async () => {
    const model = await loadModel(join(GRAPH, 'masking_gru.keras'));
    const gru = layerOf(model.layers, 'gru_2');
    const x = seq([3, 6, 3]);
    expect(() => gru.applySync({ tensor: x, mask: bits(36) })).toThrow(
      "Layer 'gru_2' (GRU): argument 'mask' has 36 values; expected 18, shape [3, 6] (the mask its input of shape [3, 6, 3] needs; pass maskShape for another shape).",
    );
    await expect(gru.apply({ tensor: x, mask: bits(36) })).rejects.toThrow("argument 'mask' has 36 values; expected 18, shape [3, 6]");
    expect(() => gru.applySync({ tensor: x, mask: bits(36), maskShape: [3, 12] })).toThrow(
      "Layer 'gru_2' (GRU): is called with a mask of shape [3, 12]; its input of shape [3, 6, 3] needs a mask of shape [3, 6] (batch, timesteps) or [3, 6, null] (batch, timesteps, k).",
    );
    expect(() => gru.applySync({ tensor: x, mask: bits(36), maskShape: [6, 3, 2] })).toThrow(
      /is called with a mask of shape \[6, 3, 2\]; its input of shape \[3, 6, 3\] needs/,
    );
    expect(() => gru.applySync({ tensor: x, mask: bits(17), maskShape: [3, 6] })).toThrow(
      "Layer 'gru_2' (GRU): argument 'mask' has 17 values; expected 18, shape [3, 6] (its maskShape).",
    );
    expect(() => gru.applySync({ tensor: x, mask: bits(18), maskShape: [3, -6] })).toThrow(
      "argument 'maskShape' must be an array of sizes (non-negative integers); received [3,-6].",
    );
    // A string that reads like an array is named as the string it is.
    expect(() => gru.applySync({ tensor: x, mask: bits(18), maskShape: '3,6' as unknown as number[] })).toThrow(
      `argument 'maskShape' must be an array of sizes (non-negative integers); received "3,6".`,
    );
    // (batch, timesteps, k) with its shape: Keras's scan keeps a step when any of its k values is set.
    const m3 = bits(36);
    m3.fill(0, 0, 4); // batch 0's first two steps fully masked
    const perStep = Uint8Array.from({ length: 18 }, (_, i) => m3[2 * i] | m3[2 * i + 1]);
    const got = gru.applySync({ tensor: x, mask: m3, maskShape: [3, 6, 2] });
    const want = gru.applySync({ tensor: x, mask: perStep });
    expect(Array.from(got.tensor.data)).toEqual(Array.from(want.tensor.data));
    // Keras's RNN.compute_mask passes the mask on unchanged: GRU(return_sequences).compute_mask(x, (3, 6, 2) mask).shape == (3, 6, 2).
    expect(Array.from(got.mask ?? [])).toEqual(Array.from(m3));
    expect(got.maskShape).toEqual([3, 6, 2]);
    // (batch, timesteps, 0): no value keeps a step, so every step is masked; Keras runs it so (its output is 0).
    const empty = await gru.apply({ tensor: x, mask: new Uint8Array(0), maskShape: [3, 6, 0] });
    expect(Array.from(empty.tensor.data)).toEqual(Array.from(gru.applySync({ tensor: x, mask: new Uint8Array(18) }).tensor.data));
    expect(Array.from(empty.tensor.data).every((v) => v === 0)).toBe(true);
    expect(empty.mask?.length).toBe(0);
    expect(empty.maskShape).toEqual([3, 6, 0]);
    model.dispose();
  });

  it('layers passing a mask on take the shape of their input without its last axis, or one starting with its (batch, steps); GlobalAveragePooling1D one value per step', async () => {
    const model = await loadModel(join(GRAPH, 'gru_norm_pool.keras'));
    const norm = layerOf(model.layers, 'layer_normalization');
    const units = norm.inputShape[2] as number;
    const h = seq([2, 6, units]);
    expect(() => norm.applySync({ tensor: h, mask: bits(24) })).toThrow(
      `Layer 'layer_normalization' (LayerNormalization): argument 'mask' has 24 values; expected 12, shape [2, 6] (the mask its input of shape [2, 6, ${units}] needs; pass maskShape for another shape).`,
    );
    // Keras passes a mask it does not read on unchanged (LayerNormalization.compute_mask returns it):
    // a (batch, steps, k) one, as a TimeDistributed(GRU) leaves on its output, keeps its shape.
    const passed = norm.applySync({ tensor: h, mask: bits(24), maskShape: [2, 6, 2] });
    expect(passed.maskShape).toEqual([2, 6, 2]);
    expect(Array.from(passed.mask ?? [])).toEqual(Array.from(bits(24)));
    expect(() => norm.applySync({ tensor: h, mask: bits(24), maskShape: [2, 12] })).toThrow(
      `Layer 'layer_normalization' (LayerNormalization): argument 'mask' has shape [2, 12]; its input of shape [2, 6, ${units}] needs a mask of shape [2, 6] or one that starts with [2, 6].`,
    );
    expect(Array.from(norm.applySync({ tensor: h, mask: bits(12), maskShape: [2, 6] }).mask ?? [])).toEqual(Array.from(bits(12)));
    const pool = layerOf(model.layers, 'global_average_pooling1d');
    expect(() => pool.applySync({ tensor: h, mask: bits(24), maskShape: [2, 6, 2] })).toThrow(
      `Layer 'global_average_pooling1d' (GlobalAveragePooling1D): is called with a mask of shape [2, 6, 2]; its input of shape [2, 6, ${units}] needs a mask of shape [2, 6] (batch, timesteps).`,
    );
    expect(pool.applySync({ tensor: h, mask: bits(12) }).tensor.shape).toEqual([2, units]);
    model.dispose();
  });
});

describe('a mask a layer passes on keeps its shape for the next applySync', () => {
  it("TimeDistributed(Dense)'s (batch, time) mask stays on its output, as in Keras 3, and the next layers take it", async () => {
    const model = await loadModel(join(GRAPH, 'td_dense_mask.keras'));
    const td = layerOf(model.layers, 'time_distributed');
    const x = seq([2, 4, 5, 3]);
    const out = td.applySync({ tensor: x, mask: bits(8), maskShape: [2, 4] });
    expect(out.tensor.shape).toEqual([2, 4, 5, 4]);
    expect(out.maskShape).toEqual([2, 4]);
    expect(Array.from(out.mask ?? [])).toEqual(Array.from(bits(8)));
    // Into the same layer again (an input of its size) and into a Masking, which computes its own mask.
    const again = td.applySync({ tensor: x, mask: out.mask, maskShape: out.maskShape });
    expect(again.maskShape).toEqual([2, 4]);
    expect(Array.from(again.tensor.data)).toEqual(Array.from(out.tensor.data));
    const masking = layerOf((await loadModel(join(GRAPH, 'masking_gru.keras'))).layers, 'masking');
    const masked = masking.applySync(out);
    expect(masked.maskShape).toBeUndefined();
    expect(masked.mask?.length).toBe(40);
    // A mask of the output's own shape needs no maskShape.
    expect(td.applySync({ tensor: x, mask: bits(40) }).maskShape).toBeUndefined();
    model.dispose();
  });
});

describe("a mask= from the model's own input is checked against the layer's input when the model runs", () => {
  /** masking_gru with any number of steps, and its first GRU's mask= read from a second input (batch, steps) instead of the Masking's. */
  function maskFromInput(): Record<string, any> {
    const c = structuredClone(GRAPH_FIXTURES.find((f) => f.name === 'masking_gru')?.model_config) as Record<string, any>;
    const input = {
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: { batch_shape: [null, null], dtype: 'bool', sparse: false, ragged: false, name: 'mask_in', optional: false },
      registered_name: null,
      name: 'mask_in',
      inbound_nodes: [],
    };
    c.layers[0].config.batch_shape = [null, null, 3];
    c.layers.splice(1, 0, input);
    c.input_layers = [c.input_layers, ['mask_in', 0, 0]];
    const gru = c.layers.find((l: { name: string }) => l.name === 'gru_2');
    gru.inbound_nodes[0].kwargs.mask = { class_name: '__keras_tensor__', config: { shape: [null, null], dtype: 'bool', keras_history: ['mask_in', 0, 0] } };
    return c;
  }

  it('a mask of other steps is refused (it used to run as a (batch, timesteps, k) mask), one of the same steps runs', async () => {
    const model = await loadModel(join(GRAPH, 'masking_gru.weights.h5'), { config: maskFromInput() });
    const x = seq([2, 6, 3]);
    await expect(model.predict([seq([2, 3, 3]), { shape: [2, 6], data: Float32Array.from(bits(12)) }])).rejects.toThrow(
      "Layer 'gru_2' (GRU): is called with a mask of shape [2, 6]; its input of shape [2, 3, 3] needs a mask of shape [2, 3] (batch, timesteps) or [2, 3, null] (batch, timesteps, k).",
    );
    expect((await model.predict([x, { shape: [2, 6], data: Float32Array.from(bits(12)) }])).shape[0]).toBe(2);
    model.dispose();
  });
});

describe('a mask= from a graph tensor is checked at run time for every layer that reads it per step', () => {
  /** The fixture with its first input's steps left open and `layer`'s mask= read from a new input of `maskRank` open axes. */
  function maskFromInput(fixture: string, layer: string, maskRank: number): Record<string, any> {
    const c = structuredClone(GRAPH_FIXTURES.find((f) => f.name === fixture)?.model_config) as Record<string, any>;
    const inputs: unknown[][] = Array.isArray(c.input_layers[0]) ? c.input_layers : [c.input_layers];
    const first = c.layers.find((l: { name: string }) => l.name === inputs[0][0]);
    first.config.batch_shape = first.config.batch_shape.map(() => null);
    const batch_shape = new Array(maskRank).fill(null);
    c.layers.splice(1, 0, {
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: { batch_shape, dtype: 'bool', sparse: false, ragged: false, name: 'mask_in', optional: false },
      registered_name: null,
      name: 'mask_in',
      inbound_nodes: [],
    });
    c.input_layers = [...inputs, ['mask_in', 0, 0]];
    const node = c.layers.find((l: { name: string }) => l.name === layer).inbound_nodes[0];
    node.kwargs.mask = { class_name: '__keras_tensor__', config: { shape: batch_shape, dtype: 'bool', keras_history: ['mask_in', 0, 0] } };
    return c;
  }
  const tokens = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => 1 + (i % 4)) });
  const ones = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1) });

  it('Bidirectional', async () => {
    const model = await loadModel(join(GRAPH, 'bidir_seq2seq.weights.h5'), { config: maskFromInput('bidir_seq2seq', 'bi_encoder', 2) });
    const target = seq([2, 3, 2]);
    await expect(model.predictOutputs([tokens([2, 4]), target, ones([2, 5])])).rejects.toThrow(
      "Layer 'bi_encoder' (Bidirectional): is called with a mask of shape [2, 5]; its input of shape [2, 4, 3] needs a mask of shape [2, 4] (batch, timesteps) or [2, 4, null] (batch, timesteps, k).",
    );
    expect((await model.predictOutputs([tokens([2, 4]), target, ones([2, 4])]))[0].shape[0]).toBe(2);
    model.dispose();
  });

  it('GlobalAveragePooling1D', async () => {
    const model = await loadModel(join(GRAPH, 'gru_norm_pool.weights.h5'), { config: maskFromInput('gru_norm_pool', 'global_average_pooling1d', 2) });
    await expect(model.predict([tokens([2, 4]), ones([2, 6])])).rejects.toThrow(
      /^Layer 'global_average_pooling1d' \(GlobalAveragePooling1D\): is called with a mask of shape \[2, 6\]; its input of shape \[2, 4, \d+\] needs a mask of shape \[2, 4\] \(batch, timesteps\)\.$/,
    );
    expect((await model.predict([tokens([2, 4]), ones([2, 4])])).shape[0]).toBe(2);
    model.dispose();
  });

  it('TimeDistributed: the prefix rule, then the wrapped GRU rule on each step', async () => {
    const model = await loadModel(join(GRAPH, 'td_words.weights.h5'), { config: maskFromInput('td_words', 'word_gru', 3) });
    await expect(model.predict([tokens([2, 4, 5]), ones([2, 3, 5])])).rejects.toThrow(
      "Layer 'word_gru' (TimeDistributed): is called with a mask of shape [2, 3, 5]; its input of shape [2, 4, 5, 3] needs a mask whose shape starts with [2, 4].",
    );
    await expect(model.predict([tokens([2, 4, 5]), ones([2, 4, 6])])).rejects.toThrow(
      "Layer 'word_gru' (TimeDistributed): is called with a mask of shape [2, 4, 6] and an input of shape [2, 4, 5, 3], which the GRU it wraps gets one step at a time; at each step it is called with a mask of shape [2, 6]",
    );
    expect((await model.predict([tokens([2, 4, 5]), ones([2, 4, 5])])).shape[0]).toBe(2);
    model.dispose();
  });

  it('async apply refuses a mask of the wrong shape as applySync does', async () => {
    const model = await loadModel(join(GRAPH, 'masking_gru.keras'));
    const gru = layerOf(model.layers, 'gru_2');
    await expect(gru.apply({ tensor: seq([3, 6, 3]), mask: bits(36), maskShape: [3, 12] })).rejects.toThrow(
      "Layer 'gru_2' (GRU): is called with a mask of shape [3, 12]; its input of shape [3, 6, 3] needs a mask of shape [3, 6] (batch, timesteps) or [3, 6, null] (batch, timesteps, k).",
    );
    model.dispose();
  });
});

describe('attention masks from graph tensors are checked by shape, not only by size', () => {
  /** The fixture with a new bool input `name` of `batchShape`, read by `layer`'s call as `kwarg` (wrapped by `wrap`). */
  function withMaskInput(
    fixture: string,
    layer: string,
    name: string,
    batchShape: (number | null)[],
    kwarg: string,
    wrap: (t: unknown) => unknown,
  ): Record<string, any> {
    const c = structuredClone(GRAPH_FIXTURES.find((f) => f.name === fixture)?.model_config) as Record<string, any>;
    c.layers.splice(1, 0, {
      module: 'keras.layers',
      class_name: 'InputLayer',
      config: { batch_shape: batchShape, dtype: 'bool', sparse: false, ragged: false, name, optional: false },
      registered_name: null,
      name,
      inbound_nodes: [],
    });
    c.input_layers = [...c.input_layers, [name, 0, 0]];
    const node = c.layers.find((l: { name: string }) => l.name === layer).inbound_nodes[0];
    node.kwargs[kwarg] = wrap({ class_name: '__keras_tensor__', config: { shape: batchShape, dtype: 'bool', keras_history: [name, 0, 0] } });
    return c;
  }
  const tokens = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => 1 + (i % 4)) });
  const ones = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1) });

  it("Attention's value_mask of (batch, value steps, 1) is refused (with 3 query and 5 value steps Keras cannot broadcast it either); (batch, value steps) runs", async () => {
    const config = (rank: number) => withMaskInput('gru_attention', 'attention_1', 'value_mask_in', new Array(rank).fill(null), 'mask', (t) => [null, t]);
    const queries = seq([2, 3, 4]);
    const wrong = await loadModel(join(GRAPH, 'gru_attention.weights.h5'), { config: config(3) });
    await expect(wrong.predictOutputs([tokens([2, 5]), queries, ones([2, 5, 1])])).rejects.toThrow(
      "Layer 'attention_1' (Attention): argument 'value_mask' has shape [2, 5, 1]; its value of shape [2, 5, 4] and the query's 3 steps need a mask that broadcasts to the scores' [2, 3, 5] as Keras aligns it, on the right (one of 2 axes gets the Tq axis: (x, Tv) is read as (x, 1, Tv)).",
    );
    wrong.dispose();
    const model = await loadModel(join(GRAPH, 'gru_attention.weights.h5'), { config: config(2) });
    expect((await model.predictOutputs([tokens([2, 5]), queries, ones([2, 5])]))[1].shape).toEqual([2, 3, 4]);
    model.dispose();
    // One row per query, (batch, Tq, Tv), runs too (Keras applies it to the scores as it is).
    const perQuery = await loadModel(join(GRAPH, 'gru_attention.weights.h5'), { config: config(3) });
    expect((await perQuery.predictOutputs([tokens([2, 5]), queries, ones([2, 3, 5])]))[1].shape).toEqual([2, 3, 4]);
    perQuery.dispose();
  });

  it("MultiHeadAttention's attention_mask of (batch, value steps, query steps) is refused; (batch, query steps, value steps) runs", async () => {
    const config = withMaskInput('gru_mha', 'multi_head_attention_1', 'attention_mask_in', [null, null, null], 'attention_mask', (t) => t);
    const model = await loadModel(join(GRAPH, 'gru_mha.weights.h5'), { config });
    const queries = seq([2, 3, 4]);
    await expect(model.predictOutputs([tokens([2, 5]), queries, ones([2, 5, 3])])).rejects.toThrow(
      "Layer 'multi_head_attention_1' (MultiHeadAttention): argument 'attention_mask' has shape [2, 5, 3]; its query of shape [2, 3, 4] and value of shape [2, 5, 4] need a mask that broadcasts to [2, 3, 5], or to [2, 2, 3, 5] (batch, heads, Tq, Tv).",
    );
    expect((await model.predictOutputs([tokens([2, 5]), queries, ones([2, 3, 5])]))[1].shape[0]).toBe(2);
    model.dispose();
  });
});
