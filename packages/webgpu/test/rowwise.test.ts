import { makeCase, planAgainstReference, rng, worstRatio, type CaseOptions, type Shape, type Variant } from '@gru/conformance/testing';
import { referenceForward } from '@gru/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';

/**
 * Row-wise activations (softmax, log_softmax, sparsemax per gate; glu at units = 2) against the
 * reference backend, on both recurrence kernels: units 1 and 3 (a row narrower than a
 * workgroup), 65 and 257 (rows past one and two workgroups' widths), every call option, each
 * activation as the gates', the candidate's and both. Every case must run: a declined one fails.
 */
const shapes: Shape[] = [
  { B: 1, T: 1, D: 1, H: 1 },
  { B: 3, T: 4, D: 3, H: 3 },
  { B: 2, T: 3, D: 2, H: 65 },
  { B: 2, T: 2, D: 3, H: 257 },
];

const options: Variant[] = [
  {},
  { resetAfter: false, useBias: false, initialState: true },
  { mask: 'any', goBackwards: true, initialState: true },
  { resetAfter: false, mask: 'right-padded', returnSequences: false, weightScale: 3 },
  { inputDropout: true, recurrentDropout: true, weightScale: 3 },
];

const variants: Variant[] = [
  ...['softmax', 'sparsemax'].flatMap((id, i) => [
    { ...options[i % options.length], recurrentActivation: id },
    { ...options[(i + 2) % options.length], activation: id, recurrentActivation: 'hard_sigmoid' },
    { ...options[(i + 4) % options.length], activation: id, recurrentActivation: id },
  ]),
  { resetAfter: false, mask: 'right-padded', returnSequences: false, activation: 'log_softmax', recurrentActivation: 'hard_sigmoid' },
  // Small weights and inputs keep a gate's values close: sparsemax supports of several units at
  // units = 3 (wider rows then come out all zero under Keras's threshold; rowwise-rows.test.ts
  // holds the row functions to core's at every width, supports of several units included).
  { resetAfter: false, recurrentActivation: 'sparsemax', weightScale: 0.1, inputScale: 0.1 },
  { initialState: true, mask: 'any', activation: 'sparsemax', recurrentActivation: 'sparsemax', weightScale: 0.1, inputScale: 0.1 },
];

// log_softmax gates are negative: each step adds z * h to (1 - z) * candidate, which cancel, so
// over several steps (or from an initial state) a one-ulp change of any input moves the exact
// result past the float32 tolerance. Those gates get one step from a zero state here.
const logSoftmaxGates: Variant[] = [
  { resetAfter: false, useBias: false, recurrentActivation: 'log_softmax' },
  { mask: 'any', goBackwards: true, activation: 'log_softmax', recurrentActivation: 'log_softmax' },
  { returnSequences: false, inputDropout: true, recurrentDropout: true, weightScale: 0.5, recurrentActivation: 'log_softmax' },
];

const gluVariants: Variant[] = options.flatMap((o) => [
  { ...o, recurrentActivation: 'glu' },
  { ...o, activation: 'glu' },
]);

/**
 * How far (in tolerances, as the kit's worstRatio) the exact result moves when every weight and
 * input moves by up to one float32 ulp: a draw is only a fair float32 check well below 1.
 */
function sensitivity(o: CaseOptions): number {
  const { spec, weights, request } = makeCase(o);
  const r = rng(12_345);
  const jiggle = <A extends Float32Array | Float64Array | null | undefined>(a: A): A =>
    (a ? Float32Array.from(a, (v) => v * (1 + (2 * r() - 1) * 2 ** -23)) : a) as A;
  const moved = referenceForward(
    spec,
    { kernel: jiggle(weights.kernel), recurrentKernel: jiggle(weights.recurrentKernel), bias: jiggle(weights.bias) },
    { ...request, x: jiggle(request.x), initialState: jiggle(request.initialState) },
  );
  return worstRatio(moved.output, referenceForward(spec, weights, request).output);
}

describe.each(['auto', 'stepwise'] as const)('row-wise activations on the %s recurrence', (recurrence) => {
  const backend = createWebGpuBackend({ name: `webgpu-rowwise-${recurrence}`, allowFallbackAdapter: true, recurrence });
  afterAll(() => backend.dispose());
  const cases = [
    ...planAgainstReference(backend, { shapes, variants, seed: 700 }),
    ...planAgainstReference(backend, { shapes: shapes.map((s) => ({ ...s, T: 1 })), variants: logSoftmaxGates, seed: 800 }),
    ...planAgainstReference(backend, { shapes: [{ B: 3, T: 5, D: 2, H: 2 }], variants: gluVariants, seed: 900 }),
  ];
  for (const c of cases) {
    it(c.name, { timeout: 120_000 }, async () => {
      expect(sensitivity(c.options), 'the draw is well conditioned in float32').toBeLessThan(0.05);
      const outcome = await c.run();
      expect(outcome.status === 'passed' ? 'passed' : `${outcome.status}: ${outcome.detail}`).toBe('passed');
    });
  }
});
