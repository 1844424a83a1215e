import { GRU, UnsupportedCallError, type GruBackend } from '@gru/core';
import type { CaseJson } from './format.js';
import type { CaseOutcome } from './run-case.js';

/**
 * A gradient case (`grads` present) on a backend. Backends that do not implement backward are
 * reported as unsupported with their own reason.
 */
export async function runGradientCase(c: CaseJson, backend: GruBackend): Promise<CaseOutcome> {
  const layer = c.layer === 'GRU' ? GRU.fromConfig(c.config) : undefined;
  const spec = layer ? (layer.build([null, null, c.inputs.shape[c.inputs.shape.length - 1]]), layer.cell.spec()) : undefined;
  const canBackward = spec && backend.supportsBackward ? backend.supportsBackward(spec) : 'it does not implement backward';
  if (canBackward !== true) return { status: 'unsupported', detail: `no gradients: ${canBackward}` };
  try {
    return { status: 'failed', detail: 'gradient checking is not implemented in this runner yet' };
  } catch (err) {
    if (err instanceof UnsupportedCallError) return { status: 'unsupported', detail: err.reason };
    return { status: 'failed', detail: (err as Error).message };
  }
}
