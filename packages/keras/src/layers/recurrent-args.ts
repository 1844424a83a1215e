import type { CallOf, Shape } from '../config/spec.js';
import { formatShape } from '../errors.js';
import { tensorArgs } from './base.js';

/**
 * The sequence and initial states of a recurrent layer's call: Keras 3 records
 * `layer(x, initial_state=[...])`; Keras 2 records the states as extra inputs
 * (`[x, h0, ...]`, how its RNN.__call__ passes them on).
 */
export function recurrentArgs<T>(fail: (message: string) => never, call: CallOf<T>): { sequence: T; states: T[] } {
  const ts = tensorArgs(call);
  if (ts.length === 0) fail('is called with no input tensor.');
  const given = call.named.initial_state ?? [];
  for (const k of Object.keys(call.named)) if (k !== 'initial_state') fail(`does not take a tensor argument \`${k}\`.`);
  return { sequence: ts[0], states: [...ts.slice(1), ...given] };
}

/** Keras 3 hands a recurrent layer the implicit mask only when the sequence is its one tensor argument; Keras 2 always the sequence's. */
export function sequenceMask(mask: (Uint8Array | null)[] | null): Uint8Array | null {
  return mask?.[0] ?? null;
}

/**
 * A recurrent layer's `mask=` must be (batch, timesteps) of its sequence: checked when the model
 * loads, so that a mask from the wrong tensor is named then, not found by core at predict time.
 */
export function checkSequenceMask(fail: (message: string) => never, call: CallOf<Shape>, sequence: Shape): void {
  const mask = call.mask?.[0];
  if (!mask) return;
  const want = sequence.slice(0, 2);
  if (mask.length !== 2 || mask.some((d, i) => d !== null && want[i] !== null && d !== want[i])) {
    fail(
      `is called with a mask of shape ${formatShape(mask)}; its sequence of shape ${formatShape(sequence)} needs a mask of shape ${formatShape(want)} (batch, timesteps).`,
    );
  }
}
