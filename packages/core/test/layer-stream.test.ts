import { describe, expect, it } from 'vitest';
import { GRU, registerBackend, unregisterBackend, type BoundForwardRequest, type GruBackend, type PreparedGru } from '../src/index.js';
import { referenceBackend } from '../src/reference/backend.js';

// GRU.stream(): a stateful layer fed one step at a time is the same layer called on sequences of
// one step: same outputs, same state, the same state seen by every other call.
function seq(B: number, T: number, D: number, seed = 1): Float32Array {
  const a = new Float32Array(B * T * D);
  let s = seed;
  for (let i = 0; i < a.length; i++) {
    s = (s * 16807) % 2147483647;
    a[i] = (s / 2147483647) * 2 - 1;
  }
  return a;
}

function pair(options: Record<string, unknown> = {}, B = 2, D = 3, H = 4) {
  const make = () => {
    const l = new GRU({ units: H, stateful: true, seed: 5, backend: 'reference', ...options });
    l.build(options.timeMajor ? [null, B, D] : [B, null, D]);
    return l;
  };
  const a = make();
  const b = make();
  b.setWeights(a.getWeights());
  return { a, b, B, D, H };
}

/** Step t of x [B, T, D] as [B, D]. */
function stepOf(x: Float32Array, B: number, T: number, D: number, t: number): Float32Array {
  const s = new Float32Array(B * D);
  for (let b = 0; b < B; b++) s.set(x.subarray((b * T + t) * D, (b * T + t + 1) * D), b * D);
  return s;
}

