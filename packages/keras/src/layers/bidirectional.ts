import type { GRU, GruResult, Tensor } from '@gru/core';
import type { LayerSpec, ModelSpec } from '../config/spec.js';
import { ModelLayer, newArray, type CallContext, type Flow } from './base.js';
import { coreGru, gruCallOptions, gruWeightTensors } from './gru.js';

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;

/**
 * Keras's Bidirectional(GRU): a forward and a go_backwards GRU on the same input and mask; with
 * return_sequences the backward outputs are flipped back to input order; then merged
 * ('concat' on the last axis, 'sum', 'mul', 'ave', or both returned with merge_mode=None),
 * rounding each merged value to the layer's dtype as Keras's elementwise ops do.
 */
export class BidirectionalLayer extends ModelLayer {
  readonly forwardLayer: GRU;
  readonly backwardLayer: GRU;
  readonly mergeMode: MergeMode;

  constructor(spec: LayerSpec, weights: (Float32Array | Float64Array)[], compat: ModelSpec['compat']) {
    super(spec);
    const inner = spec.inner as NonNullable<LayerSpec['inner']>;
    const tensors = gruWeightTensors(spec, weights);
    const half = spec.weights.findIndex((w) => w.name.startsWith('backward/'));
    this.forwardLayer = coreGru(inner.forward, tensors.slice(0, half), compat, `layer '${spec.name}' (Bidirectional) forward layer`);
    this.backwardLayer = coreGru(inner.backward, tensors.slice(half), compat, `layer '${spec.name}' (Bidirectional) backward layer`);
    this.mergeMode = spec.config.merge_mode === undefined ? 'concat' : (spec.config.merge_mode as MergeMode);
  }

  get returnSequences(): boolean {
    return this.forwardLayer.config.returnSequences;
  }

  getWeights(): Tensor[] {
    return [...this.forwardLayer.getWeights(), ...this.backwardLayer.getWeights()];
  }

  applySync(input: Flow, ctx: CallContext): Flow {
    const options = gruCallOptions(input, ctx);
    return this.merge(input, this.forwardLayer.forwardSync(input.tensor, options), this.backwardLayer.forwardSync(input.tensor, options));
  }

  override async apply(input: Flow, ctx: CallContext): Promise<Flow> {
    const options = gruCallOptions(input, ctx);
    const [y, yRev] = await Promise.all([this.forwardLayer.forward(input.tensor, options), this.backwardLayer.forward(input.tensor, options)]);
    return this.merge(input, y, yRev);
  }

  override dispose(): void {
    this.forwardLayer.dispose();
    this.backwardLayer.dispose();
  }

  private merge(input: Flow, fwd: GruResult, bwd: GruResult): Flow {
    const y = fwd.output;
    const yRev = this.returnSequences ? flipTime(bwd.output) : bwd.output;
    const mask = this.returnSequences ? input.mask : null;
    if (this.mergeMode === null) return { tensor: y, mask, second: yRev };
    if (this.mergeMode === 'concat') return { tensor: concatLast(y, yRev, this.dtype), mask };
    const out = newArray(this.dtype, y.data.length);
    const a = y.data;
    const b = yRev.data;
    if (this.mergeMode === 'sum') for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
    else if (this.mergeMode === 'mul') for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
    // Keras computes (y + y_rev) / 2 as two ops, each rounded to the layer's dtype.
    else if (this.dtype === 'float32') for (let i = 0; i < out.length; i++) out[i] = Math.fround(a[i] + b[i]) / 2;
    else for (let i = 0; i < out.length; i++) out[i] = (a[i] + b[i]) / 2;
    return { tensor: { shape: [...y.shape], data: out }, mask };
  }
}

/** Reverses the time axis of [batch, time, units]. */
function flipTime(t: Tensor): Tensor {
  const [B, T, H] = t.shape;
  const out = t.data.slice();
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < T; s++) out.set(t.data.subarray((b * T + s) * H, (b * T + s + 1) * H), (b * T + (T - 1 - s)) * H);
  }
  return { shape: [...t.shape], data: out };
}

function concatLast(a: Tensor, b: Tensor, dtype: 'float32' | 'float64'): Tensor {
  const Ha = a.shape[a.shape.length - 1];
  const Hb = b.shape[b.shape.length - 1];
  const rows = Ha === 0 ? 0 : a.data.length / Ha;
  const out = newArray(dtype, rows * (Ha + Hb));
  for (let r = 0; r < rows; r++) {
    out.set(a.data.subarray(r * Ha, (r + 1) * Ha), r * (Ha + Hb));
    out.set(b.data.subarray(r * Hb, (r + 1) * Hb), r * (Ha + Hb) + Ha);
  }
  return { shape: [...a.shape.slice(0, -1), Ha + Hb], data: out };
}
