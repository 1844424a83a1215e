import { formatShape, valueError } from '../errors.js';
import type { KerasCompat } from '../config.js';
import { toTensor, type FloatArray, type TensorLike } from '../tensor.js';

export type MaskKind = 'none' | 'right-padded' | 'any';

/** A [batch, timesteps] mask as 0/1 bytes; any non-zero (or `true`) keeps the step, as Keras casts to bool. */
export function parseMask(mask: TensorLike, batch: number, timesteps: number, layerName: string, timeMajor = false): Uint8Array {
  const t = toTensor(mask, 'mask', 'float64');
  const [rows, cols] = timeMajor ? [timesteps, batch] : [batch, timesteps];
  if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== cols) {
    throw valueError(
      `Layer '${layerName}': argument \`mask\` must have shape ${formatShape([rows, cols])} ` +
        `${timeMajor ? '(timesteps, batch)' : '(batch, timesteps)'}, received ${formatShape(t.shape)}.`,
    );
  }
  const out = new Uint8Array(t.data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // Stored batch-major for the backends.
      out[timeMajor ? c * timesteps + r : r * cols + c] = t.data[r * cols + c] !== 0 ? 1 : 0;
    }
  }
  return out;
}

/** `right-padded` when every row keeps a prefix and masks the rest (cuDNN sequence lengths). */
export function classifyMask(mask: Uint8Array | undefined, batch: number, timesteps: number): MaskKind {
  if (!mask) return 'none';
  for (let b = 0; b < batch; b++) {
    let ended = false;
    for (let t = 0; t < timesteps; t++) {
      if (mask[b * timesteps + t]) {
        if (ended) return 'any';
      } else ended = true;
    }
  }
  return 'right-padded';
}

/** What a masked step outputs: the carried state, zeros, or the previous output (zeros before the first kept step). */
export type MaskedOutputConvention = 'state' | 'zeros' | 'previous-output';

/**
 * The one place that decides what a masked step outputs (states always carry):
 * - Keras 3 (numpy/jax backends), loop path: the carried state, or zeros with `zeroOutputForMask`
 *   (the last output too when the last processed step is masked);
 * - Keras 3, `unroll`: the previous output, which is zeros before the first kept step (not the
 *   initial state); `zeroOutputForMask` is ignored;
 * - tf.keras 2 (`compat: 'keras2'` / `'keras2-v1'`), both paths: `backend.rnn` carries the previous
 *   output (starting from zeros) at masked steps, or zeros with `zeroOutputForMask`, which both
 *   of its paths honour.
 */
export function maskedOutputConvention(o: { unroll: boolean; zeroOutputForMask: boolean; compat?: KerasCompat }): MaskedOutputConvention {
  if (o.compat === 'keras2' || o.compat === 'keras2-v1') return o.zeroOutputForMask ? 'zeros' : 'previous-output';
  if (o.unroll) return 'previous-output';
  return o.zeroOutputForMask ? 'zeros' : 'state';
}

/**
 * Applies the masked-output convention (see maskedOutputConvention) after a backend ran the loop
 * semantics (a masked step outputs the carried state). `output` is [batch, timesteps, units] in
 * processing order, or the last output [batch, units]. Used on dOutput too: positions the
 * convention sets to zero do not depend on the state.
 */
export function applyMaskedOutputConventions(
  output: FloatArray,
  mask: Uint8Array,
  o: {
    batch: number;
    timesteps: number;
    units: number;
    goBackwards: boolean;
    returnSequences: boolean;
    unroll: boolean;
    zeroOutputForMask: boolean;
    /** Which Keras (default 'keras3'). */
    compat?: KerasCompat;
  },
): void {
  const { batch: B, timesteps: T, units: H } = o;
  const convention = maskedOutputConvention(o);
  if (convention === 'state') return;
  for (let b = 0; b < B; b++) {
    let seenKept = false;
    for (let k = 0; k < T; k++) {
      const t = o.goBackwards ? T - 1 - k : k;
      const kept = mask[b * T + t] !== 0;
      seenKept ||= kept;
      // The previous output equals the carried state once a step was kept, so only the steps
      // before the first kept one change (to zeros).
      const zero = convention === 'previous-output' ? !seenKept : !kept;
      const isLast = k === T - 1;
      if (zero && (o.returnSequences || isLast)) {
        const off = o.returnSequences ? (b * T + k) * H : b * H;
        output.fill(0, off, off + H);
      }
    }
  }
}
