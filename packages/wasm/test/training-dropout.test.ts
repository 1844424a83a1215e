import { GRU, type TensorLike } from '@gru/core';
import { bundledCasesDir, compareArrays, loadCaseFiles, TOLERANCES } from '@gru/conformance';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';

/**
 * Keras's training-mode cases (dropout and recurrent dropout with recorded masks) through the
 * public layer API, with and without keeping what backward needs (a training call's default):
 * both run on wasm and must match Keras.
 */
const cases = loadCaseFiles(bundledCasesDir()).cases.filter((c) => c.layer === 'GRU' && c.training && c.dtype === 'float32' && !c.steps);

beforeAll(() => backend.load());

describe('training-mode dropout cases on wasm', () => {
  it('there are such cases', () => expect(cases.length).toBeGreaterThanOrEqual(5));

  for (const c of cases) {
    for (const keepForBackward of [false, true])
      it(`${c.name} (keepForBackward: ${keepForBackward})`, async () => {
        const layer = GRU.fromConfig(c.config);
        const w = c.weights;
        layer.setWeights(w.bias ? [w.kernel, w.recurrent_kernel, w.bias] : [w.kernel, w.recurrent_kernel]);
        const result = await layer.forward(c.inputs, {
          mask: c.mask ?? undefined,
          initialState: c.initial_state ?? undefined,
          training: true,
          keepForBackward,
          backend: 'wasm',
          ...(c.dropout_mask ? { dropoutMask: c.dropout_mask as TensorLike | TensorLike[] } : {}),
          ...(c.recurrent_dropout_mask ? { recurrentDropoutMask: c.recurrent_dropout_mask as TensorLike[] } : {}),
        });
        expect(result.backend).toBe('wasm');
        expect(result.outputs.length).toBe(c.outputs.length);
        result.outputs.forEach((t, i) => {
          expect(t.shape).toEqual(c.outputs[i].shape);
          const cmp = compareArrays(t.data, c.outputs[i].data, TOLERANCES.float32);
          expect(cmp.ok, cmp.message).toBe(true);
        });
        layer.dispose();
      });
  }
});
