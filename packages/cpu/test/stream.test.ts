import { GRU, loadBackend } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';
import { loadAddon } from '../src/loader.js';
import { bitwiseEqual, heapGrowthDuring, makeCase, nativeArgs, rng, streamBoundSteps } from './helpers.js';

// The streaming path: a forward call bound once (bindForward, the native Bound) and run step
// after step, as GRU.stream() does. Each run must be exactly the call forwardSync makes, a stream
// of steps exactly one whole-sequence call, and a step must allocate nothing.
const { binding } = loadAddon();
const isas = binding.info().isas;

describe.each(isas)('bound forward calls (%s)', (isa) => {
  const backend = createCpuBackend({ name: `cpu-bound-${isa}`, isa, threads: 2, minStepMacsPerThread: 0 });

  it('a bound call runs exactly as forwardSync, for every call option', async () => {
    await backend.load();
    const variants = [
      {},
      { resetAfter: false, initialState: true, mask: 'any' as const, goBackwards: true },
      { inputDropout: true, recurrentDropout: true, returnSequences: false },
    ];
    let seed = 1;
    for (const v of variants) {
      const c = makeCase({ B: 3, T: 5, D: 7, H: 19, ...v, seed: seed++ });
      const prepared = backend.prepareSync(c.spec, c.weights);
      const want = prepared.forwardSync(c.request);
      const output = new Float32Array(want.output.length);
      const lastState = new Float32Array(want.lastState.length);
      const call = prepared.bindForward({ ...c.request, output, lastState });
      for (let i = 0; i < 2; i++) {
        output.fill(NaN);
        call.run();
        expect(bitwiseEqual(output, want.output as Float32Array), JSON.stringify(v)).toBe(true);
        expect(bitwiseEqual(lastState, want.lastState as Float32Array), JSON.stringify(v)).toBe(true);
      }
      call.dispose();
      prepared.dispose();
    }
  });

  it('one step at a time gives bitwise the outputs and state of one whole-sequence call', async () => {
    await backend.load();
    for (const [B, T, D, H, resetAfter] of [
      [1, 12, 64, 128, true],
      [3, 9, 5, 21, false],
    ] as const) {
      const c = makeCase({ B, T, D, H, resetAfter, seed: 7 });
      const prepared = backend.prepareSync(c.spec, c.weights);
      const whole = prepared.forwardSync({ x: c.request.x, batch: B, timesteps: T, goBackwards: false, returnSequences: true });
      const { outputs, lastState } = streamBoundSteps(prepared, c.request.x as Float32Array, { batch: B, timesteps: T, inputDim: D, units: H });
      expect(bitwiseEqual(outputs, whole.output)).toBe(true);
      expect(bitwiseEqual(lastState, whole.lastState)).toBe(true);
      prepared.dispose();
    }
  });
});

describe.each(isas)('streamed steps on any thread count (%s)', (isa) => {
  // A step shares its unit blocks between threads, each projecting its own blocks' inputs and
  // reading the caller's state where it lies (whole-vector rows) or a padded copy (otherwise): a
  // stream on one or two threads must match forwardSync on one or two, bitwise.
  const backends = [1, 2].map((threads) => createCpuBackend({ name: `cpu-stream-${isa}-${threads}t`, isa, threads, minStepMacsPerThread: 0 }));

  it.each([
    [1, 10, 64, 128, true],
    [2, 6, 5, 48, false],
    [3, 7, 6, 21, true],
  ] as const)('B=%i T=%i D=%i H=%i resetAfter=%s', async (B, T, D, H, resetAfter) => {
    const c = makeCase({ B, T, D, H, resetAfter, seed: 11 });
    const request = { x: c.request.x, batch: B, timesteps: T, goBackwards: false, returnSequences: true };
    const runs = [];
    for (const backend of backends) {
      await backend.load();
      const prepared = backend.prepareSync(c.spec, c.weights);
      // Each backend really splits the step as many ways as it has threads.
      expect(prepared.threadsFor(B)).toBe(backend.threads);
      const whole = prepared.forwardSync(request);
      runs.push({ outputs: whole.output as Float32Array, lastState: whole.lastState as Float32Array });
      runs.push(streamBoundSteps(prepared, c.request.x as Float32Array, { batch: B, timesteps: T, inputDim: D, units: H }));
      prepared.dispose();
    }
    for (const r of runs.slice(1)) {
      expect(bitwiseEqual(r.outputs, runs[0].outputs)).toBe(true);
      expect(bitwiseEqual(r.lastState, runs[0].lastState)).toBe(true);
    }
  });
});

