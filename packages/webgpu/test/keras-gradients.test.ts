import { bundledCasesDir, loadCaseFiles, type CaseJson, type TensorJson } from '@gru/conformance';
import { GRU, registerBackend, unregisterBackend } from '@gru/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';

/**
 * Keras's gradient cases (float64 central finite differences of Keras 3.15.1) run in float32 on
 * webgpu: the layer cast to float32, its gradients compared with Keras's within float32 rounding
 * (atol 1e-5 times the largest gradient plus one, rtol 1e-4, as the reference comparisons here).
 * The conformance kit runs only float32 cases on a float32 backend; this holds webgpu's backward
 * to Keras itself until float32 gradient cases exist.
 */
const gpu = createWebGpuBackend({ name: 'webgpu-keras-grads', priority: -1, allowFallbackAdapter: true });
registerBackend(gpu);
afterAll(() => {
  unregisterBackend('webgpu-keras-grads');
  gpu.dispose();
});

const cases = loadCaseFiles(bundledCasesDir()).cases.filter((c) => c.grads && c.layer === 'GRU');
const KEYS = [
  ['inputs', 'inputs'],
  ['initial_state', 'initialState'],
  ['kernel', 'kernel'],
  ['recurrent_kernel', 'recurrentKernel'],
  ['bias', 'bias'],
] as const;

function asFloat32(c: CaseJson): GRU {
  const policy = c.config.dtype as { config?: object } | string;
  const dtype = typeof policy === 'object' && policy !== null ? { ...policy, config: { ...policy.config, name: 'float32' } } : 'float32';
  return GRU.fromConfig({ ...c.config, dtype });
}

describe('Keras gradient cases in float32 on webgpu', () => {
  it('has GRU gradient cases to run', () => {
    expect(cases.length).toBeGreaterThanOrEqual(5);
  });
  for (const c of cases) {
    it(c.name, async () => {
      const layer = asFloat32(c);
      try {
        const spec = (layer.build(c.inputs.shape), layer.cell.spec());
        const why = gpu.supportsBackward(spec);
        if (why !== true) {
          // Row-wise activations (softmax, glu) run forward only here; nothing else may be declined.
          expect(why).toMatch(/^(recurrentActivation|activation) '(glu|softmax)'/);
          return;
        }
        const w = c.weights;
        layer.setWeights(w.bias ? [w.kernel, w.recurrent_kernel, w.bias] : [w.kernel, w.recurrent_kernel]);
        const res = await layer.forward(c.inputs, {
          mask: c.mask ?? undefined,
          initialState: c.initial_state ?? undefined,
          training: c.training === true,
          keepForBackward: true,
          backend: 'webgpu-keras-grads',
        });
        expect(res.backend).toBe('webgpu-keras-grads');
        const g = (await layer.backward(c.cotangent as TensorJson)) as unknown as Record<string, { data: ArrayLike<number> } | null>;
        const want = c.grads as Record<string, TensorJson | undefined>;
        for (const [key, ours] of KEYS) {
          const wt = want[key];
          if (!wt || typeof wt !== 'object' || !('data' in wt)) continue;
          const got = g[ours];
          expect(got, `${c.name}: d/d${key}`).not.toBeNull();
          const scale = Math.max(...wt.data.map(Math.abs));
          wt.data.forEach((v, i) => {
            expect(Math.abs(got!.data[i] - v), `${c.name}: d/d${key}[${i}] = ${got!.data[i]}, Keras ${v}`).toBeLessThanOrEqual(
              1e-5 * (1 + scale) + 1e-4 * Math.abs(v),
            );
          });
        }
      } finally {
        layer.dispose();
      }
    });
  }
});
