import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KerasFileError, loadModel } from '../src/index.js';
import { GRAPH, GRAPH_FIXTURES, graphInputs } from './graph-fixtures.js';
import { expectClose } from './helpers.js';

/**
 * An option written as null is not an option left out: Keras fails on `padding=None` (it calls
 * `.lower()` on it) and on `score_mode=None` (not one of dot, concat), but reads
 * `data_format=None` as its default, channels_last. A null padding used to run as 'valid',
 * silently changing the output shape and values.
 */
const fixture = (name: string) => {
  const f = GRAPH_FIXTURES.find((g) => g.name === name);
  if (!f) throw new Error(`no graph fixture ${name}`);
  return f;
};

function withOption(name: string, layerIndex: number, key: string, value: unknown): Record<string, unknown> {
  const config = structuredClone(fixture(name).model_config) as { layers: { config: Record<string, unknown> }[] };
  config.layers[layerIndex].config[key] = value;
  return config;
}

const load = (name: string, config: Record<string, unknown>) => loadModel(join(GRAPH, `${name}.weights.h5`), { config });

describe('null layer options', () => {
  it.each([
    ['conv_gru', 2, 'padding', "layer 'conv1d_1' (Conv1D): `padding` must be one of valid, same, causal, found null"],
    ['conv_gru', 3, 'padding', '(MaxPooling1D): `padding` must be one of valid, same, found null'],
    ['gru_attention', 4, 'score_mode', '(Attention): `score_mode` must be one of dot, concat, found null'],
  ])('%s layer %i: %s null is refused, naming it', async (name, index, key, message) => {
    const err = await load(name, withOption(name, index, key, null)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KerasFileError);
    expect((err as Error).message).toContain(message);
  });

  it.each([
    [1, 'Conv1D'],
    [3, 'MaxPooling1D'],
    [5, 'AveragePooling1D'],
  ])('conv_gru layer %i (%s): data_format null is channels_last, as in Keras', async (index) => {
    const f = fixture('conv_gru');
    const model = await load('conv_gru', withOption('conv_gru', index, 'data_format', null));
    (await model.predictOutputs(graphInputs(f))).forEach((o, i) => expectClose(o, f.expected[i]));
  });
});