describe.each(isas)("bound calls that keep their threads' state between runs (%s)", (isa) => {
  // A bound call keeps its working memory, Phaser and job between runs. Two streams on one layer,
  // stepped in turn with whole-sequence calls on the same layer between their steps, and changing
  // their thread count (1, 2, then 3: more than the Phaser was made for) as they go, must each
  // equal its own whole-sequence call, bitwise.
  const backend = createCpuBackend({ name: `cpu-keep-${isa}`, isa, threads: 2, minStepMacsPerThread: 0 });

  it.each([
    [1, 9, 64, 128, true],
    [2, 9, 5, 48, false],
  ] as const)('B=%i T=%i D=%i H=%i resetAfter=%s', async (B, T, D, H, resetAfter) => {
    await backend.load();
    const c = [makeCase({ B, T, D, H, resetAfter, seed: 21 }), makeCase({ B, T, D, H, resetAfter, seed: 22 })];
    const prepared = backend.prepareSync(c[0].spec, c[0].weights);
    const whole = (x: Float32Array) => prepared.forwardSync({ x, batch: B, timesteps: T, goBackwards: false, returnSequences: true });
    backend.threads = 2;
    const want = c.map((k) => whole(k.request.x as Float32Array));
    const streams = c.map(() => {
      const input = new Float32Array(B * D);
      const output = new Float32Array(B * H);
      const states = [new Float32Array(B * H), new Float32Array(B * H)];
      const request = { x: input, batch: B, timesteps: 1, goBackwards: false, returnSequences: false, output };
      const calls = [0, 1].map((from) => prepared.bindForward!({ ...request, initialState: states[from], lastState: states[from ^ 1] }));
      return { input, output, states, calls, outputs: new Float32Array(B * T * H) };
    });
    const threadsAt = [2, 2, 1, 2, 3, 3, 1, 2, 2];
    for (let t = 0; t < T; t++) {
      streams.forEach((st, i) => {
        const x = c[i].request.x as Float32Array;
        for (let b = 0; b < B; b++) st.input.set(x.subarray((b * T + t) * D, (b * T + t + 1) * D), b * D);
        // The backend's thread count reaches a bound call at its next run.
        backend.threads = threadsAt[(t + i) % threadsAt.length];
        st.calls[t % 2].run();
        for (let b = 0; b < B; b++) st.outputs.set(st.output.subarray(b * H, (b + 1) * H), (b * T + t) * H);
        // A whole-sequence call on the same layer between two steps changes neither stream.
        if (t % 3 === i) {
          backend.threads = 2;
          whole(c[1 - i].request.x as Float32Array);
        }
      });
    }
    streams.forEach((st, i) => {
      expect(bitwiseEqual(st.outputs, want[i].output as Float32Array)).toBe(true);
      expect(bitwiseEqual(st.states[T % 2], want[i].lastState as Float32Array)).toBe(true);
      for (const call of st.calls) call.dispose();
    });
    prepared.dispose();
  });
});

