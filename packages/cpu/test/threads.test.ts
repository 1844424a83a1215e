import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';
import { loadAddon } from '../src/loader.js';
import { bitwiseEqual, makeCase, type CaseOptions } from './helpers.js';

// Work is split between threads by unit blocks (output columns), never inside a sum, so the
// result must be bitwise identical for any thread count.
const isas = loadAddon().binding.info().isas;

const configs: CaseOptions[] = [
  { B: 4, T: 20, D: 24, H: 200 },
  { B: 1, T: 30, D: 16, H: 256, goBackwards: true },
  { B: 13, T: 9, D: 10, H: 150, resetAfter: false, initialState: true, mask: 'any' },
  { B: 6, T: 8, D: 12, H: 130, inputDropout: true, recurrentDropout: true, returnSequences: false },
  { B: 6, T: 8, D: 12, H: 130, resetAfter: false, inputDropout: true, recurrentDropout: true },
  // One step (a streamed step: the projection runs inside the step's phase).
  { B: 1, T: 1, D: 64, H: 128, initialState: true },
  { B: 3, T: 1, D: 12, H: 130, resetAfter: false, initialState: true, inputDropout: true, recurrentDropout: true, mask: 'any' },
];

describe.each(isas)('thread-count determinism (%s)', (isa) => {
  it.each(configs)('threads 1, 2, 3 and 4 give bitwise-equal results: %o', async (config) => {
    const backend = createCpuBackend({ name: `cpu-threads-${isa}`, isa, threads: 1, minStepMacsPerThread: 0 });
    const c = makeCase(config);
    const prepared = await backend.prepare(c.spec, c.weights);
    const runs = [];
    for (const threads of [1, 2, 3, 4]) {
      backend.threads = threads;
      // The test means something only if the call really is split that many ways.
      expect(prepared.threadsFor(c.request.batch)).toBe(threads);
      runs.push(prepared.forwardSync(c.request));
      runs.push(await prepared.forward(c.request));
    }
    for (const r of runs.slice(1)) {
      expect(bitwiseEqual(r.output as Float32Array, runs[0].output as Float32Array)).toBe(true);
      expect(bitwiseEqual(r.lastState as Float32Array, runs[0].lastState as Float32Array)).toBe(true);
    }
    prepared.dispose();
  });
});

describe('threads for one sequence', () => {
  it('by default one sequence of 128 units (benchmark shape S1, and a streamed step of it) uses every thread given', async () => {
    const backend = createCpuBackend({ name: 'cpu-threads-default', threads: 2 });
    const c = makeCase({ B: 1, T: 100, D: 64, H: 128 });
    const prepared = await backend.prepare(c.spec, c.weights);
    expect(prepared.threadsFor(1)).toBe(2);
    // A layer of 16 units stays on one thread: its step is too small to pay for a barrier.
    const small = makeCase({ B: 1, T: 100, D: 64, H: 16 });
    const preparedSmall = await backend.prepare(small.spec, small.weights);
    expect(preparedSmall.threadsFor(1)).toBe(1);
    prepared.dispose();
    preparedSmall.dispose();
  });
});
