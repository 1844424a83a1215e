import { GRU_BACKEND_SPEC_VERSION, registerBackend, unregisterBackend, type GruBackend } from '@gru/core';
import { afterEach, describe, expect, it } from 'vitest';
import { inputFor, kerasWeights, seededRandom } from '../src/data.mjs';
import { gruRunner, relaxedSimdFlags } from '../src/gru-runner.mjs';
import { SHAPES } from '../src/shapes.mjs';

const S4 = SHAPES[3];

/** A backend double, registered at negative priority so no other call picks it. */
function fakeBackend(name: string, over: Partial<GruBackend> & { output?: (n: number) => Float32Array } = {}): GruBackend {
  return {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name,
    priority: -1,
    async load() {},
    isLoaded: () => true,
    supports: () => true,
    async prepare(spec) {
      return {
        spec,
        async forward(req) {
          const n = req.batch * spec.units;
          return { output: over.output ? over.output(n) : new Float32Array(n), lastState: new Float32Array(n) };
        },
        setWeights() {},
        dispose() {},
      };
    },
    ...over,
  };
}

describe('gruRunner', () => {
  const registered: string[] = [];
  const register = (b: GruBackend) => {
    registered.push(b.name);
    return async () => registerBackend(b);
  };
  afterEach(() => {
    for (const n of registered.splice(0)) unregisterBackend(n);
  });

  it("names the runner 'gru:<backend>' and runs the reference backend through the public layer", async () => {
    const r = gruRunner('reference', () => import('@gru/core'));
    expect(r.name).toBe('gru:reference');
    expect(r.kind).toBe('gru');
    expect(await r.available()).toBe(true);
    const prepared = await r.setup(S4);
    if (typeof prepared === 'string') throw new Error(`declined: ${prepared}`);
    await prepared.run();
    await prepared.run();
    prepared.dispose?.();
  });

  it('passes name, note and slow through', () => {
    const slow = () => true;
    const r = gruRunner('reference', () => import('@gru/core'), { name: 'gru:reference-sync', note: 'n', slow, sync: true });
    expect([r.name, r.note, r.slow]).toEqual(['gru:reference-sync', 'n', slow]);
  });

  it('can time forwardSync instead of forward, which only backends with a sync path allow', async () => {
    const ref = await gruRunner('reference', () => import('@gru/core'), { sync: true }).setup(S4);
    if (typeof ref === 'string') throw new Error(ref);
    await ref.run();
    const r = gruRunner('bench-async-only', register(fakeBackend('bench-async-only')), { sync: true });
    expect(await r.setup(S4)).toBe('it has no synchronous path (use the async forward())');
    expect(typeof (await gruRunner('bench-async-only', async () => {}).setup(S4))).toBe('object');
  });

  it("can time a stateful layer's stream, T steps per pass, and needs a sync path for it", async () => {
    const shape = { id: '2x3x4x5', B: 2, T: 3, D: 4, H: 5 };
    const streamed = await gruRunner('reference', () => import('@gru/core'), { stream: true }).setup(shape);
    if (typeof streamed === 'string') throw new Error(streamed);
    expect(streamed.stepsPerPass).toBe(3);
    await streamed.run();
    await streamed.run();
    streamed.dispose?.();
    const r = gruRunner('bench-async-only', register(fakeBackend('bench-async-only')), { stream: true });
    expect(await r.setup(S4)).toBe('it has no synchronous path (use the async forward())');
  });

  it('is unavailable, with the reason, when the package cannot be imported', async () => {
    const r = gruRunner('nope', () => import('@gru/does-not-exist' as string));
    const a = await r.available();
    expect(a).toMatch(/^cannot import the 'nope' backend: .*@gru\/does-not-exist.*\(is the package built, and a dependency of benchmarks\/package.json\?\)$/);
    expect(await r.setup(S4)).toBe(a);
  });

  it('is unavailable when the package registers no backend of that name', async () => {
    const r = gruRunner('ghost', async () => {});
    expect(await r.available()).toMatch(/^importing its package registered no backend named 'ghost' \(registered: .*reference.*\)$/);
  });

  it('is unavailable when the backend loaded another instruction set than the one it must time', async () => {
    const b = { ...fakeBackend('bench-plain'), isa: 'simd128' };
    const r = gruRunner('bench-plain', register(b), { isa: 'relaxed-simd128', nodeFlags: ['--experimental-wasm-relaxed-simd'] });
    expect(r.nodeFlags).toEqual(['--experimental-wasm-relaxed-simd']);
    expect(await r.available()).toMatch(
      /^backend 'bench-plain' loaded instruction set "simd128", not 'relaxed-simd128' \(this process runs with \[.*\]; the runner's child gets --experimental-wasm-relaxed-simd, --in-process does not\)$/,
    );
    expect(await gruRunner('bench-plain', async () => {}, { isa: 'simd128' }).available()).toBe(true);
  });

  it('asks for the relaxed-SIMD flag only on engines before V8 11.4, which shipped it', () => {
    expect(relaxedSimdFlags('11.3.244.8-node.33')).toEqual(['--experimental-wasm-relaxed-simd']);
    expect(relaxedSimdFlags('10.2.154.26-node.36')).toEqual(['--experimental-wasm-relaxed-simd']);
    expect(relaxedSimdFlags('11.4.183.29')).toEqual([]);
    expect(relaxedSimdFlags('12.4.254.21-node.33')).toEqual([]);
  });

  it('is unavailable when the backend fails to load', async () => {
    const r = gruRunner('bench-noload', register(fakeBackend('bench-noload', { load: () => Promise.reject(new Error('no GPU adapter')) })));
    expect(await r.available()).toBe("backend 'bench-noload' failed to load: no GPU adapter");
  });

  it("declines a shape with the backend's own reason", async () => {
    const b = fakeBackend('bench-picky', { supports: (_spec, call) => (call.batch === 1 ? 'batch 1 is not worth a kernel launch' : true) });
    const r = gruRunner('bench-picky', register(b));
    expect(await r.available()).toBe(true);
    expect(await r.setup(S4)).toBe('batch 1 is not worth a kernel launch');
    expect(typeof (await r.setup(SHAPES[1]))).toBe('object');
  });

  it('fails the first pass when the backend returns non-finite values', async () => {
    const b = fakeBackend('bench-nan', { output: (n) => new Float32Array(n).fill(Number.NaN) });
    const prepared = await gruRunner('bench-nan', register(b)).setup(S4);
    if (typeof prepared === 'string') throw new Error(prepared);
    await expect(prepared.run()).rejects.toThrow("backend 'bench-nan' returned a non-finite output (NaN at index 0).");
  });

  it('fails the first pass when the backend returns the wrong number of values', async () => {
    const b = fakeBackend('bench-short', { output: () => new Float32Array(3) });
    const prepared = await gruRunner('bench-short', register(b)).setup(S4);
    if (typeof prepared === 'string') throw new Error(prepared);
    // @gru/core refuses a backend result of the wrong size before the runner sees it.
    await expect(prepared.run()).rejects.toThrow(
      "Backend 'bench-short' returned an invalid forward result: `output` must be a Float32Array of 128 values ([batch 1, units 128]) for a float32 layer; received a Float32Array of 3.",
    );
  });
});

describe('seeded data', () => {
  it('gives the same numbers for the same seed, in range', () => {
    const a = inputFor(S4);
    expect(a).toEqual(inputFor(S4));
    expect(a).not.toEqual(inputFor(S4, 9));
    expect(a.length).toBe(64);
    expect(a.every((v) => v >= -1 && v < 1)).toBe(true);
    const r = seededRandom(5);
    const xs = Array.from({ length: 1000 }, r);
    expect(xs.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(xs).size).toBe(1000);
  });

  it("makes weights in Keras's layout for each bias variant", () => {
    const w = kerasWeights(S4);
    expect([w.kernel.length, w.recurrentKernel.length, w.bias?.length]).toEqual([64 * 384, 128 * 384, 2 * 384]);
    expect(kerasWeights(S4, { resetAfter: false }).bias?.length).toBe(384);
    expect(kerasWeights(S4, { useBias: false }).bias).toBeNull();
  });
});
