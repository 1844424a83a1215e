import type { PreparedGru } from '@gru/core';

/** The shape of a sequence streamed one step at a time. */
export interface StepShape {
  batch: number;
  timesteps: number;
  inputDim: number;
  units: number;
}

/** Every step's output, as one returnSequences call lays it out ([batch, timesteps, units]), and the last state. */
export interface SteppedResult {
  outputs: Float32Array;
  lastState: Float32Array;
}

/**
 * Runs `x` ([batch, timesteps, inputDim], float32) through `prepared.bindForward` one step at a
 * time, as GRU.stream() does: two one-step calls bound once, whose initial and last states are the
 * same two buffers swapped, so a step reads the state the previous one wrote; each step's input is
 * copied in and its output copied out. A backend whose steps are exact gives bitwise the outputs
 * and state of one whole-sequence call (returnSequences, no initial state).
 */
export function streamBoundSteps(prepared: PreparedGru, x: Float32Array, shape: StepShape): SteppedResult {
  const { batch: B, timesteps: T, inputDim: D, units: H } = shape;
  if (!prepared.bindForward) throw new TypeError('streamBoundSteps: this prepared layer has no bindForward().');
  if (x.length !== B * T * D) {
    throw new RangeError(`streamBoundSteps: x must have batch * timesteps * inputDim = ${B * T * D} values; received ${x.length}.`);
  }
  const input = new Float32Array(B * D);
  const output = new Float32Array(B * H);
  const states = [new Float32Array(B * H), new Float32Array(B * H)];
  const calls = [0, 1].map((from) =>
    prepared.bindForward!({
      x: input,
      batch: B,
      timesteps: 1,
      initialState: states[from],
      goBackwards: false,
      returnSequences: false,
      output,
      lastState: states[from ^ 1],
    }),
  );
  try {
    const outputs = new Float32Array(B * T * H);
    let cur = 0;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) input.set(x.subarray((b * T + t) * D, (b * T + t + 1) * D), b * D);
      calls[cur].run();
      cur ^= 1;
      for (let b = 0; b < B; b++) outputs.set(output.subarray(b * H, (b + 1) * H), (b * T + t) * H);
    }
    return { outputs, lastState: states[cur] };
  } finally {
    for (const c of calls) c.dispose();
  }
}
