import { keepBytes, paddedUnits } from './layout.js';

/**
 * Byte ranges of a kept call's rows (assembly/keep.ts: states, pre-activations, activations, aux)
 * that backward must copy before overwriting them in place. Without `withPre` the pre-activation
 * rows are left out: forward did not write them (neither gate's derivative reads them) and
 * backward only overwrites them, so copying them would move 3/8 of the kept bytes for nothing.
 */
export function keptCopyRanges(batch: number, timesteps: number, units: number, withPre: boolean): [number, number][] {
  const total = keepBytes(batch, timesteps, units);
  if (withPre) return [[0, total]];
  const rows = batch * timesteps;
  const hp = paddedUnits(units);
  // keep.ts's 64-byte aligned blocks: states [rows][Hp], then pre [rows][3Hp].
  const states = Math.ceil((rows * hp * 4) / 64) * 64;
  const pre = Math.ceil((rows * 3 * hp * 4) / 64) * 64;
  return [
    [0, states],
    [states + pre, total],
  ];
}
