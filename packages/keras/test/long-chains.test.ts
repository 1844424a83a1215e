import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';

/**
 * A long chain of calls (here 20,000 Activation layers, allowed by raising limits.maxLayers)
 * loads and predicts: walking the graph uses no recursion, which overflowed the call stack
 * ("RangeError: Maximum call stack size exceeded") from about 8,000 layers.
 */
function functionalChain(n: number): Uint8Array {
  const layers: Record<string, unknown>[] = [
    { class_name: 'InputLayer', name: 'in', config: { batch_input_shape: [null, 2], dtype: 'float32', name: 'in' }, inbound_nodes: [] },
  ];
  let prev = 'in';
  for (let i = 0; i < n; i++) {
    const name = `a${i}`;
    layers.push({ class_name: 'Activation', name, config: { name, activation: 'relu' }, inbound_nodes: [[[prev, 0, 0, {}]]] });
    prev = name;
  }
  const config = { name: 'chain', layers, input_layers: [['in', 0, 0]], output_layers: [[prev, 0, 0]] };
  const modelJson = {
    format: 'layers-model',
    modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: 'Functional', config } },
    weightsManifest: [],
  };
  return new TextEncoder().encode(JSON.stringify(modelJson));
}

describe('long chains of layers', () => {
  it('a 20,000-layer Functional chain loads and predicts', { timeout: 120_000 }, async () => {
    const model = await loadModel(functionalChain(20_000), { files: {}, limits: { maxLayers: 30_000 } });
    const y = await model.predict({ shape: [1, 2], data: Float32Array.from([-1, 2]) });
    expect(y.shape).toEqual([1, 2]);
    expect(Array.from(y.data)).toEqual([0, 2]);
  });
});