describe('bound call checks', () => {
  const spec = { units: 5, inputDim: 3, resetAfter: true, useBias: true, activation: 1, recurrentActivation: 2 };
  const layer = () => new binding.Layer(spec, new Float32Array(45), new Float32Array(75), new Float32Array(30));
  // new Bound(layer, ...the request's fields, output, lastState, threads, minStepMacs)
  type BoundRequest = Record<string, unknown> & { output: unknown; lastState: unknown };
  const bind = (l: unknown, r: BoundRequest, threads: number, minStepMacs: number) =>
    new binding.Bound(l as never, ...nativeArgs(r), r.output as Float32Array, r.lastState as Float32Array, threads, minStepMacs);
  const request = () => ({
    x: new Float32Array(6),
    batch: 2,
    timesteps: 1,
    goBackwards: false,
    returnSequences: false,
    initialState: new Float32Array(10),
    output: new Float32Array(10),
    lastState: new Float32Array(10),
  });

  it('refuses what a bound call cannot run, naming the argument', () => {
    const l = layer();
    expect(() => bind({} as never, request(), 1, 0)).toThrow(/`layer` must be a prepared Layer of this addon, received an object/);
    expect(() => bind(l, { ...request(), keepForBackward: true }, 1, 0)).toThrow(/`keepForBackward` must be false/);
    expect(() => bind(l, { ...request(), output: new Float32Array(9) }, 1, 0)).toThrow(
      /`output` has 9 elements, but its shape \[batch, units\] = \[2, 5\] needs 10/,
    );
    expect(() => bind(l, { ...request(), lastState: undefined as never }, 1, 0)).toThrow(/`lastState` must be a Float32Array, received undefined/);
    const r = request();
    expect(() => bind(l, { ...r, lastState: r.initialState }, 1, 0)).toThrow(/`lastState` shares memory with `initialState`/);
    const shared = new Float32Array(20);
    expect(() => bind(l, { ...r, output: shared.subarray(0, 10), lastState: shared.subarray(5, 15) }, 1, 0)).toThrow(/`output` shares memory with `lastState`/);
    expect(() => bind(l, request(), 0, 0)).toThrow(/`threads` must be between 1 and 1024, received the number 0/);
    expect(() => bind(l, request(), 1, -1)).toThrow(/`minStepMacs` must be a non-negative number, received the number -1/);
    // The ABI-5 form (one request object) is told what the addon takes now.
    const OldBound = binding.Bound as unknown as new (...a: unknown[]) => unknown;
    expect(() => new OldBound(l, request(), 1, 0)).toThrow(
      /expected \(layer, x, batch, timesteps, goBackwards, returnSequences, initialState, mask, inputDropoutMasks, recurrentDropoutMasks, keepForBackward, output, lastState, threads, minStepMacs\), received 4 arguments/,
    );
    l.dispose();
    expect(() => bind(l, request(), 1, 0)).toThrow(/this prepared layer has been disposed/);
  });

  it('a dropout mask element that is a getter answering another array each time: the call holds the array it read and checked', () => {
    const l = layer();
    const answered: Float32Array<ArrayBuffer>[] = [];
    const masks = [new Float32Array(6).fill(1), new Float32Array(6).fill(1), new Float32Array(6).fill(1)];
    Object.defineProperty(masks, 1, {
      get() {
        answered.push(new Float32Array(6).fill(1));
        return answered.at(-1);
      },
    });
    const bound = bind(l, { ...request(), inputDropoutMasks: masks }, 1, 0);
    expect(answered.length).toBe(1);
    bound.run();
    // The array the call runs on is the one it checked: detaching it stops the runs.
    structuredClone(answered[0].buffer, { transfer: [answered[0].buffer] });
    expect(() => bound.run()).toThrow(/the buffer of `inputDropoutMasks\[1\]` was detached or resized since the call was bound \(24 bytes then, 0 now\)/);
    bound.dispose();
    l.dispose();
  });

  it('a run fails cleanly once an array was detached, the layer disposed or the call disposed; new weights apply', () => {
    const l = layer();
    const r = request();
    r.x.fill(1);
    const bound = bind(l, r, 1, 0);
    bound.run();
    expect(r.output.every((v) => v === 0)).toBe(true); // zero weights: h = 0.5 * 0 + 0.5 * tanh(0)
    const b = new Float32Array(30).fill(1);
    l.setWeights(new Float32Array(45), new Float32Array(75), b);
    bound.run();
    expect(r.output[0]).toBeCloseTo((1 - 1 / (1 + Math.exp(-2))) * Math.tanh(1 + 1 / (1 + Math.exp(-2))), 6);
    expect(() => bound.configure(0, 0)).toThrow(/`threads` must be between 1 and 1024, received the number 0/);
    expect(() => bound.configure(2, Number.NaN)).toThrow(/`minStepMacs` must be a non-negative number, received the number NaN/);
    bound.configure(2, 0);
    const before = r.output.slice();
    bound.run();
    expect(bitwiseEqual(r.output, before)).toBe(true);

    structuredClone(r.x.buffer, { transfer: [r.x.buffer] });
    expect(() => bound.run()).toThrow(/the buffer of `x` was detached or resized since the call was bound \(24 bytes then, 0 now\)/);

    // Arrays sharing one buffer are checked once, and named together.
    const one = new Float32Array(6 + 10 * 3);
    const shared3 = { ...request(), x: one.subarray(0, 6), initialState: one.subarray(6, 16), output: one.subarray(16, 26), lastState: one.subarray(26, 36) };
    const onOne = bind(l, shared3, 1, 0);
    onOne.run();
    structuredClone(one.buffer, { transfer: [one.buffer] });
    expect(() => onOne.run()).toThrow(
      /the buffer of `x`, `output`, `lastState`, `initialState` was detached or resized since the call was bound \(144 bytes then, 0 now\)/,
    );

    // On a SharedArrayBuffer (never detached, only grown) each array is checked by its length.
    const sab = new Float32Array(new SharedArrayBuffer(24));
    const onSab = bind(l, { ...request(), x: sab }, 1, 0);
    onSab.run();
    onSab.dispose();

    // A resizable buffer shrinks and grows in place: a run refuses while it is short, and runs
    // again once the length is back.
    // (ES2024's resizable ArrayBuffer; the package's TypeScript lib predates it.)
    type Resizable = ArrayBuffer & { resize(bytes: number): void };
    const resizable = new (ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => Resizable)(24, { maxByteLength: 48 });
    const rr = { ...request(), x: new Float32Array(resizable) };
    const onResizable = bind(l, rr, 1, 0);
    onResizable.run();
    resizable.resize(16);
    expect(() => onResizable.run()).toThrow(/the buffer of `x` was detached or resized since the call was bound \(24 bytes then, 16 now\)/);
    resizable.resize(24);
    onResizable.run();
    onResizable.dispose();

    const r2 = request();
    const other = bind(l, r2, 1, 0);
    l.dispose();
    expect(() => other.run()).toThrow(/this prepared layer has been disposed/);
    other.dispose();
    expect(() => other.run()).toThrow(/this bound call was disposed/);
  });
});

