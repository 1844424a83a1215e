import { GRU } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import type { WasmKernel } from '../src/kernel.js';
import { bitwiseEqual, heapGrowthDuring, makeCase, rng, streamBoundSteps } from './helpers.js';

// The streaming path on wasm: a forward call bound once (bindForward) and run step after step,
// as GRU.stream() does. Each run must be exactly the call forwardSync makes, a stream of steps
// exactly one whole-sequence call, and a step must allocate nothing.
beforeAll(() => backend.load());

describe('bound forward calls', () => {
  it('a bound call runs exactly as forwardSync, for every call option', () => {
    const variants = [
      {},
      { resetAfter: false, initialState: true, mask: true, goBackwards: true },
      { inputDropout: true, recurrentDropout: true, returnSequences: false, initialState: true },
    ];
    variants.forEach((v, seed) => {
      const { spec, weights, request } = makeCase({ B: 3, T: 5, D: 7, H: 19, ...v }, seed + 1);
      const prepared = backend.prepareSync(spec, weights);
      const want = prepared.forwardSync(request);
      const output = new Float32Array(want.output.length);
      const lastState = new Float32Array(want.lastState.length);
      const call = prepared.bindForward({ ...request, output, lastState });
      for (let i = 0; i < 2; i++) {
        output.fill(NaN);
        call.run();
        expect(bitwiseEqual(output, want.output), JSON.stringify(v)).toBe(true);
        expect(bitwiseEqual(lastState, want.lastState), JSON.stringify(v)).toBe(true);
      }
      call.dispose();
      prepared.dispose();
    });
  });

  it('one step at a time gives bitwise the outputs and state of one whole-sequence call', () => {
    for (const [B, T, D, H, resetAfter] of [
      [1, 12, 64, 128, true],
      [3, 9, 5, 21, false],
    ] as const) {
      const { spec, weights, request } = makeCase({ B, T, D, H, resetAfter }, 7);
      const prepared = backend.prepareSync(spec, weights);
      const whole = prepared.forwardSync({ x: request.x, batch: B, timesteps: T, goBackwards: false, returnSequences: true });
      const { outputs, lastState } = streamBoundSteps(prepared, request.x as Float32Array, { batch: B, timesteps: T, inputDim: D, units: H });
      expect(bitwiseEqual(outputs, whole.output)).toBe(true);
      expect(bitwiseEqual(lastState, whole.lastState)).toBe(true);
      prepared.dispose();
    }
  });

  it('a bound call keeps working after wasm memory grows (which detaches its views) between runs', () => {
    const { spec, weights, request } = makeCase({ B: 2, T: 3, D: 5, H: 9, initialState: true }, 11);
    const prepared = backend.prepareSync(spec, weights);
    const want = prepared.forwardSync(request);
    const output = new Float32Array(want.output.length);
    const lastState = new Float32Array(want.lastState.length);
    const call = prepared.bindForward({ ...request, output, lastState });
    call.run();
    const heap = (prepared as unknown as { kernel: WasmKernel }).kernel.heap;
    const before = heap.reserved;
    const big = heap.alloc(before + (64 << 20), 'a block that makes the memory grow');
    expect(heap.reserved).toBeGreaterThan(before);
    output.fill(NaN);
    lastState.fill(NaN);
    call.run();
    expect(bitwiseEqual(output, want.output)).toBe(true);
    expect(bitwiseEqual(lastState, want.lastState)).toBe(true);
    heap.release(big);
    call.dispose();
    prepared.dispose();
  });

  it('a bound call with no rows (batch 0) keeps working after wasm memory grows (its views all have length 0)', () => {
    const { spec, weights } = makeCase({ B: 1, T: 3, D: 5, H: 9 }, 11);
    const prepared = backend.prepareSync(spec, weights);
    const request = { x: new Float32Array(0), batch: 0, timesteps: 3, goBackwards: false, returnSequences: true, initialState: new Float32Array(0) };
    const call = prepared.bindForward({ ...request, output: new Float32Array(0), lastState: new Float32Array(0) });
    call.run();
    const heap = (prepared as unknown as { kernel: WasmKernel }).kernel.heap;
    const before = heap.reserved;
    const big = heap.alloc(before + (64 << 20), 'a block that makes the memory grow');
    expect(heap.reserved).toBeGreaterThan(before);
    // Was: "Cannot perform %TypedArray%.prototype.set on a detached ArrayBuffer".
    expect(() => call.run()).not.toThrow();
    heap.release(big);
    call.dispose();
    prepared.dispose();
  });

  it('refuses what it cannot run, and a run fails cleanly after a detach, dispose or the layer going away', () => {
    const { spec, weights, request } = makeCase({ B: 2, T: 1, D: 3, H: 5, initialState: true }, 1);
    const prepared = backend.prepareSync(spec, weights);
    const outs = () => ({ output: new Float32Array(10), lastState: new Float32Array(10) });
    expect(() => prepared.bindForward({ ...request, ...outs(), keepForBackward: true })).toThrow(/wasm bindForward: `keepForBackward` must be false or absent/);
    expect(() => prepared.bindForward({ ...request, ...outs(), output: new Float32Array(9) })).toThrow(
      /wasm bindForward: `output` must be a Float32Array or Float64Array of 10 values/,
    );
    expect(() => prepared.bindForward({ ...request, ...outs(), lastState: request.initialState! })).toThrow(
      /request.lastState shares memory with request.initialState/,
    );
    const shared = new Float32Array(20);
    expect(() => prepared.bindForward({ ...request, output: shared.subarray(0, 10), lastState: shared.subarray(5, 15) })).toThrow(
      /request.output shares memory with request.lastState/,
    );
    const x = request.x.slice();
    const call = prepared.bindForward({ ...request, x, ...outs() });
    const inUse = backend.memoryInUse!();
    call.run();
    structuredClone(x.buffer, { transfer: [x.buffer] });
    expect(() => call.run()).toThrow(/request.x was detached or resized since the call was bound \(6 values then, 0 now\)/);
    call.dispose();
    expect(backend.memoryInUse!()).toBeLessThan(inUse);
    expect(() => call.run()).toThrow(/this bound call was disposed/);
    const other = prepared.bindForward({ ...request, ...outs() });
    prepared.dispose();
    expect(() => other.run()).toThrow(/this prepared layer was disposed/);
    other.dispose();
  });
});

