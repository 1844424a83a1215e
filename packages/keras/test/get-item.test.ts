import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, supportedOps, UnsupportedLayerError } from '../src/index.js';
import { GRAPH, GRAPH_FIXTURES, type GraphFixture } from './graph-fixtures.js';

// The getitem fixture (graph.test.ts, backends.test.ts) checks GetItem's values against Keras in
// every format; these check what a file gru cannot run is called: unsupported, never corrupt.

const f = GRAPH_FIXTURES.find((g) => g.name === 'getitem') as GraphFixture;
type Layer = { class_name: string; name: string; inbound_nodes: { args: unknown[] }[] };
const withKey = (layer: string, key: unknown) => {
  const c = structuredClone(f.model_config) as { layers: Layer[] };
  const entry = c.layers.find((l) => l.name === layer) as Layer;
  entry.inbound_nodes[0].args[1] = key;
  return c;
};
const load = (config: Record<string, unknown>) => loadModel(join(GRAPH, 'getitem.weights.h5'), { config });
const slice = (start: number | null, stop: number | null, step: number | null) => ({ class_name: '__slice__', config: { start, stop, step } });

describe('GetItem (x[key]) in a Functional graph', () => {
  it('is a supported op', () => {
    expect(supportedOps()).toContain('GetItem');
  });

  it('an index of the batch axis is refused as unsupported, naming the op', async () => {
    const err = await load(withKey('get_item', [-1])).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.className).toBe('GetItem');
    expect(err.message).toMatch(/layer 'get_item' \(GetItem\).*indexes the batch axis/);
  });

  it('an index part gru does not read (a tensor index, a float) is unsupported, naming the op and the part', async () => {
    const err = await load(withKey('get_item', [slice(null, null, null), { class_name: '__numpy_array__', config: { value: [0, 1] } }])).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.message).toMatch(/layer 'get_item' \(GetItem\) takes an argument gru does not support \(a nested structure\): .*__numpy_array__/);
    const float = await load(withKey('get_item', [slice(null, null, null), 1.5])).catch((e) => e);
    expect(float).toBeInstanceOf(UnsupportedLayerError);
    expect(float.message).toMatch(/indexes with 1\.5/);
  });

  it('a slice with step 0 is refused, as Python refuses it', async () => {
    const err = await load(withKey('get_item', [slice(null, null, null), slice(null, null, 0)])).catch((e) => e);
    expect(err).toBeInstanceOf(UnsupportedLayerError);
    expect(err.message).toMatch(/indexes with .*"step":0/);
  });

  it('shapes follow Keras: out-of-range slices clip, negative steps count down', async () => {
    const model = await load(withKey('get_item', [slice(null, null, null), slice(-1, -100, -2), slice(2, 100, null)]));
    const x = f.inputs.map((t) => ({ ...t }));
    const [out] = await model.predictOutputs(x);
    // h has shape (3, 5, 4): steps 4, 2, 0 and features 2, 3.
    expect(out.shape).toEqual([3, 3, 2]);
    const h = (await (await loadModel(join(GRAPH, 'getitem.keras'))).predictOutputs(x))[4]; // h[:, ::-2]: steps 4, 2, 0
    for (let b = 0; b < 3; b++)
      for (let t = 0; t < 3; t++) for (let k = 0; k < 2; k++) expect(out.data[(b * 3 + t) * 2 + k]).toBe(h.data[(b * 3 + t) * 4 + 2 + k]);
  });
});
