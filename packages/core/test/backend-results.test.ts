import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GRU, registerBackend, unregisterBackend, type ForwardResult, type GruBackend, type GruGradients } from '../src/index.js';
import { wrappedReference } from './helpers/wrapped-reference.js';

/**
 * A backend's result is checked before core reads it (issue 13): each planted bug below is one a
 * backend author made, and each error names the backend and the field.
 */
function planted(name: string, forward: (r: ForwardResult) => unknown, backward: (g: GruGradients) => unknown = (g) => g): GruBackend {
  return wrappedReference(name, { forward, backward });
}

const x = { shape: [2, 3, 4], data: Array.from({ length: 24 }, (_, i) => Math.sin(i)) };

async function forwardWith(backend: GruBackend, dtype: 'float32' | 'float64' = 'float32') {
  registerBackend(backend);
  try {
    const gru = new GRU({ units: 3, returnSequences: true, backend: backend.name, seed: 1, dtype });
    return await gru.forward(x);
  } finally {
    unregisterBackend(backend.name);
  }
}

describe('core validates what a backend returns and names the field', () => {
  it('a missing lastState', async () => {
    const b = planted('no-last-state', (r) => ({ output: r.output }));
    await expect(forwardWith(b)).rejects.toThrow(
      "Backend 'no-last-state' returned an invalid forward result: `lastState` must be a Float32Array of 6 values ([batch 2, units 3]) for a float32 layer; received undefined (missing).",
    );
  });

  it('a plain Array as output', async () => {
    const b = planted('plain-array', (r) => ({ ...r, output: Array.from(r.output) }));
    await expect(forwardWith(b)).rejects.toThrow(
      '`output` must be a Float32Array of 18 values ([batch 2, timesteps 3, units 3]) for a float32 layer; received a plain Array of 18.',
    );
  });

  it('a Float32Array for a float64 layer', async () => {
    const b = planted('f32-for-f64', (r) => ({ ...r, lastState: Float32Array.from(r.lastState) }));
    await expect(forwardWith(b, 'float64')).rejects.toThrow(
      '`lastState` must be a Float64Array of 6 values ([batch 2, units 3]) for a float64 layer; received a Float32Array of 6.',
    );
  });

  it('a state of the wrong length', async () => {
    const b = planted('short-state', (r) => ({ ...r, lastState: r.lastState.subarray(0, 3) }));
    await expect(forwardWith(b)).rejects.toThrow(
      '`lastState` must be a Float32Array of 6 values ([batch 2, units 3]) for a float32 layer; received a Float32Array of 3.',
    );
  });

  it("accepts a genuine Float32Array from another realm (instanceof fails it) and hands users this realm's", async () => {
    const Other = vm.runInNewContext('Float32Array') as typeof Float32Array;
    let want: number[] = [];
    const b = planted('other-realm', (r) => {
      want = Array.from(r.output);
      return { output: new Other(r.output), lastState: new Other(r.lastState) };
    });
    const y = (await forwardWith(b)).output.data;
    expect(y).toBeInstanceOf(Float32Array);
    expect(Array.from(y)).toEqual(want);
  });

  it('not an object at all', async () => {
    const b = planted('returns-undefined', () => undefined);
    await expect(forwardWith(b)).rejects.toThrow(
      "Backend 'returns-undefined' returned undefined (missing) from forward; expected an object with `output` and `lastState`.",
    );
  });

  it('gradients of the wrong type or length, or missing', async () => {
    const cases: [string, (g: GruGradients) => unknown, string][] = [
      [
        'grad-f64',
        (g) => ({ ...g, dKernel: Float64Array.from(g.dKernel) }),
        '`dKernel` must be a Float32Array of 36 values ([inputDim 4, 3 * units 9]) for a float32 layer; received a Float64Array of 36.',
      ],
      [
        'grad-short',
        (g) => ({ ...g, dx: g.dx.subarray(1) }),
        '`dx` must be a Float32Array of 24 values ([batch 2, timesteps 3, inputDim 4]) for a float32 layer; received a Float32Array of 23.',
      ],
      ['grad-no-bias', (g) => ({ ...g, dBias: null }), '`dBias` must be a Float32Array of 18 values ([2, 3 * units 9]) for a float32 layer; received null.'],
    ];
    for (const [name, bug, message] of cases) {
      const b = planted(name, (r) => r, bug);
      registerBackend(b);
      try {
        const gru = new GRU({ units: 3, returnSequences: true, backend: name, seed: 1 });
        const r = await gru.forward(x, { training: true });
        await expect(gru.backward({ shape: r.output.shape, data: new Float32Array(18).fill(1) }), name).rejects.toThrow(
          `Backend '${name}' returned an invalid backward result: ${message}`,
        );
      } finally {
        unregisterBackend(name);
      }
    }
  });

  it('a correct backend passes through untouched', async () => {
    const b = planted('correct', (r) => r);
    const r = await forwardWith(b);
    expect(r.output.data).toBeInstanceOf(Float32Array);
    expect(r.output.shape).toEqual([2, 3, 3]);
  });
});
