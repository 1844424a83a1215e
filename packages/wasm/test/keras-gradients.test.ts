import { bundledCasesDir, compareArrays, loadCaseFiles, type TensorJson } from '@gru/conformance';
import { GRU, GRUCell, type Tensor } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';

/**
 * Keras's gradient cases (float64 layers, gradients by central finite differences) run as float32
 * layers on wasm: the gradients must agree with Keras's to float32 accuracy. Cases with
 * activations the wasm kernels do not run (softmax, glu) are left to supports(), which declines them.
 */
const cases = loadCaseFiles(bundledCasesDir()).cases.filter((c) => c.grads && !/softmax|glu/.test(JSON.stringify(c.config)));
/** float32 rounding of inputs and weights, propagated through a few steps: far below a wrong path. */
const TOLERANCE = { atol: 2e-6, rtol: 1e-4 };

function weightList(w: (typeof cases)[number]['weights']): TensorJson[] {
  return w.bias ? [w.kernel, w.recurrent_kernel, w.bias] : [w.kernel, w.recurrent_kernel];
}

beforeAll(() => backend.load());

describe("Keras's gradient cases in float32 on wasm", () => {
  it('there are such cases, cells and layers', () => {
    expect(cases.length).toBeGreaterThanOrEqual(6);
    expect(cases.some((c) => c.layer === 'GRUCell')).toBe(true);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const config = { ...c.config, dtype: 'float32' };
      let got: Record<string, Tensor | null>;
      if (c.layer === 'GRU') {
        const layer = GRU.fromConfig(config);
        layer.setWeights(weightList(c.weights));
        const r = await layer.forward(c.inputs, {
          mask: c.mask ?? undefined,
          initialState: c.initial_state ?? undefined,
          training: true,
          backend: 'wasm',
        });
        expect(r.backend).toBe('wasm');
        const g = await layer.backward(c.cotangent as TensorJson);
        got = { inputs: g.inputs, initial_state: g.initialState, kernel: g.kernel, recurrent_kernel: g.recurrentKernel, bias: g.bias };
        layer.dispose();
      } else {
        const cell = GRUCell.fromConfig(config);
        cell.setWeights(weightList(c.weights));
        const states = c.initial_state ?? cell.getInitialState(c.inputs.shape[0]);
        const request = { ...cell.stepRequest(c.inputs, states, { training: c.training === true }), keepForBackward: true };
        const prepared = await backend.prepare(cell.spec(), cell.gruWeights());
        const out = await prepared.forward(request);
        const g = await prepared.backward(out.saved, { dOutput: Float64Array.from((c.cotangent as TensorJson).data) });
        prepared.dispose();
        const H = cell.spec().units;
        got = {
          inputs: { shape: [request.batch, cell.spec().inputDim], data: g.dx },
          initial_state: { shape: [request.batch, H], data: g.dInitialState },
          kernel: { shape: [], data: g.dKernel },
          recurrent_kernel: { shape: [], data: g.dRecurrentKernel },
          bias: g.dBias && { shape: [], data: g.dBias },
        };
      }
      let compared = 0;
      for (const [key, want] of Object.entries(c.grads as Record<string, TensorJson>)) {
        if (!want || typeof want !== 'object' || !('data' in want)) continue;
        const g = got[key];
        expect(g, `d/d${key}`).toBeTruthy();
        const cmp = compareArrays((g as Tensor).data, want.data, TOLERANCE);
        expect(cmp.ok, `d/d${key}: ${cmp.message}`).toBe(true);
        compared++;
      }
      expect(compared).toBeGreaterThanOrEqual(3);
    });
  }
});
