import { describe, expect, it } from 'vitest';
import { GRU, type GruOptions, type Tensor } from '../src/index.js';
// The kit's seeded generator (core cannot depend on @gru/conformance, which depends on it).
import { rng } from '../../../conformance/src/testing/rng.js';

const SMOOTH = ['tanh', 'sigmoid', 'softsign', 'silu', 'gelu', 'softplus', 'linear', 'mish', 'softmax', 'log_softmax', 'elu'];
/** glu runs in a GRU only at units = 2 (its one-value half broadcasts back, as in Keras). */
const smoothFor = (units: number) => (units === 2 ? [...SMOOTH, 'glu'] : SMOOTH);

interface Setup {
  options: GruOptions;
  x: Tensor;
  mask?: Tensor;
  initialState?: Tensor;
  dropoutMask?: Tensor | Tensor[];
  recurrentDropoutMask?: Tensor[];
  cOut: Float64Array;
  cState?: Float64Array;
}

function randomSetup(seed: number): Setup {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const B = 1 + Math.floor(r() * 3);
  const T = 1 + Math.floor(r() * 5);
  const D = 1 + Math.floor(r() * 3);
  const H = 1 + Math.floor(r() * 4);
  const returnSequences = r() < 0.6;
  const returnState = r() < 0.5;
  const timeMajor = r() < 0.2;
  const training = r() < 0.3;
  const recurrentDropout = training && r() < 0.6 ? 0.3 : 0;
  const dropout = training && r() < 0.6 ? 0.25 : 0;
  const options: GruOptions = {
    units: H,
    dtype: 'float64',
    activation: pick(smoothFor(H)),
    recurrentActivation: pick(smoothFor(H)),
    resetAfter: r() < 0.5,
    useBias: r() < 0.8,
    goBackwards: r() < 0.4,
    unroll: r() < 0.3,
    zeroOutputForMask: r() < 0.3,
    returnSequences,
    returnState,
    timeMajor,
    dropout,
    recurrentDropout,
    seed: seed,
  };
  const rand = (n: number, scale = 1) => Float64Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const x = { shape: timeMajor ? [T, B, D] : [B, T, D], data: rand(B * T * D) };
  const setup: Setup = { options, x, cOut: new Float64Array(0) };
  if (r() < 0.5) {
    const m = Float64Array.from({ length: B * T }, () => (r() < 0.7 ? 1 : 0));
    if (B > 1 && r() < 0.5) m.fill(0, 0, T); // a fully masked row
    setup.mask = { shape: timeMajor ? [T, B] : [B, T], data: m }; // time-major layers take time-major masks
  }
  // A [1, units] initial state broadcasts over the batch, and Keras then draws [1, units] recurrent masks.
  const stateRows = B > 1 && r() < 0.3 ? 1 : B;
  if (r() < 0.5) setup.initialState = { shape: [stateRows, H], data: rand(stateRows * H) };
  const maskRows = setup.initialState ? stateRows : B;
  const mask01 = (n: number, rate: number) => Float64Array.from({ length: n }, () => (r() < rate ? 0 : 1 / (1 - rate)));
  const perGate = recurrentDropout > 0;
  if (dropout > 0) {
    setup.dropoutMask = perGate ? [0, 1, 2].map(() => ({ shape: [B, D], data: mask01(B * D, dropout) })) : { shape: [B, D], data: mask01(B * D, dropout) };
  }
  if (recurrentDropout > 0) setup.recurrentDropoutMask = [0, 1, 2].map(() => ({ shape: [maskRows, H], data: mask01(maskRows * H, recurrentDropout) }));
  setup.cOut = rand(returnSequences ? B * T * H : B * H);
  if (returnState) setup.cState = rand(B * H);
  return setup;
}

function makeLayer(s: Setup, seed: number): GRU {
  const layer = new GRU(s.options);
  const r = rng(seed + 7);
  const D = s.options.timeMajor ? s.x.shape[2] : s.x.shape[2];
  layer.build([null, null, D]);
  layer.setWeights(layer.getWeights().map((w) => ({ shape: w.shape, data: Float64Array.from(w.data, () => (r() * 2 - 1) * 0.5) })));
  return layer;
}

function loss(layer: GRU, s: Setup, x: Tensor, h0: Tensor | undefined): number {
  const res = layer.forwardSync(x, {
    mask: s.mask,
    initialState: h0,
    training: s.options.dropout! > 0 || s.options.recurrentDropout! > 0,
    dropoutMask: s.dropoutMask,
    recurrentDropoutMask: s.recurrentDropoutMask,
  });
  let l = 0;
  res.output.data.forEach((v, i) => (l += v * s.cOut[i]));
  if (s.cState && res.state) res.state.data.forEach((v, i) => (l += v * (s.cState as Float64Array)[i]));
  return l;
}