describe('GRU.stream() on the cpu backend', () => {
  const [B, D, H] = [1, 64, 128]; // the benchmarks' S4

  async function layers() {
    await loadBackend('cpu');
    const r = rng(3);
    const weights = [
      { shape: [D, 3 * H], data: r.uniform(D * 3 * H, 0.1) },
      { shape: [H, 3 * H], data: r.uniform(H * 3 * H, 0.1) },
      { shape: [2, 3 * H], data: r.uniform(2 * 3 * H, 0.1) },
    ];
    const make = () => {
      const gru = new GRU({ units: H, stateful: true, returnSequences: true, backend: 'cpu' });
      gru.build([B, null, D]);
      gru.setWeights(weights);
      return gru;
    };
    return { streamed: make(), whole: make(), r };
  }

  it('steps equal one whole-sequence call bitwise, and the layer keeps the state', async () => {
    const { streamed, whole, r } = await layers();
    const T = 20;
    const x = r.uniform(B * T * D);
    const want = whole.forwardSync({ shape: [B, T, D], data: x });
    const stream = streamed.stream();
    expect(stream.backend).toBe('cpu');
    const got = new Float32Array(B * T * H);
    for (let t = 0; t < T; t++) got.set(stream.step(x.subarray(t * D, (t + 1) * D)), t * H);
    expect(bitwiseEqual(got, want.output.data as Float32Array)).toBe(true);
    expect(bitwiseEqual(streamed.states![0].data as Float32Array, whole.states![0].data as Float32Array)).toBe(true);
    // A whole-sequence call continues from the streamed state, and the stream from the call's.
    const more = r.uniform(B * 2 * D);
    const a = streamed.forwardSync({ shape: [B, 2, D], data: more }).output.data as Float32Array;
    const b = whole.forwardSync({ shape: [B, 2, D], data: more }).output.data as Float32Array;
    expect(bitwiseEqual(a, b)).toBe(true);
    const next = r.uniform(D);
    const s1 = stream.step(next).slice();
    whole.forwardSync({ shape: [B, 1, D], data: next });
    expect(bitwiseEqual(s1, whole.states![0].data as Float32Array)).toBe(true);
    stream.close();
  });

  it('a step allocates nothing (the heap grows by less than 4 bytes per step; the probe sees one allocating)', async () => {
    const { streamed } = await layers();
    const stream = streamed.stream();
    stream.input.fill(0.25);
    const out = new Float32Array(H);
    for (let i = 0; i < 20_000; i++) stream.step(undefined, out); // warm: bindings, caches, optimized code
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
