import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  clearSession,
  cudnnEligibility,
  GRU,
  GRU_BACKEND_SPEC_VERSION,
  referenceBackend,
  registerBackend,
  unregisterBackend,
  type GruBackend,
  type GruCallInfo,
  type GruSpec,
  type PreparedGru,
  plainCallInfo,
} from '../src/index.js';
import { expectGruError } from './helpers/errors.js';
import { plainSpec } from './helpers/plain-call.js';

const SPEC = plainSpec(4, 3);
const CALL = plainCallInfo(2, 5);

describe("cudnnEligibility: Keras's cuDNN rules, one reason each", () => {
  it('the default layer is eligible, with or without right-padded masks, backwards, initial state, input dropout', () => {
    expect(cudnnEligibility(SPEC, CALL)).toBe(true);
    expect(cudnnEligibility(SPEC, { ...CALL, mask: 'right-padded', goBackwards: true, initialState: true, returnSequences: true })).toBe(true);
    expect(cudnnEligibility(SPEC, { ...CALL, training: true })).toBe(true);
    expect(cudnnEligibility({ ...SPEC, dtype: 'float64' }, CALL)).toBe(true);
  });

  const rules: [string, Partial<GruSpec>, Partial<GruCallInfo>, string][] = [
    ['activation', { activation: 'relu' }, {}, "activation 'relu' is not tanh (cuDNN needs tanh)"],
    ['recurrent activation', { recurrentActivation: 'hard_sigmoid' }, {}, "recurrentActivation 'hard_sigmoid' is not sigmoid (cuDNN needs sigmoid)"],
    [
      'Keras 2 hard sigmoid',
      { recurrentActivation: 'keras2_hard_sigmoid' },
      {},
      "recurrentActivation 'keras2_hard_sigmoid' is not sigmoid (cuDNN needs sigmoid)",
    ],
    ['recurrent dropout, even in inference', {}, { recurrentDropoutRate: 0.2 }, 'recurrentDropout is 0.2 (cuDNN needs 0)'],
    ['unroll', {}, { unroll: true }, 'unroll is true (cuDNN needs a loop)'],
    ['use_bias', { useBias: false }, {}, 'useBias is false (cuDNN needs biases)'],
    ['reset_after', { resetAfter: false }, {}, 'resetAfter is false (cuDNN applies the reset gate after the matmul)'],
    ['mask with holes', {}, { mask: 'any' }, 'the mask is not strictly right-padded (cuDNN needs sequence lengths)'],
  ];
  for (const [rule, spec, call, reason] of rules) {
    it(rule, () => {
      expect(cudnnEligibility({ ...SPEC, ...spec }, { ...CALL, ...call })).toBe(reason);
    });
  }

  it("reports the first broken rule in Keras's order", () => {
    expect(cudnnEligibility({ ...SPEC, activation: 'relu', useBias: false }, { ...CALL, unroll: true })).toContain("activation 'relu'");
    expect(cudnnEligibility({ ...SPEC, useBias: false }, { ...CALL, unroll: true })).toContain('unroll');
  });
});

const registered: string[] = [];

function cudnnFake(name: string, priority = 100): GruBackend & { runs: number } {
  const b: GruBackend & { runs: number; prepareSync: NonNullable<GruBackend['prepareSync']> } = {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority,
    cudnn: true,
    runs: 0,
    async load() {},
    isLoaded: () => true,
    supports: (spec: GruSpec, call: GruCallInfo) => cudnnEligibility(spec, call),
    async prepare(spec: GruSpec, w: Parameters<GruBackend['prepare']>[1]) {
      return b.prepareSync(spec, w);
    },
    prepareSync(spec: GruSpec, w: Parameters<GruBackend['prepare']>[1]): PreparedGru {
      b.runs++;
      return referenceBackend.prepareSync?.(spec, w) as PreparedGru;
    },
  };
  registerBackend(b);
  registered.push(name);
  return b;
}

const X = [
  [
    [0.1, 0.2, 0.3],
    [0.4, 0.5, 0.6],
  ],
  [
    [-0.1, -0.2, -0.3],
    [0.7, 0.8, 0.9],
  ],
];

const KERAS_USE_CUDNN_TRUE =
  "use_cudnn=True was specified, but cuDNN is not supported for this layer configuration with this backend. Pass use_cudnn='auto' to fallback to a non-cuDNN implementation.";

beforeEach(() => clearSession());
afterEach(() => {
  while (registered.length) unregisterBackend(registered.pop() as string);
});

describe('useCudnn', () => {
  it("true without a cuDNN backend: Keras's message plus every backend's reason", () => {
    expectGruError(
      () => new GRU({ units: 4, useCudnn: true }).forwardSync(X),
      KERAS_USE_CUDNN_TRUE,
      '(reference: useCudnn is true and this is not a cuDNN backend)',
    );
  });

  it('true, async forward: the same error', async () => {
    await expect(new GRU({ units: 4, useCudnn: true }).forward(X)).rejects.toThrow(KERAS_USE_CUDNN_TRUE);
  });

  it('true with an eligible cuDNN backend runs on it', () => {
    const b = cudnnFake('fake-cudnn');
    const r = new GRU({ units: 4, useCudnn: true }).forwardSync(X);
    expect(r.backend).toBe('fake-cudnn');
    expect(b.runs).toBe(1);
  });

  it('true with a cuDNN backend that declines: the error carries its Keras rule', () => {
    cudnnFake('fake-cudnn');
    expectGruError(
      () => new GRU({ units: 4, useCudnn: true, resetAfter: false }).forwardSync(X),
      KERAS_USE_CUDNN_TRUE,
      'fake-cudnn: resetAfter is false (cuDNN applies the reset gate after the matmul)',
      'reference: useCudnn is true and this is not a cuDNN backend',
    );
    expectGruError(
      () =>
        new GRU({ units: 4, useCudnn: true }).forwardSync(X, {
          mask: [
            [0, 1],
            [1, 1],
          ],
        }),
      'fake-cudnn: the mask is not strictly right-padded',
    );
    expectGruError(() => new GRU({ units: 4, useCudnn: true, recurrentDropout: 0.1 }).forwardSync(X), 'fake-cudnn: recurrentDropout is 0.1 (cuDNN needs 0)');
  });

  it('false skips a cuDNN backend even when it could run the call', () => {
    cudnnFake('fake-cudnn');
    const r = new GRU({ units: 4, useCudnn: false }).forwardSync(X);
    expect(r.backend).toBe('reference');
    expect(r.skipped).toEqual([{ name: 'fake-cudnn', reason: 'useCudnn is false' }]);
  });

  it("'auto' uses an eligible cuDNN backend and falls back, with its reason, when not eligible", () => {
    cudnnFake('fake-cudnn');
    expect(new GRU({ units: 4 }).forwardSync(X).backend).toBe('fake-cudnn');
    const r = new GRU({ units: 4, unroll: true }).forwardSync(X);
    expect(r.backend).toBe('reference');
    expect(r.skipped).toEqual([{ name: 'fake-cudnn', reason: 'unroll is true (cuDNN needs a loop)' }]);
  });

  it('all backends give the same numbers (the fake runs the reference math)', () => {
    const l = new GRU({
      units: 4,
      kernelInitializer: { class_name: 'GlorotUniform', config: { seed: 3 } },
      recurrentInitializer: { class_name: 'Orthogonal', config: { seed: 4 } },
    });
    const ref = l.forwardSync(X).output.data;
    cudnnFake('fake-cudnn');
    expect(Array.from(l.forwardSync(X).output.data)).toEqual(Array.from(ref));
  });
});
