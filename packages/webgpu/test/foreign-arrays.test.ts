import { checkForeignArrays } from '@gru/conformance/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';

// Arrays core's checks accept that `instanceof` or a copy through subarray() (@@species), slice()
// or Float32Array.from misreads (a subclass's subarray() once steered the uploaded bias): what
// reaches the GPU must be the values that were checked. The kit's check, on every path.
const b = createWebGpuBackend({ name: 'webgpu-foreign-arrays', allowFallbackAdapter: true });
beforeAll(() => b.load(), 120_000);
afterAll(() => b.dispose());

describe('webgpu: arrays of another realm and subclasses are read as checked', { timeout: 120_000 }, () => {
  it("passes the kit's contract:foreign-arrays, declining only float64", async () => {
    const outcome = await checkForeignArrays(b);
    expect(outcome.status, outcome.detail).toBe('passed');
    expect(outcome.detail).toMatch(/^not checked: float64 \(supports\(\): dtype float64: WebGPU has no 64-bit floats .*\)$/);
  });
});
