import { describe, expect, it } from 'vitest';
import { GRU, maskedOutputConvention } from '../src/index.js';

// tf.keras 2's backend.rnn (keras/backend.py, non-unrolled while_loop): `prev_output` starts as
// `flat_zero_output` and a masked step writes `prev_output` (or zeros with zero_output_for_mask);
// the unrolled path starts from `zeros_like(output)` too and honours zero_output_for_mask.
// Keras 3 (numpy backend) writes the carried state in its loop path instead.

const B = 2;
const T = 4;
const F = 2;
const H = 3;
const X = { shape: [B, T, F], data: Array.from({ length: B * T * F }, (_, i) => Math.cos(i * 0.7)) };
const H0 = { shape: [B, H], data: [0.5, -0.4, 0.3, -0.2, 0.6, 0.1] };
// Row 0: two leading masked steps; row 1: every step masked.
const MASK = { shape: [B, T], data: [0, 0, 1, 1, 0, 0, 0, 0] };

function pair(options: Record<string, unknown>) {
  const k3 = new GRU({ units: H, returnSequences: true, returnState: true, dtype: 'float64', seed: 11, ...options });
  k3.build([B, T, F]);
  const k2 = new GRU({ units: H, returnSequences: true, returnState: true, dtype: 'float64', compat: 'keras2', ...options });
  k2.build([B, T, F]);
  k2.setWeights(k3.getWeights());
  return { k3, k2 };
}
const step = (data: ArrayLike<number>, b: number, t: number) => Array.from(data).slice((b * T + t) * H, (b * T + t + 1) * H);

describe("masked steps under compat 'keras2' (tf.keras 2's backend.rnn)", () => {
  it('output zeros (the previous output) before the first kept step, not the initial state; states still carry', () => {
    const { k3, k2 } = pair({});
    const r3 = k3.forwardSync(X, { mask: MASK, initialState: [H0] });
    const r2 = k2.forwardSync(X, { mask: MASK, initialState: [H0] });
    const h0 = (b: number) => H0.data.slice(b * H, (b + 1) * H);
    for (const t of [0, 1]) {
      expect(step(r3.output.data, 0, t)).toEqual(h0(0)); // Keras 3: the carried (initial) state
      expect(step(r2.output.data, 0, t)).toEqual([0, 0, 0]); // Keras 2: zeros
    }
    for (const t of [2, 3]) expect(step(r2.output.data, 0, t)).toEqual(step(r3.output.data, 0, t));
    for (let t = 0; t < T; t++) {
      expect(step(r3.output.data, 1, t)).toEqual(h0(1));
      expect(step(r2.output.data, 1, t)).toEqual([0, 0, 0]);
    }
    // The returned state is the carried state on both.
    expect(Array.from(r2.state!.data)).toEqual(Array.from(r3.state!.data));
    expect(Array.from(r2.state!.data).slice(H)).toEqual(h0(1));
  });

  it('the last output of an all-masked row is zeros without return_sequences (Keras 3: the initial state)', () => {
    const k3 = new GRU({ units: H, dtype: 'float64', seed: 2 });
    const k2 = new GRU({ units: H, dtype: 'float64', seed: 2, compat: 'keras2-v1' });
    k3.build([B, T, F]);
    k2.build([B, T, F]);
    k2.setWeights(k3.getWeights().map((w, i) => (i === 2 ? { shape: [3 * H], data: w.data.slice(0, 3 * H) } : w)));
    const out2 = k2.forwardSync(X, { mask: MASK, initialState: [H0] }).output.data;
    const out3 = k3.forwardSync(X, { mask: MASK, initialState: [H0] }).output.data;
    expect(Array.from(out2).slice(H)).toEqual([0, 0, 0]);
    expect(Array.from(out3).slice(H)).toEqual(H0.data.slice(H));
  });

  it('goBackwards: the leading steps are the last ones in time', () => {
    const { k2 } = pair({ goBackwards: true });
    const mask = { shape: [B, T], data: [1, 1, 0, 0, 1, 1, 1, 1] };
    const out = k2.forwardSync(X, { mask, initialState: [H0] }).output.data;
    expect(step(out, 0, 0)).toEqual([0, 0, 0]);
    expect(step(out, 0, 1)).toEqual([0, 0, 0]);
    expect(step(out, 0, 2).some((v) => v !== 0)).toBe(true);
  });

  it('zero_output_for_mask is honoured with unroll too (Keras 3 ignores it there)', () => {
    const mask = { shape: [B, T], data: [1, 0, 1, 0, 1, 1, 1, 1] };
    const { k3, k2 } = pair({ unroll: true, zeroOutputForMask: true });
    const o2 = k2.forwardSync(X, { mask, initialState: [H0] }).output.data;
    const o3 = k3.forwardSync(X, { mask, initialState: [H0] }).output.data;
    expect(step(o2, 0, 1)).toEqual([0, 0, 0]);
    expect(step(o2, 0, 3)).toEqual([0, 0, 0]);
    expect(step(o3, 0, 1)).toEqual(step(o3, 0, 0)); // Keras 3 unrolled: the previous output
    expect(step(o2, 0, 2)).toEqual(step(o3, 0, 2));
  });

  it('gradients follow the convention (float64 finite differences w.r.t. the initial state)', () => {
    const { k2 } = pair({});
    const C = Array.from({ length: B * T * H }, (_, i) => Math.sin(i + 1));
    const loss = (h0: number[]) => {
      const o = k2.forwardSync(X, { mask: MASK, initialState: [{ shape: [B, H], data: h0 }] }).output.data;
      return C.reduce((s, c, i) => s + c * o[i], 0);
    };
    k2.forwardSync(X, { mask: MASK, initialState: [H0], training: true });
    const g = k2.backwardSync({ shape: [B, T, H], data: C }).initialState!.data;
    for (let i = 0; i < B * H; i++) {
      const up = [...H0.data];
      const down = [...H0.data];
      up[i] += 1e-6;
      down[i] -= 1e-6;
      expect(Math.abs(g[i] - (loss(up) - loss(down)) / 2e-6)).toBeLessThan(1e-7);
    }
    // Row 1 is all masked: its outputs are zeros whatever h0 is, so its gradient is 0.
    expect(Array.from(g).slice(H)).toEqual([0, 0, 0]);
  });

  it('maskedOutputConvention decides it in one place', () => {
    expect(maskedOutputConvention({ unroll: false, zeroOutputForMask: false })).toBe('state');
    expect(maskedOutputConvention({ unroll: true, zeroOutputForMask: true })).toBe('previous-output');
    expect(maskedOutputConvention({ unroll: false, zeroOutputForMask: true })).toBe('zeros');
    expect(maskedOutputConvention({ unroll: false, zeroOutputForMask: false, compat: 'keras2' })).toBe('previous-output');
    expect(maskedOutputConvention({ unroll: true, zeroOutputForMask: true, compat: 'keras2-v1' })).toBe('zeros');
  });
});
