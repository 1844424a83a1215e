import type { Tensor } from '@gru/core';
import type { CallOf } from '../config/spec.js';
import { ModelLayer, tensorArgs } from './base.js';
import { checkStepMaskShape, perStepMask } from './mask-ops.js';

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

/**
 * The mask a recurrent layer runs `sequence` with: one value per (batch, timestep), reduced from a
 * (batch, timesteps, k) mask as Keras's scan does. (Keras 3 hands a recurrent layer the implicit
 * mask only when the sequence is its one tensor argument; Keras 2 always the sequence's.)
 */
export function sequenceMask(mask: (Uint8Array | null)[] | null, sequence: Tensor): Uint8Array | null {
  const m = mask?.[0] ?? null;
  return m && perStepMask(m, sequence.shape[0] * sequence.shape[1]);
}

/**
 * A layer running a GRU over its input's steps (GRU, Bidirectional): its mask is one value per
 * (batch, timestep), or (batch, timesteps, k), which Keras's scan reduces with `any` over k.
 */
export abstract class RecurrentModelLayer extends ModelLayer {
  override readonly checksMaskShape = true;
  override readonly stepsAxis: number | null = 1;
  override readonly kerasOnZeroSteps: string = 'Keras fails there too, with an IndexError';
  override expectedMaskShape(input: Tensor): number[] {
    return input.shape.slice(0, 2);
  }

  override checkMaskShape(fail: (message: string) => never, input: Tensor, maskShape: readonly number[]): void {
    checkStepMaskShape(fail, input.shape, maskShape, this.expectedMaskShape(input), true);
  }
}
