import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { referenceBackward, referenceForward, type GruGradients } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';
import { loadAddon } from '../src/loader.js';
import { assertClose, bitwiseEqual, makeCase, rng, type CaseOptions } from './helpers.js';

// Backpropagation through time against core's referenceBackward (float64), on every instruction
// set this CPU has. float32 sums over every step and row differ from float64 by ~1e-6 of the
// largest gradient, so the comparison scales its absolute tolerance by that.
const isas = loadAddon().binding.info().isas;
const KEYS = ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const;

function compare(got: GruGradients, want: GruGradients, where: string): void {
  for (const k of KEYS) {
    const w = want[k];
    const g = got[k];
    if (!w) {
      expect(g, `${where}: ${k}`).toBeNull();
      continue;
    }
    let scale = 0;
    for (const v of w) scale = Math.max(scale, Math.abs(v));
    assertClose(g!, w, `${where}: ${k}`, { atol: 1e-5 * (1 + scale), rtol: 1e-4 });
  }
}

const configs: CaseOptions[] = [
  { B: 1, T: 1, D: 1, H: 1 },
  { B: 3, T: 6, D: 7, H: 17, initialState: true },
  { B: 9, T: 5, D: 3, H: 33, resetAfter: false, mask: 'any', goBackwards: true },
  { B: 2, T: 12, D: 20, H: 40, returnSequences: false, mask: 'right-padded' },
  { B: 17, T: 3, D: 6, H: 20, useBias: false, activation: 'relu', recurrentActivation: 'hard_sigmoid' },
  { B: 5, T: 7, D: 9, H: 24, inputDropout: true, recurrentDropout: true, initialState: true, goBackwards: true },
  { B: 5, T: 7, D: 9, H: 24, resetAfter: false, inputDropout: true, recurrentDropout: true, mask: 'any' },
  { B: 4, T: 5, D: 6, H: 10, activation: 'gelu', recurrentActivation: 'keras2_hard_sigmoid', resetAfter: false },
  { B: 4, T: 5, D: 6, H: 10, activation: 'softsign', recurrentActivation: 'linear', initialState: true },
];

describe.each(isas)('backward (%s) against the reference backward', (isa) => {
  const backend = createCpuBackend({ name: `cpu-bwd-${isa}`, isa, threads: 2, minStepMacsPerThread: 0, syncBelowMacs: 0 });

  it.each(configs)('%o', async (config) => {
    const c = makeCase(config);
    const r = rng(77);
    const outLen = c.request.returnSequences ? config.B * config.T * config.H : config.B * config.H;
    const request = { dOutput: r.uniform(outLen), dLastState: r.uniform(config.B * config.H) };
    const ref = referenceForward(c.spec, c.weights, { ...c.request, keepForBackward: true });
    const want = referenceBackward(c.spec, ref.saved!, request);
    const prepared = await backend.prepare(c.spec, c.weights);
    const fwd = prepared.forwardSync({ ...c.request, keepForBackward: true });
    const sync = prepared.backwardSync(fwd.saved, request);
    compare(sync, want, `${isa} ${JSON.stringify(config)}`);
    // Without the state gradient too.
    compare(
      prepared.backwardSync(fwd.saved, { dOutput: request.dOutput }),
      referenceBackward(c.spec, ref.saved!, { dOutput: request.dOutput }),
      'no dLastState',
    );
    const async = await prepared.backward(fwd.saved, request);
    for (const k of KEYS) {
      if (sync[k]) expect(bitwiseEqual(async[k] as Float32Array, sync[k] as Float32Array), `async ${k}`).toBe(true);
    }
    prepared.dispose();
  });
});

