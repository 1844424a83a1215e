import { unzipSync, zipSync } from 'fflate';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GRU } from '@gru/core';
import { EmbeddingLayer, loadModel, modelFromParsed, parseModel } from '../src/index.js';
import { expectClose, FIXTURES, readBytes, readJson, type JsonTensor } from './helpers.js';

const EMBED = join(FIXTURES, 'k3_embed_stack.keras');
const ref = readJson<{ input: JsonTensor; expected: JsonTensor[] }>(join(FIXTURES, 'k3_embed_stack.json'));

/** The nested-array form of a {shape, data} tensor of rank 2. */
function nested(t: JsonTensor): number[][] {
  const [rows, cols] = t.shape;
  return Array.from({ length: rows }, (_, r) => t.data.slice(r * cols, (r + 1) * cols));
}

/** EMBED with its GRUs stateful and its batch fixed at 4, as a model built with Input(batch_size=4). */
async function statefulEmbedStack() {
  const files = unzipSync(readBytes(EMBED));
  const config = JSON.parse(new TextDecoder().decode(files['config.json']));
  config.config.layers[0].config.batch_shape = [4, 6];
  for (const l of config.config.layers) if (l.class_name === 'GRU') l.config.stateful = true;
  files['config.json'] = new TextEncoder().encode(JSON.stringify(config));
  return loadModel(zipSync(files));
}

