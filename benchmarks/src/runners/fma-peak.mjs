/**
 * Not a GRU: the machine's arithmetic peak. A pass does the shape's FLOPs as register-only vector
 * FMA chains (no loads, no dependencies between chains) on every core, through @gru/cpu's thread
 * pool and its fastest instruction set. Its GFLOP/s is the ceiling every GEMM-bound row is
 * measured against: the table's "% FMA peak" column is a row's GFLOP/s over this one's, in the
 * same run on the same machine. On the small shapes (S1, S4) a pass is microseconds, so waking the
 * pool's threads weighs in and the rate reads low: the figure that means something is S2's and S3's.
 *
 * @typedef {import('../shapes.mjs').Shape} Shape
 */
import os from 'node:os';
import { flops } from '../shapes.mjs';

export const name = 'fma-peak';
export const kind = 'peer';
export const note =
  "not a GRU: the shape's FLOPs as register-only FMA chains on every core (@gru/cpu's pool and fastest ISA): this machine's arithmetic peak; % FMA peak = a row's GFLOP/s ÷ this row's";

export async function available() {
  try {
    const cpu = await import('@gru/cpu');
    await cpu.backend.load();
    if (typeof cpu.measureFma !== 'function') return '@gru/cpu has no measureFma() (an older build)';
    return true;
  } catch (err) {
    return `cannot load @gru/cpu: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** @param {Shape} shape */
export async function setup(shape) {
  const cpu = await import('@gru/cpu');
  const threads = os.availableParallelism();
  const f = flops(shape);
  const first = cpu.measureFma({ flops: f, threads });
  return {
    simd: first.isa,
    run: () => {
      cpu.measureFma({ flops: f, threads });
    },
  };
}