describe('GRU.stream()', () => {
  it('lays out its input and output on one buffer and its two states on another, without overlap (a backend checks two buffers per step)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const { a, B, D, H } = pair({ dtype });
      const s = a.stream();
      const states = (s as unknown as { states: Float32Array[] }).states;
      expect([s.input, s.output, ...states].map((p) => p.length)).toEqual([B * D, B * H, B * H, B * H]);
      expect(s.output.buffer).toBe(s.input.buffer);
      expect(states[1].buffer).toBe(states[0].buffer);
      expect(states[0].buffer).not.toBe(s.input.buffer);
      expect(s.output.byteOffset).not.toBe(s.input.byteOffset);
      expect(states[1].byteOffset).not.toBe(states[0].byteOffset);
      const bytes = dtype === 'float64' ? 8 : 4;
      expect(s.input.buffer.byteLength).toBe((B * D + B * H) * bytes);
      expect(states[0].buffer.byteLength).toBe(2 * B * H * bytes);
      s.close();
    }
  });

  it("transferring a step's output (postMessage) leaves the layer's state intact", () => {
    const { a, b, B, D } = pair();
    const x = seq(B, 2, D);
    const s = a.stream();
    const y = s.step(stepOf(x, B, 2, D, 0));
    b.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 2, D, 0) });
    structuredClone(y.buffer, { transfer: [y.buffer as ArrayBuffer] });
    expect(s.output.length).toBe(0);
    // The layer's state is the step's state, still whole, and a call continues from it.
    expect([...a.states![0].data]).toEqual([...b.states![0].data]);
    const next = a.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 2, D, 1) }).output.data;
    expect([...next]).toEqual([...b.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 2, D, 1) }).output.data]);
    expect(() => s.step(stepOf(x, B, 2, D, 1))).toThrow(/detached|transferred/);
    s.close();
  });

  it('a step input whose buffer was transferred away is named as such, not only as 0 values', () => {
    const { a, B, D } = pair();
    const s = a.stream();
    const input = stepOf(seq(B, 2, D), B, 2, D, 0);
    structuredClone(input.buffer, { transfer: [input.buffer as ArrayBuffer] });
    expect(() => s.step(input)).toThrow(/received 0 values \(its buffer was transferred or detached: postMessage with a transfer list\?\)/);
    expect(() => s.step(new Float32Array(0))).toThrow(/received 0 values\.$/);
    s.close();
  });

  it.each([{}, { resetAfter: false }, { goBackwards: true, returnSequences: true }, { timeMajor: true }, { dtype: 'float64' }])(
    'steps equal one whole-sequence call exactly (%o)',
    (options) => {
      const { a, b, B, D, H } = pair(options);
      const T = 6;
      const x = seq(B, T, D);
      const stream = a.stream();
      const outs: number[][] = [];
      for (let t = 0; t < T; t++) outs.push([...stream.step(stepOf(x, B, T, D, t))]);
      // The whole-sequence reference: the same layer called once per step.
      for (let t = 0; t < T; t++) {
        const input = (options as { timeMajor?: boolean }).timeMajor
          ? { shape: [1, B, D], data: stepOf(x, B, T, D, t) }
          : { shape: [B, 1, D], data: stepOf(x, B, T, D, t) };
        const r = b.forwardSync(input);
        expect(outs[t]).toEqual([...r.output.data]);
      }
      expect([...a.states![0].data]).toEqual([...b.states![0].data]);
      expect(a.states![0].data.constructor).toBe((options as { dtype?: string }).dtype === 'float64' ? Float64Array : Float32Array);
      expect(stream.output.length).toBe(B * H);
      stream.close();
    },
  );

  it('one step at a time equals one call on the whole sequence', () => {
    const { a, b, B, D } = pair({ returnSequences: true });
    const T = 5;
    const x = seq(B, T, D, 9);
    const whole = b.forwardSync({ shape: [B, T, D], data: x }).output.data;
    const stream = a.stream();
    const H = a.units;
    for (let t = 0; t < T; t++) {
      const y = stream.step(stepOf(x, B, T, D, t));
      for (let r = 0; r < B; r++) for (let j = 0; j < H; j++) expect(y[r * H + j]).toBe(whole[(r * T + t) * H + j]);
    }
  });

  it('shares the layer state: resetStates, whole-sequence calls, setWeights and input writes', () => {
    const { a, b, B, D } = pair();
    const x = seq(B, 4, D, 3);
    const s = a.stream();
    const into = new Float32Array(B * a.units);
    s.step(stepOf(x, B, 4, D, 0));
    b.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 4, D, 0) });
    // A call between steps continues from the streamed state.
    a.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 4, D, 1) });
    b.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 4, D, 1) });
    // Writing `input` and stepping without arguments; `out` is filled and returned.
    s.input.set(stepOf(x, B, 4, D, 2));
    expect(s.step(undefined, into)).toBe(into);
    expect([...into]).toEqual([...b.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 4, D, 2) }).output.data]);
    // resetStates (zeros, or given values) is what the next step starts from.
    a.resetStates();
    b.resetStates();
    expect([...s.step(stepOf(x, B, 4, D, 3))]).toEqual([...b.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 4, D, 3) }).output.data]);
    const h = { shape: [B, a.units], data: seq(B, 1, a.units, 11) };
    a.resetStates(h);
    b.resetStates(h);
    expect([...s.step(stepOf(x, B, 4, D, 0))]).toEqual([...b.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 4, D, 0) }).output.data]);
    expect([...h.data]).toEqual([...seq(B, 1, a.units, 11)]); // the given state array is not written
    // New weights take effect at the next step.
    const w = b.getWeights().map((t) => ({ ...t, data: t.data.map((v) => v * 0.5) }));
    a.setWeights(w);
    b.setWeights(w);
    expect([...s.step(stepOf(x, B, 4, D, 1))]).toEqual([...b.forwardSync({ shape: [B, 1, D], data: stepOf(x, B, 4, D, 1) }).output.data]);
    // `states` is a copy: writing it changes nothing.
    a.states![0].data.fill(7);
    expect([...a.states![0].data]).toEqual([...b.states![0].data]);
    s.close();
    // After close the layer keeps the state, in an array the stream no longer writes.
    expect([...a.states![0].data]).toEqual([...b.states![0].data]);
    expect(() => s.step()).toThrow(/this stream was closed/);
  });

  it('refuses what it cannot stream, with the reason', async () => {
    expect(() => new GRU({ units: 2 }).stream()).toThrow(/is not stateful: a stream carries the state/);
    expect(() => new GRU({ units: 2, stateful: true }).stream()).toThrow(/has no batch size yet: pass stream\(\{batch\}\)/);
    expect(() => new GRU({ units: 2, stateful: true }).stream({ batch: 1 })).toThrow(/is not built: pass stream\(\{features\}\)/);
    const built = new GRU({ units: 2, stateful: true }).stream({ batch: 2, features: 3 });
    expect(built.batch).toBe(2);
    expect(built.features).toBe(3);
    const { a } = pair();
    expect(() => a.stream({ batch: 5 })).toThrow(/stateful with batch size 2; stream\(\{batch: 5\}\) cannot change it/);
    expect(() => a.stream({ features: 9 })).toThrow(/takes 3 input features; stream\(\{features: 9\}\) does not match/);
    expect(() => a.stream({ batch: 1.5 })).toThrow(/option `batch` must be a positive integer; received 1.5/);
    expect(() => a.stream({ bogus: 1 } as never)).toThrow(/Unknown GRU.stream option\(s\): bogus/);
    const s = a.stream();
    expect(() => s.step(new Float32Array(5))).toThrow(
      /step\(x\) expects `x`, one step's input \[batch, features\] = \[2, 3\], as 6 values \(flat\); received 5 values/,
    );
    expect(() => s.step(null as never)).toThrow(/received null/);
    expect(() => s.step(undefined, new Float32Array(3) as never)).toThrow(
      /`out` must be a typed array of \[batch, units\] = \[2, 4\] \(8 values\); received Float32Array of 3 values/,
    );
    // Async calls in flight own the state until they settle.
    const pending = a.forward({ shape: [2, 1, 3], data: new Float32Array(6) });
    expect(() => s.step()).toThrow(/async calls in flight: await them before stepping/);
    await pending;
    expect(s.step().length).toBe(8);
  });

  it('uses a backend bindForward when it has one, and binds again after new weights', () => {
    const binds: BoundForwardRequest[] = [];
    let runs = 0;
    const wrapped: GruBackend = {
      ...referenceBackend,
      name: 'bound-test',
      priority: -1,
      prepareSync(spec, weights) {
        const inner = referenceBackend.prepareSync!(spec, weights) as PreparedGru;
        return {
          ...inner,
          spec,
          forward: (r) => inner.forward(r),
          forwardSync: (r) => inner.forwardSync!(r),
          setWeights: (w) => inner.setWeights(w),
          dispose: () => inner.dispose(),
          bindForward(request) {
            binds.push(request);
            return {
              run() {
                runs++;
                const r = inner.forwardSync!(request);
                request.output.set(r.output);
                request.lastState.set(r.lastState);
              },
              dispose() {},
            };
          },
        };
      },
      prepare: async (spec, weights) => wrapped.prepareSync!(spec, weights),
    };
    registerBackend(wrapped);
    try {
      const { a, b, B, D } = pair({ backend: 'bound-test' });
      const s = a.stream();
      expect(s.backend).toBe('bound-test');
      expect(binds).toHaveLength(2); // one per state buffer
      expect(binds[0].lastState).toBe(binds[1].initialState);
      const x = seq(B, 1, D);
      expect([...s.step(x)]).toEqual([...b.forwardSync({ shape: [B, 1, D], data: x }, { backend: 'reference' }).output.data]);
      expect(runs).toBe(1);
      a.setWeights(a.getWeights());
      s.step(x);
      expect(binds).toHaveLength(4);
      s.close();
    } finally {
      unregisterBackend('bound-test');
    }
  });
});
