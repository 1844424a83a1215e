import { referenceBackward, referenceForward } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import { compareGradients } from './gradients.js';
import { type Config, makeCase, rng } from './helpers.js';

async function gradients(cfg: Config, seed: number) {
  const { spec, weights, request } = makeCase(cfg, seed);
  const rand = rng(seed + 1);
  const B = request.batch;
  const T = request.timesteps;
  const H = spec.units;
  const dOutput = rand.uniform((request.returnSequences ? B * T : B) * H);
  const dLastState = rand.uniform(B * H);
  const ref = referenceForward(spec, weights, { ...request, keepForBackward: true });
  const want = referenceBackward(spec, ref.saved as NonNullable<typeof ref.saved>, { dOutput, dLastState });
  const prepared = backend.prepareSync(spec, weights);
  try {
    const fwd = prepared.forwardSync({ ...request, keepForBackward: true });
    const got = prepared.backwardSync(fwd.saved, { dOutput, dLastState });
    return compareGradients(got, want);
  } finally {
    prepared.dispose();
  }
}

beforeAll(() => backend.load());

const base: Config = { B: 5, T: 7, D: 11, H: 13 };
const sweep: [string, Config][] = [
  ['defaults', base],
  ['resetAfter false', { ...base, resetAfter: false }],
  ['no bias', { ...base, useBias: false }],
  ['no bias, resetAfter false', { ...base, useBias: false, resetAfter: false }],
  ['last output only', { ...base, returnSequences: false }],
  ['goBackwards', { ...base, goBackwards: true }],
  ['mask', { ...base, mask: true }],
  ['mask, goBackwards, resetAfter false', { ...base, mask: true, goBackwards: true, resetAfter: false }],
  ['initial state', { ...base, initialState: true }],
  ['input dropout', { ...base, inputDropout: true }],
  ['recurrent dropout', { ...base, recurrentDropout: true }],
  ['recurrent dropout, resetAfter false', { ...base, recurrentDropout: true, resetAfter: false }],
  ['everything', { ...base, mask: true, goBackwards: true, initialState: true, inputDropout: true, recurrentDropout: true, returnSequences: false }],
  [
    'everything, resetAfter false',
    { ...base, mask: true, goBackwards: true, initialState: true, inputDropout: true, recurrentDropout: true, resetAfter: false },
  ],
  ['batch 1, one unit, one step', { B: 1, T: 1, D: 1, H: 1 }],
  ['units a multiple of the panel', { B: 4, T: 9, D: 16, H: 32 }],
  ['wide: units 70, batch 17, 40 steps', { B: 17, T: 40, D: 33, H: 70, mask: true, recurrentDropout: true }],
];

describe('wasm backward against the reference backend', () => {
  for (const [name, cfg] of sweep) {
    it(name, { timeout: 60_000 }, async () => {
      const worst = await gradients(cfg, 1234);
      for (const [key, r] of Object.entries(worst)) expect(r, `${key} scaled error ${r}`).toBeLessThanOrEqual(1);
    });
  }
});
