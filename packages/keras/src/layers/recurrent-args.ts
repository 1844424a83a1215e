import type { CallOf } from '../config/spec.js';
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
