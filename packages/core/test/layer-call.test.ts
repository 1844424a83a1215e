import { beforeEach, describe, expect, it } from 'vitest';
import { clearSession, GRU, GruError, type GruOptions, type Tensor, type TensorLike } from '../src/index.js';
import { expectKerasError } from './helpers/errors.js';
// The kit's seeded generator (core cannot depend on @gru/conformance, which depends on it).
import { rng } from '../../../conformance/src/testing/rng.js';

function randomArray(n: number, seed: number, scale = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

const B = 2;
const T = 5;
const D = 3;
const H = 4;
const X_DATA = randomArray(B * T * D, 1, 1.5);
const X: Tensor = { shape: [B, T, D], data: Float64Array.from(X_DATA) };

function weightsFor(o: { useBias?: boolean; resetAfter?: boolean }, seed = 10): TensorLike[] {
  const w: TensorLike[] = [
    { shape: [D, 3 * H], data: randomArray(D * 3 * H, seed, 0.8) },
    { shape: [H, 3 * H], data: randomArray(H * 3 * H, seed + 1, 0.8) },
  ];
  if (o.useBias ?? true) {
    const shape = (o.resetAfter ?? true) ? [2, 3 * H] : [3 * H];
    w.push({
      shape,
      data: randomArray(
        shape.reduce((a, b) => a * b),
        seed + 2,
        0.4,
      ),
    });
  }
  return w;
}

function layer(options: Partial<GruOptions> = {}, seed = 10): GRU {
  const l = new GRU({ units: H, dtype: 'float64', ...options });
  l.setWeights(weightsFor(options, seed));
  return l;
}

/** [a, b, c] -> [b, a, c] on flat data. */
function swap01(data: ArrayLike<number>, a: number, b: number, c: number): number[] {
  const out = new Array<number>(a * b * c);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < c; k++) out[(j * a + i) * c + k] = data[(i * b + j) * c + k];
  return out;
}

/** Reverses the time axis of [batch, time, features]. */
function reverseTime(data: ArrayLike<number>, b: number, t: number, f: number): number[] {
  const out = new Array<number>(b * t * f);
  for (let i = 0; i < b; i++) for (let s = 0; s < t; s++) for (let k = 0; k < f; k++) out[(i * t + s) * f + k] = data[(i * t + (t - 1 - s)) * f + k];
  return out;
}

function nested(t: Tensor): number[][][] {
  const [a, b, c] = t.shape;
  return Array.from({ length: a }, (_, i) => Array.from({ length: b }, (_, j) => Array.from(t.data.slice((i * b + j) * c, (i * b + j + 1) * c))));
}

beforeEach(() => clearSession());

describe('forward and forwardSync', () => {
  const configs: Partial<GruOptions>[] = [
    { returnSequences: true, returnState: true },
    { resetAfter: false, goBackwards: true, returnState: true },
    { useBias: false, returnSequences: true, zeroOutputForMask: true },
    { returnSequences: true, unroll: true, activation: 'gelu', recurrentActivation: 'hard_sigmoid' },
  ];
  for (const options of configs) {
    it(`give identical results: ${JSON.stringify(options)}`, async () => {
      const mask = [
        [1, 1, 0, 1, 0],
        [0, 1, 1, 1, 1],
      ];
      const sync = layer(options).forwardSync(X, { mask, initialState: [randomArray(H, 5), randomArray(H, 6)] });
      const asyncResult = await layer(options).forward(X, { mask, initialState: [randomArray(H, 5), randomArray(H, 6)] });
      expect(asyncResult.outputs.map((o) => o.shape)).toEqual(sync.outputs.map((o) => o.shape));
      asyncResult.outputs.forEach((o, i) => expect(Array.from(o.data)).toEqual(Array.from(sync.outputs[i].data)));
      expect(asyncResult.backend).toBe('reference');
      expect(sync.backend).toBe('reference');
    });
  }

  it('with dropout: same seed, same draws, same result, sync or async', async () => {
    const o = { returnSequences: true, dropout: 0.3, recurrentDropout: 0.2, seed: 99 };
    const a = layer(o).forwardSync(X, { training: true });
    const b = await layer(o).forward(X, { training: true });
    expect(Array.from(b.output.data)).toEqual(Array.from(a.output.data));
  });
});