describe('KerasModel', () => {
  it('describes itself: name, shapes, layers, parameter count, summary', async () => {
    const model = await loadModel(EMBED);
    expect(model.name).toBe('embed_stack');
    expect(model.inputShape).toEqual([null, 6]);
    expect(model.inputDtype).toBe('int32');
    expect(model.outputShapes).toEqual([[null, 2]]);
    expect(model.layers.map((l) => `${l.name}:${l.className}`)).toEqual(['embedding:Embedding', 'gru:GRU', 'gru_1:GRU', 'dense:Dense']);
    expect(model.parameterCount).toBe(9 * 3 + (3 * 12 + 4 * 12 + 2 * 12) + (4 * 9 + 3 * 9 + 2 * 9) + (3 * 2 + 2));
    const summary = model.summary();
    expect(summary).toMatch(/│ gru_1 \(GRU\) +│ \(None, 3\) +│ +81 │/);
    expect(summary).toMatch(/Layer \(type\) +┃ Output Shape +┃ Param # ┃/);
    expect(summary).toMatch(/Total params: 224 \(896\.00 B\)/);
    expect(model.getLayer('embedding')).toBeInstanceOf(EmbeddingLayer);
  });

  it('hands out its GRUs as @gru/core layers, by name, with weights set', async () => {
    const model = await loadModel(EMBED);
    expect([...model.grus.keys()]).toEqual(['gru', 'gru_1']);
    const gru = model.getGRU('gru_1');
    expect(gru).toBeInstanceOf(GRU);
    expect(gru.units).toBe(3);
    expect(gru.kernel.shape).toEqual([4, 9]);
    expect(() => model.getGRU('dense')).toThrow(/No GRU named 'dense'\. GRUs: gru, gru_1\./);
    expect(() => model.getLayer('nope')).toThrow(/No layer named 'nope'\. Layers: embedding, gru, gru_1, dense\./);
  });

  it('takes nested arrays as well as {shape, data}, and checks the input shape', async () => {
    const model = await loadModel(EMBED);
    expectClose(await model.predict(nested(ref.input)), ref.expected[0]);
    await expect(model.predict([[1, 2, 3]])).rejects.toThrow(/expects input of shape \[null, 6\] \(null: any size\), received \[1, 3\]/);
    await expect(model.predict([[1, 2], [3]] as never)).rejects.toThrow(/ragged/);
  });

  it('casts inputs to an integer Input dtype as Keras does (truncation), and refuses ids outside the vocabulary', async () => {
    const model = await loadModel(EMBED);
    const fractional = { shape: ref.input.shape, data: ref.input.data.map((v) => (v === 0 ? 0 : v + 0.75)) };
    expectClose(await model.predict(fractional), ref.expected[0]);
    await expect(model.predict({ shape: [1, 6], data: [1, 2, 3, 4, 5, 9] })).rejects.toThrow(
      /Layer 'embedding' \(Embedding\): input value 9 at flat index 5 is not a valid id in \[0, 9\)/,
    );
    await expect(model.predict({ shape: [1, 6], data: [1, 2, 3, 4, 5, NaN] })).rejects.toThrow(/takes int32 input; x holds NaN at flat index 5/);
  });

  it('runs its GRUs on the backend asked for, and reports unknown ones', async () => {
    const model = await loadModel(EMBED, { backend: 'reference' });
    expectClose(await model.predict(ref.input), ref.expected[0]);
    expectClose(await model.predict(ref.input, { backend: 'reference' }), ref.expected[0]);
    await expect(model.predict(ref.input, { backend: 'nope' })).rejects.toThrow(/Backend 'nope' is not registered/);
    await expect(model.predict(ref.input, { bogus: 1 } as never)).rejects.toThrow(/Unknown predict option\(s\): bogus/);
  });

  it('a parsed model is plain data: it survives structuredClone (postMessage from a Worker)', async () => {
    const parsed = await parseModel(EMBED);
    const copy = structuredClone(parsed);
    expectClose(await modelFromParsed(copy).predict(ref.input), ref.expected[0]);
    expect(copy.weights[1][0]).toBeInstanceOf(Float32Array);
  });

  it("getConfig returns a copy of the file's config; dispose leaves the model usable", async () => {
    const model = await loadModel(EMBED);
    const config = model.getConfig() as { config: { layers: unknown[] } };
    config.config.layers.length = 0;
    expect((model.getConfig() as { config: { layers: unknown[] } }).config.layers.length).toBe(5);
    model.dispose();
    expectClose(await model.predict(ref.input), ref.expected[0]);
  });

  it('stateful GRUs keep their state across predict calls until resetStates()', async () => {
    const model = await statefulEmbedStack();
    const first = await model.predict(ref.input);
    expectClose(first, ref.expected[0], 'first call (zero initial state)');
    const second = await model.predict(ref.input);
    expect(Math.max(...second.data.map((v, i) => Math.abs(v - first.data[i])))).toBeGreaterThan(1e-4);
    model.resetStates();
    expectClose(await model.predict(ref.input), ref.expected[0], 'after resetStates');
    // Its state holds 4 samples: the recorded batch size binds here (and only where a layer needs it).
    const two = { shape: [2, 6], data: ref.input.data.slice(0, 12) };
    await expect(model.predict(two)).rejects.toThrow(
      /expects input of shape \[4, 6\] \(null: any size; the batch size is fixed: stateful GRU '[^']+' keeps one state per sample\), received \[2, 6\]/,
    );
  });

  it("a stateful GRU is built with the model's batch size, as Keras builds its state: its stream starts before any predict", async () => {
    const model = await statefulEmbedStack();
    const [name, gru] = [...model.grus][0];
    expect(gru.states?.[0].shape, name).toEqual([4, gru.units]);
    expect(Array.from(gru.states?.[0].data ?? [1]).every((v) => v === 0)).toBe(true);
    const stream = gru.stream();
    const features = gru.inputShape[2] as number;
    const step = stream.step(new Float32Array(4 * features).fill(0.5));
    expect(step.length).toBe(4 * gru.units);
    // The stream's steps are the model's state: a predict now continues from them, unlike a fresh model's.
    stream.close();
    const after = await model.predict(ref.input);
    model.resetStates();
    const fresh = await model.predict(ref.input);
    expectClose(fresh, ref.expected[0], 'after resetStates');
    expect(Math.max(...after.data.map((v, i) => Math.abs(v - fresh.data[i])))).toBeGreaterThan(1e-6);
  });

  it('takes any batch size where the Input records one but no layer needs it, as Keras does (Input(batch_shape=...))', async () => {
    const files = unzipSync(readBytes(EMBED));
    const config = JSON.parse(new TextDecoder().decode(files['config.json']));
    config.config.layers[0].config.batch_shape = [4, 6];
    files['config.json'] = new TextEncoder().encode(JSON.stringify(config));
    const model = await loadModel(zipSync(files));
    expect(model.inputShape).toEqual([4, 6]);
    const rows = (t: { shape: number[]; data: ArrayLike<number> }, n: number) => {
      const per = t.data.length / t.shape[0];
      return { shape: [n, ...t.shape.slice(1)], data: Array.from(t.data).slice(0, n * per) };
    };
    expectClose(await model.predict(rows(ref.input, 2)), rows(ref.expected[0], 2), 'a batch of 2');
  });
});
