import { formatShape, valueError } from '../errors.js';
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

/**
 * Keras's output conventions at masked steps, applied after a backend ran the loop semantics
 * (a masked step outputs the carried state):
 * - `zeroOutputForMask` (loop path): masked steps output zeros, and so does the last output
 *   when the last processed step is masked;
 * - `unroll`: a masked step outputs the previous output, which is zeros before the first kept
 *   step (not the initial state), and `zeroOutputForMask` is ignored.
 * `output` is [batch, timesteps, units] in processing order, or the last output [batch, units].
 */
export function applyMaskedOutputConventions(
  output: FloatArray,
  mask: Uint8Array,
  o: { batch: number; timesteps: number; units: number; goBackwards: boolean; returnSequences: boolean; unroll: boolean; zeroOutputForMask: boolean },
): void {
  const { batch: B, timesteps: T, units: H } = o;
  if (!o.unroll && !o.zeroOutputForMask) return;
  for (let b = 0; b < B; b++) {
    let seenKept = false;
    for (let k = 0; k < T; k++) {
      const t = o.goBackwards ? T - 1 - k : k;
      const kept = mask[b * T + t] !== 0;
      seenKept ||= kept;
      const zero = o.unroll ? !seenKept : !kept;
      const isLast = k === T - 1;
      if (zero && (o.returnSequences || isLast)) {
        const off = o.returnSequences ? (b * T + k) * H : b * H;
        output.fill(0, off, off + H);
      }
    }
  }
}
