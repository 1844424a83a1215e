import { afterAll, beforeAll, describe, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';
import { compareWithReference, makeRequest, makeSpec, makeWeights } from './helpers.js';
import { ARGS, FULL, mapRequest, mapWeights, offsetView, onShared, type Floats } from './views.js';

/**
 * Arrays the GPU cannot take as they are reach it safely. Before the fix, a SharedArrayBuffer view
 * crashed the process in Dawn's writeBuffer: this file's worker dies, which vitest reports as a
 * failure (kept apart from test/call-snapshot.test.ts so that a crash hides no other test).
 */
const b = createWebGpuBackend({ name: 'webgpu-views', allowFallbackAdapter: true });
beforeAll(() => b.load());
afterAll(() => b.dispose());

describe('views the GPU cannot take as they are', () => {
  // inputDim 5 and batch 3: odd element counts for x (3*T*5) and the input dropout masks.
  const spec = makeSpec({ units: 7, inputDim: 5 });
  const weights = makeWeights(spec, 1);
  const req = makeRequest(spec, 2, { batch: 3, timesteps: 5, ...FULL });

  for (const arg of ARGS) {
    it(`${arg} on a SharedArrayBuffer`, async () => {
      const p = await b.prepare(spec, weights);
      await compareWithReference(p, weights, mapRequest(req, onShared, arg), `shared ${arg}`);
      p.dispose();
    });
  }

  it('every argument at an offset into a larger buffer, and Float64Array inputs', async () => {
    const p = await b.prepare(spec, weights);
    await compareWithReference(p, weights, mapRequest(req, offsetView), 'offset views');
    const toF64 = <T extends Floats | Uint8Array>(a: T) => (a instanceof Uint8Array ? a : (Float64Array.from(a) as unknown as T));
    await compareWithReference(p, weights, mapRequest(req, toF64), 'float64 inputs');
    p.dispose();
  });

  it('weights on a SharedArrayBuffer or at an offset, in prepare() and setWeights(), f32 and f16', async () => {
    const f16 = createWebGpuBackend({ name: 'webgpu-snapshot-f16', allowFallbackAdapter: true, precision: 'f16' });
    await f16.load();
    for (const backend of [b, f16]) {
      const tol = backend === f16 ? 2e-3 : undefined;
      const p = await backend.prepare(spec, mapWeights(weights, onShared));
      await compareWithReference(p, weights, req, `${backend.name} shared weights`, tol, tol);
      const next = makeWeights(spec, 3);
      await p.setWeights(mapWeights(next, offsetView));
      await compareWithReference(p, next, req, `${backend.name} offset weights`, tol, tol);
      await p.setWeights(mapWeights(next, onShared));
      await compareWithReference(p, next, req, `${backend.name} shared weights via setWeights`, tol, tol);
      p.dispose();
    }
    f16.dispose();
  });
});

