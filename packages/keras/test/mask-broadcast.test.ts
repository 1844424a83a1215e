import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelLayer } from '../src/index.js';
import { broadcastMask } from '../src/layers/mask-ops.js';
import { GRAPH } from './graph-fixtures.js';

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const fail = (message: string): never => {
  throw new Error(message);
};

/** numpy's broadcast, one index at a time: the reference the block copies must match. */
function naive(mask: Uint8Array, shape: number[], target: number[]): number[] {
  const lead = target.length - shape.length;
  return Array.from({ length: size(target) }, (_, k) => {
    let at = 0;
    let rest = k;
    const idx = target.map((_d, i) => {
      const inner = size(target.slice(i + 1));
      const v = Math.floor(rest / inner);
      rest -= v * inner;
      return v;
    });
    shape.forEach((d, i) => {
      at = at * d + (d === 1 ? 0 : idx[lead + i]);
    });
    return mask[at];
  });
}

describe('broadcastMask', () => {
  it('matches numpy broadcasting on leading, middle, trailing and size-0 axes', () => {
    const cases: [number[], number[]][] = [
      [
        [1, 3, 4],
        [2, 3, 4],
      ],
      [
        [2, 1, 4],
        [2, 3, 4],
      ],
      [
        [2, 3, 1],
        [2, 3, 4],
      ],
      [
        [3, 4],
        [2, 3, 4],
      ],
      [
        [1, 1, 4],
        [2, 3, 4],
      ],
      [
        [2, 1, 1],
        [2, 3, 4],
      ],
      [
        [1, 3, 1],
        [2, 3, 4],
      ],
      [[4], [2, 3, 4]],
      [[1], [2, 3]],
      [
        [2, 1, 4, 1],
        [2, 3, 4, 5],
      ],
      [
        [1, 4],
        [0, 4],
      ],
      [
        [2, 0],
        [3, 2, 0],
      ],
    ];
    for (const [shape, target] of cases) {
      const mask = Uint8Array.from({ length: size(shape) }, (_, i) => ((i * 7) % 3 === 1 ? 0 : 1));
      expect(Array.from(broadcastMask(mask, shape, target) ?? []), `${shape} -> ${target}`).toEqual(naive(mask, shape, target));
    }
    expect(broadcastMask(new Uint8Array(6), [2, 3], [3, 2])).toBeNull();
    expect(broadcastMask(new Uint8Array(6), [1, 2, 3], [2, 3])).toBeNull();
  });
});

describe('attention layers check mask shapes by their axes, before any call', () => {
  // The runner checks each call's masks by shape before the call; the check must not build the
  // broadcast mask (it did, value by value, and again in the call). Here the broadcast mask would
  // have 2^40 values, more than a typed array holds: only a check by axes passes.
  const [B, T, S] = [2 ** 16, 2 ** 12, 2 ** 12];
  const shapeOnly = (shape: number[]) => ({ shape, data: new Float32Array(0) });
  const flow = (shape: number[]) => ({ tensor: shapeOnly(shape), mask: null });
  const layerOf = (layers: readonly ModelLayer[], name: string) => layers.find((l) => l.name === name) as ModelLayer;

  it('MultiHeadAttention: a (1, 1, S) attention_mask for (B, T, S)', async () => {
    const model = await loadModel(join(GRAPH, 'gru_mha.keras'));
    const mha = layerOf(model.layers, 'multi_head_attention_1');
    const call = { args: [{ tensor: flow([B, T, 4]) }, { tensor: flow([B, S, 4]) }], named: { attention_mask: [flow([1, 1, S])] }, mask: null, kwargs: {} };
    expect(() => mha.checkCallMasks(fail, call, false)).not.toThrow();
    const wrong = { ...call, named: { attention_mask: [flow([1, 2, S])] } };
    expect(() => mha.checkCallMasks(fail, wrong, false)).toThrow("argument 'attention_mask' has shape [1, 2, 4096]");
    model.dispose();
  });

  it('Attention: a (1, Tv) value_mask for (B, Tv)', async () => {
    const model = await loadModel(join(GRAPH, 'gru_attention.keras'));
    const att = layerOf(model.layers, 'attention_1');
    const [b, tv] = [2 ** 20, 2 ** 13];
    const call = { args: [{ list: [flow([b, 3, 4]), flow([b, tv, 4])] }], named: {}, mask: [null, flow([1, tv])], kwargs: {} };
    expect(() => att.checkCallMasks(fail, call, false)).not.toThrow();
    model.dispose();
  });
});