describe('backward, like forward', () => {
  it('gives bitwise-identical gradients for any thread count', async () => {
    for (const config of [
      { B: 6, T: 10, D: 30, H: 130, mask: 'any', initialState: true },
      { B: 6, T: 10, D: 30, H: 130, resetAfter: false, recurrentDropout: true, inputDropout: true },
    ] as CaseOptions[]) {
      const backend = createCpuBackend({ name: 'cpu-bwd-threads', threads: 1, minStepMacsPerThread: 0, syncBelowMacs: 0 });
      const c = makeCase(config);
      const prepared = await backend.prepare(c.spec, c.weights);
      const fwd = prepared.forwardSync({ ...c.request, keepForBackward: true });
      const dOutput = rng(5).uniform(config.B * config.T * config.H);
      const runs: GruGradients[] = [];
      for (const threads of [1, 2, 3, 4]) {
        backend.threads = threads;
        expect(prepared.threadsFor(config.B)).toBe(threads);
        runs.push(prepared.backwardSync(fwd.saved, { dOutput }));
        runs.push(await prepared.backward(fwd.saved, { dOutput }));
      }
      for (const r of runs.slice(1)) {
        for (const k of KEYS) {
          if (r[k]) expect(bitwiseEqual(r[k] as Float32Array, runs[0][k] as Float32Array), k).toBe(true);
        }
      }
      prepared.dispose();
    }
  });

  it('keeps its own copy of the inputs: changing them after forward changes nothing', async () => {
    const backend = createCpuBackend({ name: 'cpu-bwd-copy' });
    const c = makeCase({ B: 3, T: 4, D: 5, H: 6, mask: 'any', inputDropout: true });
    const prepared = await backend.prepare(c.spec, c.weights);
    const dOutput = rng(1).uniform(3 * 4 * 6);
    const fwd = prepared.forwardSync({ ...c.request, keepForBackward: true });
    const before = prepared.backwardSync(fwd.saved, { dOutput });
    (c.request.x as Float32Array).fill(3);
    c.request.mask!.fill(0);
    c.request.inputDropoutMasks![0].fill(0);
    const after = prepared.backwardSync(fwd.saved, { dOutput });
    expect(bitwiseEqual(after.dKernel as Float32Array, before.dKernel as Float32Array)).toBe(true);
    prepared.dispose();
  });

  it('checks what it is given', async () => {
    const backend = createCpuBackend({ name: 'cpu-bwd-checks' });
    const c = makeCase({ B: 2, T: 3, D: 4, H: 5 });
    const a = await backend.prepare(c.spec, c.weights);
    const b = await backend.prepare(c.spec, c.weights);
    const fwd = a.forwardSync({ ...c.request, keepForBackward: true });
    const dOutput = new Float32Array(2 * 3 * 5);
    expect(fwd.saved).toMatchObject({ batch: 2, timesteps: 3 });
    expect(() => a.backwardSync({}, { dOutput })).toThrow(
      /`saved` must be what forward\(\) returned as `saved` for a call made with keepForBackward, received an object/,
    );
    expect(() => a.backwardSync(undefined, { dOutput })).toThrow(/received undefined/);
    expect(() => b.backwardSync(fwd.saved, { dOutput })).toThrow(/`saved` comes from a forward call on another prepared layer/);
    // Gradients are checked by core (in the caller's words) before the addon checks them again.
    expect(() => a.backwardSync(fwd.saved, { dOutput: new Float32Array(29) })).toThrow(
      /^cpu backwardSync: `dOutput` must be a Float32Array or Float64Array of 30 values \(\[batch, timesteps, units\] = \[2, 3, 5\]\); received Float32Array\(29\)/,
    );
    expect(() => a.backwardSync(fwd.saved, { dOutput: new Int32Array(30) as never })).toThrow(
      /`dOutput` must be a Float32Array or Float64Array .*received Int32Array\(30\)/,
    );
    expect(() => a.backwardSync(fwd.saved, { dOutput, dLastState: new Float32Array(3) })).toThrow(/`dLastState` must be .*received Float32Array\(3\)/);
    await expect(a.backward(fwd.saved, { dOutput: new Float32Array(1) })).rejects.toThrow(/^cpu backward: `dOutput` .*received Float32Array\(1\)/);
    // float64 gradients (a float64 loss) are accepted and rounded.
    expect(a.backwardSync(fwd.saved, { dOutput: new Float64Array(30) }).dKernel.length).toBe(4 * 15);
    expect(fwd.saved).not.toBeUndefined();
    expect(a.forwardSync(c.request).saved).toBeUndefined();
    a.dispose();
    expect(() => a.backwardSync(fwd.saved, { dOutput })).toThrow(/disposed/);
    b.dispose();
  });

  it('what forward keeps is native memory, counted, and freed by the garbage collector', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const backend = createCpuBackend({ name: 'cpu-bwd-memory' });
    const c = makeCase({ B: 4, T: 50, D: 16, H: 32 });
    const prepared = await backend.prepare(c.spec, c.weights);
    // The layer keeps its largest working buffer between calls: size it first.
    prepared.backwardSync(prepared.forwardSync({ ...c.request, keepForBackward: true }).saved, { dOutput: new Float32Array(4 * 50 * 32) });
    await settle();
    const before = backend.memoryInUse();
    await (async () => {
      const fwd = prepared.forwardSync({ ...c.request, keepForBackward: true });
      const bytes = (fwd.saved as { bytes: number }).bytes;
      // x, the states, the pre-activations, the activations and the candidate's recurrent term.
      expect(bytes).toBeGreaterThanOrEqual(4 * (4 * 50 * 16 + 4 * 50 * 32 * 8));
      expect(backend.memoryInUse() - before).toBe(bytes);
      prepared.backwardSync(fwd.saved, { dOutput: new Float32Array(4 * 50 * 32) });
    })();
    await settle();
    expect(backend.memoryInUse()).toBe(before);
    prepared.dispose();
  });
});