describe('input forms', () => {
  it('nested arrays, {shape, data} with number[], Float64Array and Float32Array agree', () => {
    const l = layer({ returnSequences: true });
    const ref = l.forwardSync(X).output.data;
    const forms: TensorLike[] = [nested(X), { shape: [B, T, D], data: X_DATA }, { shape: [B, T, D], data: Float64Array.from(X_DATA) }];
    for (const form of forms) expect(Array.from(l.forwardSync(form).output.data)).toEqual(Array.from(ref));
    // A float32 source is first rounded to float32 values; the float64 layer then computes on those.
    const f32 = Float32Array.from(X_DATA);
    const expected = l.forwardSync({ shape: [B, T, D], data: Array.from(f32) }).output.data;
    expect(Array.from(l.forwardSync({ shape: [B, T, D], data: f32 }).output.data)).toEqual(Array.from(expected));
  });

  it('integer inputs are cast to the layer dtype (Int32Array, nested ints, booleans)', () => {
    const ints = X_DATA.map((v) => Math.round(v * 2));
    const l = layer({ returnSequences: true });
    const ref = l.forwardSync({ shape: [B, T, D], data: ints.map((v) => v + 0.0) }).output.data;
    expect(Array.from(l.forwardSync({ shape: [B, T, D], data: Int32Array.from(ints) }).output.data)).toEqual(Array.from(ref));
    expect(Array.from(l.forwardSync(nested({ shape: [B, T, D], data: Float64Array.from(ints) })).output.data)).toEqual(Array.from(ref));
    const bools = X_DATA.map((v) => v > 0);
    const asNumbers = l.forwardSync({ shape: [B, T, D], data: bools.map(Number) }).output.data;
    expect(Array.from(l.forwardSync({ shape: [B, T, D], data: bools }).output.data)).toEqual(Array.from(asNumbers));
  });

  it("does not modify the caller's inputs, masks or states (even with dropout)", () => {
    const data = Float64Array.from(X_DATA);
    const mask = [
      [1, 0, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ];
    const h0 = { shape: [B, H], data: randomArray(B * H, 3) };
    const h0Copy = [...h0.data];
    layer({ dropout: 0.5, seed: 1 }).forwardSync({ shape: [B, T, D], data }, { training: true, mask, initialState: h0 });
    expect(Array.from(data)).toEqual(X_DATA);
    expect(mask).toEqual([
      [1, 0, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ]);
    expect(h0.data).toEqual(h0Copy);
  });

  it('float32 layers return float32 values of the float64 computation, rounded', () => {
    const r32 = layer({ returnSequences: true, dtype: 'float32' }).forwardSync(X);
    const r64 = layer({ returnSequences: true }).forwardSync(X);
    expect(r32.output.data).toBeInstanceOf(Float32Array);
    for (let i = 0; i < r64.output.data.length; i++) expect(Math.abs(r32.output.data[i] - r64.output.data[i])).toBeLessThan(2e-6);
  });
});

describe('timeMajor', () => {
  it('returnSequences: output is the transposed batch-major output', () => {
    const batchMajor = layer({ returnSequences: true, returnState: true }).forwardSync(X);
    const xt = { shape: [T, B, D], data: swap01(X.data, B, T, D) };
    const timeMajor = layer({ returnSequences: true, returnState: true, timeMajor: true }).forwardSync(xt);
    expect(timeMajor.output.shape).toEqual([T, B, H]);
    expect(timeMajor.output.data.length).toBe(T * B * H);
    expect(Array.from(timeMajor.output.data)).toEqual(swap01(batchMajor.output.data, B, T, H));
    expect(Array.from(timeMajor.state?.data ?? [])).toEqual(Array.from(batchMajor.state?.data ?? []));
  });

  it('last output is [batch, units], same as batch-major; goBackwards and masks too', () => {
    const mask = [
      [1, 1, 1, 0, 0],
      [0, 1, 0, 1, 1],
    ];
    const o = { goBackwards: true, zeroOutputForMask: true };
    const batchMajor = layer(o).forwardSync(X, { mask });
    const maskT = mask[0].map((_, t) => mask.map((row) => row[t])); // time-major layers take [T, B] masks
    const timeMajor = layer({ ...o, timeMajor: true }).forwardSync({ shape: [T, B, D], data: swap01(X.data, B, T, D) }, { mask: maskT });
    expect(timeMajor.output.shape).toEqual([B, H]);
    expect(Array.from(timeMajor.output.data)).toEqual(Array.from(batchMajor.output.data));
  });

  it('async forward transposes the same way', async () => {
    const xt = { shape: [T, B, D], data: swap01(X.data, B, T, D) };
    const sync = layer({ returnSequences: true, timeMajor: true }).forwardSync(xt);
    const asyncResult = await layer({ returnSequences: true, timeMajor: true }).forward(xt);
    expect(Array.from(asyncResult.output.data)).toEqual(Array.from(sync.output.data));
  });

  it('stateful time-major layers take the batch from axis 1', () => {
    const l = layer({ stateful: true, timeMajor: true });
    l.forwardSync({ shape: [T, B, D], data: swap01(X.data, B, T, D) });
    expect(l.states?.[0].shape).toEqual([B, H]);
    expectKerasError(
      () => l.forwardSync({ shape: [T, 3, D], data: new Array(T * 3 * D).fill(0) }),
      'ValueError',
      'Expected batch size: 2',
      'Received batch size: 3',
    );
  });
});

describe('goBackwards', () => {
  it('processes t = T-1..0 and returns outputs in processing order (= forward run on reversed time)', () => {
    const back = layer({ goBackwards: true, returnSequences: true, returnState: true }).forwardSync(X);
    const reversed = layer({ returnSequences: true, returnState: true }).forwardSync({ shape: [B, T, D], data: reverseTime(X.data, B, T, D) });
    expect(Array.from(back.output.data)).toEqual(Array.from(reversed.output.data));
    expect(Array.from(back.state?.data ?? [])).toEqual(Array.from(reversed.state?.data ?? []));
  });

  it('a mask is indexed by original time (reverse the mask with the input to get the same result)', () => {
    const mask = [
      [1, 1, 0, 0, 1],
      [0, 1, 1, 1, 0],
    ];
    const revMask = mask.map((row) => [...row].reverse());
    const back = layer({ goBackwards: true, returnSequences: true }).forwardSync(X, { mask });
    const reversed = layer({ returnSequences: true }).forwardSync({ shape: [B, T, D], data: reverseTime(X.data, B, T, D) }, { mask: revMask });
    expect(Array.from(back.output.data)).toEqual(Array.from(reversed.output.data));
  });
});

describe('masks', () => {
  it('an all-ones mask equals no mask; a right-padded row equals the shorter sequence', () => {
    const l = layer({ returnState: true });
    const full = l.forwardSync(X);
    expect(
      Array.from(
        l.forwardSync(X, {
          mask: [
            [1, 1, 1, 1, 1],
            [1, 1, 1, 1, 1],
          ],
        }).output.data,
      ),
    ).toEqual(Array.from(full.output.data));
    const padded = l.forwardSync(X, {
      mask: [
        [1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1],
      ],
    });
    const short = l.forwardSync({ shape: [B, 3, D], data: [...X_DATA.slice(0, 3 * D), ...X_DATA.slice(T * D, T * D + 3 * D)] });
    expect(Array.from(padded.output.data.slice(0, H))).toEqual(Array.from(short.output.data.slice(0, H)));
    expect(Array.from(padded.state?.data.slice(0, H) ?? [])).toEqual(Array.from(short.state?.data.slice(0, H) ?? []));
  });

  it('a mask with holes skips exactly the masked steps', () => {
    const l = layer({ returnState: true });
    const holes = l.forwardSync(X, {
      mask: [
        [1, 0, 1, 0, 1],
        [1, 1, 1, 1, 1],
      ],
    });
    const kept = [0, 2, 4].flatMap((s) => X_DATA.slice(s * D, s * D + D));
    const compact = l.forwardSync({ shape: [1, 3, D], data: kept });
    expect(Array.from(holes.state?.data.slice(0, H) ?? [])).toEqual(Array.from(compact.state?.data ?? []));
  });

  it('a masked step outputs the carried state (returnSequences, zeroOutputForMask false)', () => {
    const r = layer({ returnSequences: true }).forwardSync(X, {
      mask: [
        [1, 1, 0, 0, 1],
        [1, 1, 1, 1, 1],
      ],
    });
    const step = (s: number) => Array.from(r.output.data.slice(s * H, (s + 1) * H));
    expect(step(2)).toEqual(step(1));
    expect(step(3)).toEqual(step(1));
    expect(step(4)).not.toEqual(step(1));
  });

  it('zeroOutputForMask zeroes masked steps, and the last output when the last step is masked', () => {
    const mask = [
      [1, 1, 0, 0, 0],
      [1, 1, 1, 1, 1],
    ];
    const seq = layer({ returnSequences: true, zeroOutputForMask: true, returnState: true }).forwardSync(X, { mask });
    for (const s of [2, 3, 4]) expect(Array.from(seq.output.data.slice(s * H, (s + 1) * H))).toEqual([0, 0, 0, 0]);
    const last = layer({ zeroOutputForMask: true, returnState: true }).forwardSync(X, { mask });
    expect(Array.from(last.output.data.slice(0, H))).toEqual([0, 0, 0, 0]);
    // The state is still the carried one (the state after step 1), not zeros.
    expect(Array.from(last.state?.data ?? [])).toEqual(Array.from(seq.state?.data ?? []));
    const carried = layer({ returnState: true }).forwardSync({ shape: [B, 2, D], data: [...X_DATA.slice(0, 2 * D), ...X_DATA.slice(T * D, T * D + 2 * D)] });
    expect(Array.from(last.state?.data.slice(0, H) ?? [])).toEqual(Array.from(carried.state?.data.slice(0, H) ?? []));
  });
});

describe('initial state', () => {
  const h0 = randomArray(B * H, 21);
  it('accepts h0, [h0], nested arrays and {shape, data}, all the same', () => {
    const l = layer({ returnSequences: true });
    const t = { shape: [B, H], data: h0 };
    const n = [h0.slice(0, H), h0.slice(H)];
    const ref = Array.from(l.forwardSync(X, { initialState: t }).output.data);
    for (const initialState of [[t], n, [n]]) {
      expect(Array.from(l.forwardSync(X, { initialState }).output.data)).toEqual(ref);
    }
  });

  it('[1, units] broadcasts over the batch, like repeating it', () => {
    const l = layer({ returnSequences: true });
    const one = h0.slice(0, H);
    const broadcast = l.forwardSync(X, { initialState: [one] });
    const repeated = l.forwardSync(X, { initialState: [one, one] });
    expect(Array.from(broadcast.output.data)).toEqual(Array.from(repeated.output.data));
  });

  it('null and undefined mean zeros', () => {
    const l = layer({ returnState: true });
    const zeros = l.forwardSync(X, { initialState: { shape: [B, H], data: new Array(B * H).fill(0) } });
    expect(Array.from(l.forwardSync(X, { initialState: null }).output.data)).toEqual(Array.from(zeros.output.data));
    expect(Array.from(l.forwardSync(X).output.data)).toEqual(Array.from(zeros.output.data));
  });

  it('wrong shapes are refused naming the expected and received shape', () => {
    const l = layer();
    expectKerasError(
      () => l.forwardSync(X, { initialState: { shape: [B, 5], data: new Array(B * 5).fill(0) } }),
      'ValueError',
      "Layer 'gru'",
      'must have shape (2, 4)',
      'received (2, 5)',
    );
    expectKerasError(() => l.forwardSync(X, { initialState: { shape: [3, H], data: new Array(3 * H).fill(0) } }), 'ValueError', 'received (3, 4)');
    expectKerasError(() => l.forwardSync(X, { initialState: { shape: [B * H], data: new Array(B * H).fill(0) } }), 'ValueError', 'received (8,)');
    expectKerasError(
      () =>
        l.forwardSync(X, {
          initialState: [
            { shape: [B, H], data: h0 },
            { shape: [B, H], data: h0 },
          ],
        }),
      'ValueError',
      'has 1 state (units=4), but received 2 initial state tensors',
    );
  });
});

describe('stateful', () => {
  it('states is null until the first call, then the last state (a copy)', () => {
    const l = layer({ stateful: true, returnState: true });
    expect(l.states).toBeNull();
    const r = l.forwardSync(X);
    const states = l.states as Tensor[];
    expect(states).toHaveLength(1);
    expect(states[0].shape).toEqual([B, H]);
    expect(Array.from(states[0].data)).toEqual(Array.from(r.state?.data ?? []));
    states[0].data.fill(123);
    expect(Array.from((l.states as Tensor[])[0].data)).toEqual(Array.from(r.state?.data ?? []));
  });

  it('mutating a returned state does not change the carried state', () => {
    const a = layer({ stateful: true, returnState: true });
    const b = layer({ stateful: true, returnState: true });
    const ra = a.forwardSync(X);
    b.forwardSync(X);
    ra.state?.data.fill(5);
    ra.output.data.fill(5);
    expect(Array.from(a.forwardSync(X).output.data)).toEqual(Array.from(b.forwardSync(X).output.data));
  });

  it('the state is the last processed step (goBackwards) and a masked tail keeps the earlier state', () => {
    const l = layer({ stateful: true, goBackwards: true, returnState: true });
    const r = l.forwardSync(X, {
      mask: [
        [1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1],
      ],
    });
    expect(Array.from((l.states as Tensor[])[0].data)).toEqual(Array.from(r.state?.data ?? []));
  });

  it("a second call equals a non-stateful call from the first call's final state", () => {
    const s = layer({ stateful: true, returnSequences: true, returnState: true });
    const first = s.forwardSync(X);
    const second = s.forwardSync(X);
    const plain = layer({ returnSequences: true }).forwardSync(X, { initialState: first.state });
    expect(Array.from(second.output.data)).toEqual(Array.from(plain.output.data));
  });

  it('an explicit initial state overrides the carried state and the result is carried on', () => {
    const s = layer({ stateful: true, returnState: true });
    s.forwardSync(X);
    const h0 = { shape: [B, H], data: randomArray(B * H, 8) };
    const r = s.forwardSync(X, { initialState: h0 });
    expect(Array.from(r.output.data)).toEqual(Array.from(layer({ returnState: true }).forwardSync(X, { initialState: h0 }).output.data));
    expect(Array.from((s.states as Tensor[])[0].data)).toEqual(Array.from(r.state?.data ?? []));
  });

  it('resetStates() zeroes; resetState() is the Keras 3 alias; resetStates(h) sets', () => {
    const s = layer({ stateful: true });
    const fresh = Array.from(s.forwardSync(X).output.data);
    s.forwardSync(X);
    s.resetStates();
    expect(Array.from((s.states as Tensor[])[0].data)).toEqual(new Array(B * H).fill(0));
    expect(Array.from(s.forwardSync(X).output.data)).toEqual(fresh);
    s.resetState();
    expect(Array.from(s.forwardSync(X).output.data)).toEqual(fresh);
    const h = randomArray(B * H, 4);
    s.resetStates({ shape: [B, H], data: h });
    expect(Array.from((s.states as Tensor[])[0].data)).toEqual(h);
    s.resetStates([{ shape: [B, H], data: h }]);
    expect(Array.from((s.states as Tensor[])[0].data)).toEqual(h);
    s.resetStates([h.slice(0, H), h.slice(H)]);
    expect(Array.from((s.states as Tensor[])[0].data)).toEqual(h);
  });

  it('resetStates with a wrong shape names the expected shape', () => {
    const s = layer({ stateful: true });
    s.forwardSync(X);
    expectKerasError(
      () => s.resetStates({ shape: [3, H], data: new Array(3 * H).fill(0) }),
      'ValueError',
      'resetStates expects a state of shape (2, 4), received (3, 4)',
    );
  });

  it('resetStates on a non-stateful layer is a no-op and states stays null', () => {
    const l = layer();
    l.resetStates();
    l.resetStates({ shape: [B, H], data: new Array(B * H).fill(1) });
    expect(l.states).toBeNull();
  });

  it("a batch change raises Keras's message", () => {
    const s = layer({ stateful: true });
    s.forwardSync(X);
    const err = expectKerasError(() => s.forwardSync({ shape: [3, T, D], data: new Array(3 * T * D).fill(0) }), 'ValueError');
    expect(err.message).toBe(
      'If an RNN is stateful, the batch size of the input sequences must be the same as the batch size of the initial state. \n- Expected batch size: 2\n- Received batch size: 3',
    );
  });

  it('build() with a known batch fixes the stateful batch before the first call', () => {
    const s = layer({ stateful: true });
    s.build([4, null, D]);
    expectKerasError(() => s.forwardSync(X), 'ValueError', 'Expected batch size: 4', 'Received batch size: 2');
  });

  it('getInitialState(batch) is one zero tensor', () => {
    const st = layer().getInitialState(3);
    expect(st).toHaveLength(1);
    expect(st[0].shape).toEqual([3, H]);
    expect(Array.from(st[0].data)).toEqual(new Array(3 * H).fill(0));
    expect(st[0].data).toBeInstanceOf(Float64Array);
  });
});

describe('weights', () => {
  it('setWeights after a call is used by the next call (sync and async), and matches a fresh layer', async () => {
    const l = layer({ returnSequences: true });
    l.forwardSync(X);
    await l.forward(X);
    l.setWeights(weightsFor({}, 77));
    const fresh = layer({ returnSequences: true }, 77).forwardSync(X).output.data;
    expect(Array.from(l.forwardSync(X).output.data)).toEqual(Array.from(fresh));
    l.setWeights(weightsFor({}, 78));
    const fresh2 = layer({ returnSequences: true }, 78).forwardSync(X).output.data;
    expect(Array.from((await l.forward(X)).output.data)).toEqual(Array.from(fresh2));
  });

  it('getWeights returns copies; the {kernel, recurrentKernel, bias} form equals the list form', () => {
    const l = layer({ returnState: true });
    const before = Array.from(l.forwardSync(X).output.data);
    const w = l.getWeights();
    w[0].data.fill(0);
    expect(Array.from(l.forwardSync(X).output.data)).toEqual(before);
    const [kernel, recurrentKernel, bias] = weightsFor({});
    const m = new GRU({ units: H, dtype: 'float64', returnState: true });
    m.setWeights({ kernel, recurrentKernel, bias });
    expect(Array.from(m.forwardSync(X).output.data)).toEqual(before);
    expect(m.weights.kernel.shape).toEqual([D, 3 * H]);
    expect(m.weights.bias?.shape).toEqual([2, 3 * H]);
  });

  it("setWeights errors use Keras's messages", () => {
    const l = layer();
    let err = expectKerasError(() => l.setWeights(weightsFor({}).slice(0, 1)), 'ValueError');
    expect(err.message).toBe("You called `set_weights(weights)` on layer 'gru' with a weight list of length 1, but the layer was expecting 3 weights.");
    err = expectKerasError(() => l.setWeights(weightsFor({ resetAfter: false })), 'ValueError');
    expect(err.message).toBe('Layer gru weight shape (2, 12) is not compatible with provided weight shape (12,).');
    err = expectKerasError(() => l.setWeights([{ shape: [D + 1, 3 * H], data: new Array((D + 1) * 3 * H).fill(0) }, ...weightsFor({}).slice(1)]), 'ValueError');
    expect(err.message).toBe('Layer gru weight shape (3, 12) is not compatible with provided weight shape (4, 12).');
  });

  it('setWeights on an unbuilt layer builds it from the kernel', () => {
    const l = new GRU({ units: H, useBias: false });
    l.setWeights(weightsFor({ useBias: false }));
    expect(l.built).toBe(true);
    expect(l.bias).toBeNull();
    expect(l.inputShape).toEqual([null, null, D]);
  });

  it('an unbuilt layer has no weights to read', () => {
    const l = new GRU({ units: H });
    expect(l.getWeights()).toEqual([]);
    expectKerasError(() => l.kernel, 'ValueError', "Layer 'gru_cell' has no weights yet");
  });
});

describe('call validation', () => {
  it("wrong rank: Keras's InputSpec message", () => {
    const err = expectKerasError(
      () =>
        layer().forwardSync([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      'ValueError',
    );
    expect(err.message).toBe(
      "Input 0 with name 'None' of layer 'gru' is incompatible with the layer: expected ndim=3, found ndim=2. Full shape received: (2, 3)",
    );
  });

  it('wrong feature count after build names expected and received', () => {
    const l = layer();
    expectKerasError(
      () => l.forwardSync({ shape: [B, T, 7], data: new Array(B * T * 7).fill(0) }),
      'ValueError',
      "Input 0 of layer 'gru' is incompatible with the layer: expected axis -1 of input shape to have value 3, but received input with shape (2, 5, 7)",
    );
  });

  it('mask shape', () => {
    expectKerasError(
      () =>
        layer().forwardSync(X, {
          mask: [
            [1, 1, 1, 1],
            [1, 1, 1, 1],
          ],
        }),
      'ValueError',
      "Layer 'gru': argument `mask` must have shape (2, 5) (batch, timesteps), received (2, 4).",
    );
    expectKerasError(() => layer().forwardSync(X, { mask: { shape: [B, T, 1], data: new Array(B * T).fill(1) } }), 'ValueError', 'received (2, 5, 1)');
  });

  it('unknown call options and non-object options', () => {
    expectKerasError(
      () => layer().forwardSync(X, { trainin: true } as never),
      'ValueError',
      'Unknown GRU call option(s): trainin.',
      'Known options: mask, training, initialState',
    );
    expectKerasError(() => layer().forwardSync(X, 5 as never), 'ValueError', 'GRU call options must be an object', 'received 5');
  });

  it('mixed_float16 layers are refused at call time with the reason', async () => {
    const l = new GRU({ units: H, dtype: 'mixed_float16' });
    expectKerasError(
      () => l.forwardSync(X),
      'ValueError',
      "Layer 'gru' has dtype policy 'mixed_float16', which computes in float16; gru computes in float32 or float64 only.",
    );
    await expect(l.forward(X)).rejects.toThrow('computes in float16');
    expectKerasError(() => new GRU({ units: H, dtype: 'bfloat16' }).forwardSync(X), 'ValueError', 'computes in bfloat16');
  });

  it('zero timesteps is an IndexError, as in Keras', () => {
    expectKerasError(
      () => layer().forwardSync({ shape: [B, 0, D], data: [] }),
      'IndexError',
      "Layer 'gru' received an input with 0 timesteps (shape (2, 0, 3))",
    );
  });

  it('a batch of zero is fine and gives empty outputs', () => {
    const r = layer({ returnSequences: true, returnState: true }).forwardSync({ shape: [0, T, D], data: [] });
    expect(r.output.shape).toEqual([0, T, H]);
    expect(r.output.data.length).toBe(0);
    expect(r.state?.shape).toEqual([0, H]);
  });

  it('malformed tensors name the argument', () => {
    expectKerasError(() => layer().forwardSync([[[1, 2, 3]], [[1, 2]]]), 'ValueError', 'Argument `inputs` is a ragged nested array');
    expectKerasError(
      () => layer().forwardSync({ shape: [B, T, D], data: [1, 2, 3] }),
      'ValueError',
      'Argument `inputs` has shape (2, 5, 3), which holds 30 values, but its data has 3.',
    );
    expectKerasError(() => layer().forwardSync({ shape: [B, -1, D], data: [] }), 'ValueError', 'Argument `inputs` has an invalid shape');
    expectKerasError(() => layer().forwardSync('abc' as never), 'ValueError', 'Argument `inputs` must be a tensor');
    expectKerasError(
      () => layer().forwardSync([[['a', 2, 3]]] as never),
      'ValueError',
      'Argument `inputs` must hold numbers or booleans: found a string ("a") at [0, 0, 0] (flat index 0).',
    );
    expectKerasError(() => layer().forwardSync(X, { mask: { shape: [B, T], data: 7 } as never }), 'ValueError', 'Argument `mask`.data must be an array');
  });

  it('a failed call leaves the layer usable (stateful state untouched)', () => {
    const s = layer({ stateful: true });
    s.forwardSync(X);
    const state = Array.from((s.states as Tensor[])[0].data);
    expect(() => s.forwardSync(X, { mask: [[1]] })).toThrow(GruError);
    expect(Array.from((s.states as Tensor[])[0].data)).toEqual(state);
  });
});
