import { asFloats, type DType, type FloatArray } from '@gru/core';

/**
 * Mapping between core's ForwardRequest semantics and what cuDNN runs. cuDNN runs each row for
 * its sequence length from t = 0 and writes 0 past it; core wants every step in processing order,
 * where a masked step outputs the carried state. For right-padded masks (all cuDNN is given) that
 * means:
 * - forward: steps 0..L-1 are cuDNN's outputs, steps L..T-1 repeat the final state;
 * - goBackwards (Keras's cuDNN path: reverse each row within its length, run, place): the first
 *   T-L processed steps are masked and output the initial state, then cuDNN's L outputs;
 * - a fully masked row (L = 0; cuDNN rejects zero lengths, so it runs one dummy step whose
 *   result is dropped) outputs the initial state everywhere and keeps it as its final state.
 */

export interface SequencePlan {
  batch: number;
  timesteps: number;
  /** Steps each row really runs (0 = fully masked). */
  lengths: Int32Array;
  /** What cuDNN is told: at least 1. */
  cudnnLengths: Int32Array;
  /** Some row is fully masked. */
  hasEmpty: boolean;
}

export interface Shape {
  batch: number;
  timesteps: number;
  units: number;
  goBackwards: boolean;
  returnSequences: boolean;
}

export function alloc(dtype: DType, n: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** Sequence lengths from a right-padded mask (a kept prefix per row); throws on a mask with holes. */
export function planSequences(mask: Uint8Array | undefined, batch: number, timesteps: number): SequencePlan {
  const lengths = new Int32Array(batch).fill(timesteps);
  if (mask) {
    if (mask.length !== batch * timesteps) {
      throw new RangeError(`cuDNN backend: the mask must have batch*timesteps = ${batch * timesteps} entries; received ${mask.length}.`);
    }
    for (let b = 0; b < batch; b++) {
      let L = 0;
      while (L < timesteps && mask[b * timesteps + L]) L++;
      for (let t = L; t < timesteps; t++) {
        if (mask[b * timesteps + t]) {
          throw new RangeError(`cuDNN backend: mask row ${b} keeps step ${t} after masking step ${L}; cuDNN needs right-padded masks (a kept prefix per row).`);
        }
      }
      lengths[b] = L;
    }
  }
  const cudnnLengths = lengths.map((L) => Math.max(L, 1));
  return { batch, timesteps, lengths, cudnnLengths, hasEmpty: lengths.some((L) => L === 0) };
}

/** Reverses each row's first L steps (Keras's reverse_sequence); the padding stays in place. */
export function reverseWithinLengths(x: FloatArray, lengths: Int32Array, timesteps: number, features: number): FloatArray {
  const out = x.slice();
  for (let b = 0; b < lengths.length; b++) {
    const L = lengths[b];
    for (let s = 0; s < L; s++) {
      const from = (b * timesteps + (L - 1 - s)) * features;
      out.set(x.subarray(from, from + features), (b * timesteps + s) * features);
    }
  }
  return out;
}

/** cuDNN's y and hy -> core's output (processing order, masked steps = carried state) and last state. */
export function arrangeOutputs(
  y: FloatArray | null,
  hy: FloatArray,
  h0: FloatArray | null,
  plan: SequencePlan,
  s: Shape,
  dtype: DType,
): { output: FloatArray; lastState: FloatArray } {
  const { batch: B, timesteps: T, units: H } = s;
  const lastState = alloc(dtype, B * H);
  for (let b = 0; b < B; b++) {
    const src = plan.lengths[b] === 0 ? h0 : hy;
    if (src) lastState.set(src.subarray(b * H, (b + 1) * H), b * H);
  }
  if (!s.returnSequences) return { output: lastState.slice(), lastState };
  if (!y) throw new Error('cuDNN backend: internal error: returnSequences needs the per-step outputs.');
  const output = alloc(dtype, B * T * H);
  for (let b = 0; b < B; b++) {
    const L = plan.lengths[b];
    const last = lastState.subarray(b * H, (b + 1) * H);
    const first = h0 ? h0.subarray(b * H, (b + 1) * H) : null;
    const rowY = y.subarray(b * T * H, (b * T + L) * H);
    if (!s.goBackwards) {
      output.set(rowY, b * T * H);
      for (let k = L; k < T; k++) output.set(last, (b * T + k) * H);
    } else {
      if (first) for (let k = 0; k < T - L; k++) output.set(first, (b * T + k) * H);
      output.set(rowY, (b * T + T - L) * H);
    }
  }
  return { output, lastState };
}

/**
 * Core's output gradients -> cuDNN's dy and dhy, plus the part that flows straight to the
 * initial state (masked steps that output it, and every step of a fully masked row). Rows that
 * cuDNN runs as a dummy step get dy = dhy = 0, so the dummy contributes nothing.
 */
export function arrangeOutputGradients(
  dOutput: ArrayLike<number>,
  dLastState: ArrayLike<number> | undefined,
  plan: SequencePlan,
  s: Shape,
  dtype: DType,
): { dy: FloatArray; dhy: FloatArray; dh0Direct: Float64Array } {
  const { batch: B, timesteps: T, units: H } = s;
  const dy = alloc(dtype, B * T * H);
  const dhy = new Float64Array(B * H);
  const direct = new Float64Array(B * H);
  const add = (target: Float64Array, b: number, from: ArrayLike<number>, offset: number) => {
    for (let j = 0; j < H; j++) target[b * H + j] += from[offset + j];
  };
  for (let b = 0; b < B; b++) {
    const L = plan.lengths[b];
    const final = L === 0 ? direct : dhy;
    if (dLastState) add(final, b, dLastState, b * H);
    if (!s.returnSequences) {
      add(final, b, dOutput, b * H);
      continue;
    }
    for (let k = 0; k < T; k++) {
      const at = (b * T + k) * H;
      if (!s.goBackwards) {
        if (k < L) for (let j = 0; j < H; j++) dy[at + j] = dOutput[at + j];
        else add(final, b, dOutput, at);
      } else if (k < T - L) {
        add(direct, b, dOutput, at);
      } else {
        const to = (b * T + k - (T - L)) * H;
        for (let j = 0; j < H; j++) dy[to + j] = dOutput[at + j];
      }
    }
  }
  return { dy, dhy: asFloats(dhy, dtype), dh0Direct: direct };
}

/** cuDNN's dx (rows reversed within their length when goBackwards) -> dx in the input's order. */
export function arrangeInputGradients(dxCudnn: FloatArray, plan: SequencePlan, features: number, goBackwards: boolean, dtype: DType): FloatArray {
  const T = plan.timesteps;
  const dx = alloc(dtype, plan.batch * T * features);
  for (let b = 0; b < plan.batch; b++) {
    const L = plan.lengths[b];
    for (let s = 0; s < L; s++) {
      const from = (b * T + s) * features;
      const to = (b * T + (goBackwards ? L - 1 - s : s)) * features;
      dx.set(dxCudnn.subarray(from, from + features), to);
    }
  }
  return dx;
}

/** d(initial state) = cuDNN's dhx (0 for fully masked rows) + the gradient that reached it directly. */
export function initialStateGradient(dhxCudnn: FloatArray, direct: Float64Array, plan: SequencePlan, units: number, dtype: DType): FloatArray {
  const out = alloc(dtype, direct.length);
  for (let b = 0; b < plan.batch; b++) {
    const viaCudnn = plan.lengths[b] > 0;
    for (let j = 0; j < units; j++) {
      const i = b * units + j;
      out[i] = (viaCudnn ? dhxCudnn[i] : 0) + direct[i];
    }
  }
  return out;
}
