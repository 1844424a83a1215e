import { referenceForward } from '@gru/core';
import { describe, it } from 'vitest';
import { FIRST_ROWWISE_ID } from '../src/activations.js';
import { createCpuBackend, NATIVE_ACTIVATIONS } from '../src/index.js';
import { describeAgainstReference } from '@gru/conformance/testing';
import { assertClose, makeCase, type CaseOptions } from './helpers.js';
import { loadAddon } from '../src/loader.js';

// Random layers and calls against the executable spec (core's referenceForward), on every
// instruction set this CPU has: shapes around the tile edges (1 row, more rows than a tile, units
// not a multiple of the vector width, more blocks than a tile takes), every call option.
const isas = loadAddon().binding.info().isas;

const shapes: Pick<CaseOptions, 'B' | 'T' | 'D' | 'H'>[] = [
  { B: 1, T: 1, D: 1, H: 1 },
  { B: 1, T: 9, D: 5, H: 16 },
  { B: 3, T: 4, D: 7, H: 17 },
  { B: 9, T: 5, D: 3, H: 33 },
  { B: 17, T: 3, D: 20, H: 70 },
  { B: 2, T: 300, D: 4, H: 8 },
  { B: 260, T: 2, D: 6, H: 20 },
];

const variants: Omit<CaseOptions, 'B' | 'T' | 'D' | 'H'>[] = [
  {},
  { resetAfter: false },
  { initialState: true, mask: 'any', goBackwards: true },
  { resetAfter: false, initialState: true, mask: 'right-padded', returnSequences: false },
  { useBias: false, activation: 'relu', recurrentActivation: 'hard_sigmoid' },
  { resetAfter: false, useBias: false, activation: 'linear', recurrentActivation: 'keras2_hard_sigmoid', goBackwards: true },
  { inputDropout: true, recurrentDropout: true, mask: 'any' },
  { resetAfter: false, inputDropout: true, recurrentDropout: true, initialState: true, goBackwards: true },
];

describe.each(isas)('cpu backend (%s) against the reference forward', (isa) => {
  const backend = createCpuBackend({ name: `cpu-${isa}`, isa, threads: 2 });
  // The tile edges above, every call option; then the kit's sweep (units >= 64, batch >= 16,
  // timesteps >= 200, odd sizes), both through forward and forwardSync.
  describeAgainstReference(backend, { shapes, variants });
  describeAgainstReference(backend, { seed: 1000 });

  it('every elementwise activation, as activation and as recurrentActivation', async () => {
    await backend.load();
    for (const [i, act] of NATIVE_ACTIVATIONS.entries()) {
      // The row-wise ones have their own test (backend.test.ts), on their own path.
      if (i >= FIRST_ROWWISE_ID) continue;
      for (const [activation, recurrentActivation] of [
        [act, 'sigmoid'],
        ['tanh', act],
      ]) {
        // Small weights keep `exponential` and friends finite over the steps.
        const c = makeCase({ B: 3, T: 6, D: 5, H: 19, activation, recurrentActivation, seed: 100 + i, resetAfter: i % 2 === 0 });
        const prepared = await backend.prepare(c.spec, c.weights);
        const want = referenceForward(c.spec, c.weights, c.request);
        const got = prepared.forwardSync(c.request);
        assertClose(got.output, want.output, `${isa} ${activation}/${recurrentActivation}`);
        prepared.dispose();
      }
    }
  });
});