describe('GRU.stream() on the wasm backend', () => {
  it('steps equal one whole-sequence call bitwise, and a step allocates nothing', () => {
    const [B, D, H, T] = [1, 64, 128, 16]; // the benchmarks' S4, streamed
    const r = rng(5);
    const make = () => {
      const gru = new GRU({ units: H, stateful: true, returnSequences: true, backend: 'wasm' });
      gru.build([B, null, D]);
      return gru;
    };
    const streamed = make();
    const whole = make();
    const w = [
      { shape: [D, 3 * H], data: r.uniform(D * 3 * H, 0.1) },
      { shape: [H, 3 * H], data: r.uniform(H * 3 * H, 0.1) },
      { shape: [2, 3 * H], data: r.uniform(6 * H, 0.1) },
    ];
    streamed.setWeights(w);
    whole.setWeights(w);
    const x = r.uniform(B * T * D);
    const want = whole.forwardSync({ shape: [B, T, D], data: x }).output.data;
    const stream = streamed.stream();
    expect(stream.backend).toBe('wasm');
    const got = new Float32Array(B * T * H);
    for (let t = 0; t < T; t++) got.set(stream.step(x.subarray(t * D, (t + 1) * D)), t * H);
    expect(bitwiseEqual(got, want)).toBe(true);
    expect(bitwiseEqual(streamed.states![0].data, whole.states![0].data)).toBe(true);

    const out = new Float32Array(H);
    for (let i = 0; i < 20_000; i++) stream.step(undefined, out); // warm: bindings, optimized code
    // The runtime itself leaves up to ~150 KB in any window, whatever its length; one allocation per
    // step, even the smallest object (16 bytes), would grow the heap by 3.2 MB in 200,000 steps.
    const steps = 200_000;
    expect(heapGrowthDuring(steps, () => stream.step(undefined, out))).toBeLessThan(4 * steps);
    // The probe works: a step that allocates one output array grows the heap (its floats live
    // outside the heap, the array's objects inside: far more than 16 bytes each).
    expect(heapGrowthDuring(200, () => out.set(stream.step().slice()))).toBeGreaterThan(200 * 16);
    stream.close();
  }, 120_000);
});