/** Central differences of `loss` over every element of `target` (perturbed in place). */
function numericGradient(target: Float64Array, f: () => number, h = 1e-6): Float64Array {
  const g = new Float64Array(target.length);
  for (let i = 0; i < target.length; i++) {
    const v = target[i];
    target[i] = v + h;
    const up = f();
    target[i] = v - h;
    const down = f();
    target[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/**
 * Central differences lose about eps*|L|/h to rounding, which matters when an unstable random
 * configuration makes the loss large (1e7 was seen), so the tolerance includes that term.
 */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, lossScale = 1): void {
  expect(got.length, what).toBe(want.length);
  const roundoff = (8 * Number.EPSILON * Math.abs(lossScale)) / 1e-6;
  for (let i = 0; i < want.length; i++) {
    const tol = 2e-6 + 1e-5 * Math.abs(want[i]) + roundoff;
    if (!(Math.abs(got[i] - want[i]) <= tol)) throw new Error(`${what}[${i}]: analytic ${got[i]}, numeric ${want[i]}`);
  }
}

describe('backward matches float64 finite differences through our own forward', () => {
  for (let seed = 1; seed <= 200; seed++) {
    it(`random configuration #${seed}`, () => {
      const s = randomSetup(seed);
      const layer = makeLayer(s, seed);
      const training = s.options.dropout! > 0 || s.options.recurrentDropout! > 0;
      layer.forwardSync(s.x, {
        mask: s.mask,
        initialState: s.initialState,
        training,
        keepForBackward: true,
        dropoutMask: s.dropoutMask,
        recurrentDropoutMask: s.recurrentDropoutMask,
      });
      const g = layer.backwardSync(
        {
          shape:
            Array.isArray(layer.computeOutputShape(s.x.shape)) && s.options.returnState
              ? (layer.computeOutputShape(s.x.shape) as number[][])[0]
              : (layer.computeOutputShape(s.x.shape) as number[]),
          data: s.cOut,
        },
        s.cState ? { shape: [s.cState.length / s.options.units, s.options.units], data: s.cState } : undefined,
      );

      const x = { shape: s.x.shape, data: Float64Array.from(s.x.data) };
      const h0 = s.initialState ? { shape: s.initialState.shape, data: Float64Array.from(s.initialState.data) } : undefined;
      const L = loss(layer, s, x, h0);
      expectClose(
        g.inputs.data,
        numericGradient(x.data, () => loss(layer, s, x, h0)),
        'd/dinputs',
        L,
      );
      if (h0)
        expectClose(
          g.initialState!.data,
          numericGradient(h0.data, () => loss(layer, s, x, h0)),
          'd/dinitialState',
          L,
        );
      else expect(g.initialState).toBeNull();
      const weights = layer.getWeights();
      const names = ['kernel', 'recurrentKernel', 'bias'] as const;
      weights.forEach((w, i) => {
        const data = w.data as Float64Array;
        const numeric = numericGradient(data, () => {
          layer.setWeights(weights);
          return loss(layer, s, x, h0);
        });
        expectClose((g[names[i]] as Tensor).data, numeric, `d/d${names[i]}`, L);
      });
    });
  }
});

describe('regularization gradients', () => {
  it('includeRegularization differentiates layer.losses too', () => {
    const layer = new GRU({
      units: 3,
      dtype: 'float64',
      returnSequences: true,
      returnState: true,
      kernelRegularizer: { class_name: 'L1L2', config: { l1: 0.01, l2: 0.02 } },
      recurrentRegularizer: 'l2',
      biasRegularizer: 'l1',
      activityRegularizer: { class_name: 'L2', config: { l2: 0.05 } },
    });
    const r = rng(99);
    const x = { shape: [2, 4, 2], data: Float64Array.from({ length: 16 }, () => r() * 2 - 1) };
    layer.build([2, 4, 2]);
    layer.setWeights(layer.getWeights().map((w) => ({ shape: w.shape, data: Float64Array.from(w.data, () => r() - 0.5) })));
    const c = Float64Array.from({ length: 24 }, () => r() - 0.5);
    const total = () => {
      const res = layer.forwardSync(x);
      let l = 0;
      res.output.data.forEach((v, i) => (l += v * c[i]));
      return l + layer.losses.reduce((a, b) => a + b, 0);
    };
    layer.forwardSync(x, { keepForBackward: true });
    expect(layer.losses).toHaveLength(5); // activity on output and state, then kernel, recurrent, bias
    const g = layer.backwardSync({ shape: [2, 4, 3], data: c }, null, { includeRegularization: true });
    const weights = layer.getWeights();
    const kernel = weights[0].data as Float64Array;
    const numeric = numericGradient(kernel, () => {
      layer.setWeights(weights);
      return total();
    });
    expectClose(g.kernel.data, numeric, 'd/dkernel');
    const xs = x.data;
    expectClose(g.inputs.data, numericGradient(xs, total), 'd/dinputs');
  });

  it('refuses backward without a kept forward call, or after the weights changed', () => {
    const layer = new GRU({ units: 2 });
    const x = [[[1, 2]]];
    layer.forwardSync(x);
    expect(() => layer.backwardSync([[0, 1]])).toThrow(/needs a preceding forward call with training: true/);
    layer.forwardSync(x, { training: true });
    layer.setWeights(layer.getWeights());
    expect(() => layer.backwardSync([[0, 1]])).toThrow(/weights changed since the forward call/);
    layer.forwardSync(x, { training: true });
    expect(() => layer.backwardSync([[0, 1, 2]])).toThrow(/`dOutput` must have the output's shape \(1, 2\), received \(1, 3\)/);
  });

  it('applyConstraints applies kernel, recurrent and bias constraints', () => {
    const layer = new GRU({
      units: 2,
      kernelConstraint: 'non_neg',
      recurrentConstraint: { class_name: 'MaxNorm', config: { max_value: 0.5, axis: 0 } },
      biasConstraint: 'non_neg',
    });
    layer.build([1, 1, 2]);
    layer.setWeights([
      { shape: [2, 6], data: Array.from({ length: 12 }, (_, i) => i - 6) },
      { shape: [2, 6], data: Array.from({ length: 12 }, () => 3) },
      { shape: [2, 6], data: Array.from({ length: 12 }, (_, i) => (i % 2 ? -1 : 1)) },
    ]);
    layer.applyConstraints();
    const [k, rk, b] = layer.getWeights();
    expect(Math.min(...k.data)).toBe(0);
    for (let col = 0; col < 6; col++) {
      const norm = Math.hypot(rk.data[col], rk.data[6 + col]);
      expect(norm).toBeCloseTo(0.5, 5);
    }
    expect(Math.min(...b.data)).toBe(0);
  });
});
