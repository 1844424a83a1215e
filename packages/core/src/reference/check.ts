import type { GruCallInfo, GruSpec } from '../backend/types.js';
import { arrayTooLarge } from '../limits.js';

/**
 * Why the reference backend cannot allocate what a call needs (its output, state and, when
 * gradients are kept, its float64 workspace), or undefined. Checked before anything is allocated.
 */
export function referenceCallTooLarge(spec: GruSpec, call: Pick<GruCallInfo, 'batch' | 'timesteps' | 'returnSequences' | 'backward'>): string | undefined {
  const { batch: B, timesteps: T } = call;
  const H = spec.units;
  const bytesPer = spec.dtype === 'float64' ? 8 : 4;
  const sizes = () => `batch ${B}, timesteps ${T}, units ${H}`;
  return (
    arrayTooLarge(() => `the call's output (${sizes()})`, call.returnSequences ? B * T * H : B * H, bytesPer) ??
    arrayTooLarge(() => `the call's state (${sizes()})`, B * H, bytesPer) ??
    (call.backward ? arrayTooLarge(() => `the gradient workspace (${sizes()}: steps x batch x 3 x units)`, T * B * 3 * H, 8) : undefined) ??
    (call.backward ? arrayTooLarge(() => `the state history (${sizes()}: (steps + 1) x batch x units)`, (T + 1) * B * H, 8) : undefined)
  );
}
