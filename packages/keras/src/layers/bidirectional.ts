import type { GRU, GruResult, Tensor } from '@gru/core';
import type { CallOf, LayerSpec, Shape } from '../config/spec.js';
import type { ConfigReader } from '../config/values.js';
import { UnsupportedLayerError } from '../errors.js';
import { isObject, preview } from '../io/json.js';
import { layerFail, newArray, type CallContext, type Flow, type ValueCall } from './base.js';
import { checkStates, gruSettings, gruShapes } from './gru-config.js';
import { coreGru, gruCallOptions, gruWeightTensors } from './gru.js';
import type { Compat, LayerKind, Weights } from './kind.js';
import { checkStepMask } from './mask-ops.js';
import { RecurrentModelLayer, recurrentArgs, sequenceMask } from './recurrent-args.js';
import { concatLast, flipTime } from './tensor-ops.js';

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;

/**
 * Keras's Bidirectional(GRU): a forward and a go_backwards GRU on the same input and mask; with
 * return_sequences the backward outputs are flipped back to input order; then merged
 * ('concat' on the last axis, 'sum', 'mul', 'ave', or both returned with merge_mode=None),
 * rounding each merged value to the layer's dtype as Keras's elementwise ops do. With
 * return_state the forward then the backward final states follow; initial states are split
 * the same way (first half forward).
 */
export class BidirectionalLayer extends RecurrentModelLayer {
  readonly forwardLayer: GRU;
  readonly backwardLayer: GRU;
  readonly mergeMode: MergeMode;
  override readonly supportsMasking = true;
  override readonly async = true;

  constructor(spec: LayerSpec, weights: Weights, compat: Compat) {
    super(spec);
    const inner = spec.inner as NonNullable<LayerSpec['inner']>;
    const tensors = gruWeightTensors(spec, weights);
    const half = spec.weights.findIndex((w) => w.name.startsWith('backward/'));
    this.forwardLayer = coreGru(inner.forward, tensors.slice(0, half), compat, `layer '${spec.name}' (Bidirectional) forward layer`, spec.inputShape);
    this.backwardLayer = coreGru(inner.backward, tensors.slice(half), compat, `layer '${spec.name}' (Bidirectional) backward layer`, spec.inputShape);
    this.mergeMode = spec.config.merge_mode === undefined ? 'concat' : (spec.config.merge_mode as MergeMode);
  }

  get returnSequences(): boolean {
    return this.forwardLayer.config.returnSequences;
  }

  override getWeights(): Tensor[] {
    return [...this.forwardLayer.getWeights(), ...this.backwardLayer.getWeights()];
  }

  private plan(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext) {
    const { sequence, states } = recurrentArgs(layerFail(this), call);
    const half = states.length / 2;
    const m = sequenceMask(mask, sequence.tensor);
    return {
      x: sequence.tensor,
      fwd: gruCallOptions(sequence, m, states.slice(0, half), ctx),
      bwd: gruCallOptions(sequence, m, states.slice(half), ctx),
    };
  }

  call(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext): Flow[] {
    const p = this.plan(call, mask, ctx);
    return this.merge(this.forwardLayer.forwardSync(p.x, p.fwd), this.backwardLayer.forwardSync(p.x, p.bwd));
  }

  override async callAsync(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext): Promise<Flow[]> {
    const p = this.plan(call, mask, ctx);
    const [y, yRev] = await Promise.all([this.forwardLayer.forward(p.x, p.fwd), this.backwardLayer.forward(p.x, p.bwd)]);
    return this.merge(y, yRev);
  }

  /** Keras's Bidirectional.compute_mask: the mask, unchanged, on each sequence output, none on states. */
  override computeMask(_call: ValueCall, previous: (Uint8Array | null)[] | null, outputs: number): (Uint8Array | null)[] {
    const m = this.returnSequences ? (previous?.[0] ?? null) : null;
    const sequences = this.mergeMode === null ? 2 : 1;
    return Array.from({ length: outputs }, (_, i) => (i < sequences ? m : null));
  }

  override dispose(): void {
    this.forwardLayer.dispose();
    this.backwardLayer.dispose();
  }

  private merge(fwd: GruResult, bwd: GruResult): Flow[] {
    const y = fwd.output;
    const yRev = this.returnSequences ? flipTime(bwd.output) : bwd.output;
    const states = [...fwd.outputs.slice(1), ...bwd.outputs.slice(1)].map((t) => ({ tensor: t, mask: null }));
    const flow = (t: Tensor): Flow => ({ tensor: t, mask: null });
    if (this.mergeMode === null) return [flow(y), flow(yRev), ...states];
    if (this.mergeMode === 'concat') return [flow(concatLast([y, yRev], this.dtype)), ...states];
    const out = newArray(this.dtype, y.data.length);
    const a = y.data;
    const b = yRev.data;
    if (this.mergeMode === 'sum') for (let i = 0; i < out.length; i++) out[i] = a[i] + b[i];
    else if (this.mergeMode === 'mul') for (let i = 0; i < out.length; i++) out[i] = a[i] * b[i];
    // Keras computes (y + y_rev) / 2 as two ops, each rounded to the layer's dtype.
    else if (this.dtype === 'float32') for (let i = 0; i < out.length; i++) out[i] = Math.fround(a[i] + b[i]) / 2;
    else for (let i = 0; i < out.length; i++) out[i] = (a[i] + b[i]) / 2;
    return [flow({ shape: [...y.shape], data: out }), ...states];
  }
}

const MERGE_MODES = ['concat', 'sum', 'mul', 'ave'];

function innerGru(value: unknown, r: ConfigReader, key: string): Record<string, unknown> {
  if (!isObject(value) || typeof value.class_name !== 'string' || !isObject(value.config)) {
    r.fail(`\`${key}\` must be a serialized layer {class_name, config}, found ${preview(value)}.`);
  }
  if (value.class_name !== 'GRU') {
    throw new UnsupportedLayerError(
      `Bidirectional(${value.class_name})`,
      r.layerName,
      `${r.where}: wraps a ${value.class_name}; gru runs Bidirectional(GRU) only.`,
    );
  }
  return { ...value.config };
}

const withoutPrefix = (name: unknown, prefix: string) => (typeof name === 'string' && name.startsWith(prefix) ? name.slice(prefix.length) : String(name));

/**
 * Keras's Bidirectional rebuilds its two layers from `layer` (and `backward_layer` when given):
 * the forward copy is renamed 'forward_<name>', the default backward copy is renamed
 * 'backward_<name>' with go_backwards set (Keras 3) or flipped (Keras 2), and both get
 * zero_output_for_mask = return_sequences. The same is done here.
 */
export function bidirectionalConfigs(config: Record<string, unknown>, compat: Compat, r: ConfigReader) {
  const layer = innerGru(config.layer, r, 'layer');
  const forward: Record<string, unknown> = { ...layer, name: `forward_${withoutPrefix(layer.name, 'forward_')}` };
  let backward: Record<string, unknown>;
  if (config.backward_layer !== undefined && config.backward_layer !== null) {
    backward = innerGru(config.backward_layer, r, 'backward_layer');
  } else {
    backward = {
      ...layer,
      go_backwards: compat === 'keras3' ? true : !(layer.go_backwards === true),
      name: `backward_${withoutPrefix(layer.name, 'backward_')}`,
    };
  }
  for (const c of [forward, backward]) c.zero_output_for_mask = c.return_sequences === true;
  return { forward, backward };
}

export const bidirectionalKind: LayerKind = {
  className: 'Bidirectional',
  takesMask: true,
  namedTensors: ['initial_state'],
  analyze(r, call: CallOf<Shape>, ctx) {
    const mergeMode = r.config.merge_mode === undefined ? 'concat' : r.config.merge_mode;
    if (mergeMode !== null && !MERGE_MODES.includes(mergeMode as string)) {
      r.fail(`\`merge_mode\` must be one of concat, sum, mul, ave or null, found ${preview(mergeMode)}.`);
    }
    const inner = bidirectionalConfigs(r.config, ctx.compat, r);
    const fwd = gruSettings(inner.forward, ctx.compat, `${r.where} forward layer`);
    const bwd = gruSettings(inner.backward, ctx.compat, `${r.where} backward layer`);
    if (fwd.goBackwards === bwd.goBackwards) {
      r.fail(`its forward and backward layers must differ in go_backwards (both are ${fwd.goBackwards}).`);
    }
    for (const key of ['stateful', 'returnSequences', 'returnState'] as const) {
      if (fwd[key] !== bwd[key]) r.fail(`its forward and backward layers must agree on ${key} (${fwd[key]} vs ${bwd[key]}).`);
    }
    if (mergeMode !== 'concat' && mergeMode !== null && fwd.units !== bwd.units) {
      r.fail(`merge_mode '${String(mergeMode)}' needs forward and backward layers of equal units (${fwd.units} vs ${bwd.units}).`);
    }
    const { sequence, states } = recurrentArgs((m) => r.fail(m), call);
    checkStepMask((m) => r.fail(m), call, sequence, sequence.slice(0, 2), true);
    const f = gruShapes(fwd, sequence, r, 'forward_layer/cell/vars', 'forward/');
    const b = gruShapes(bwd, sequence, r, 'backward_layer/cell/vars', 'backward/');
    if (states.length) checkStates(r, states, [fwd.units, bwd.units], sequence[0]);
    const [batch, time] = sequence;
    const width = mergeMode === 'concat' ? fwd.units + bwd.units : fwd.units;
    const one: Shape = fwd.returnSequences ? [batch, time, width] : [batch, width];
    const outputs = mergeMode === null ? [f.output, b.output] : [one];
    return {
      inner: { forward: fwd.config, backward: bwd.config },
      outputShapes: fwd.returnState ? [...outputs, f.state, b.state] : outputs,
      weights: [...f.weights, ...b.weights],
    };
  },
  create: (spec, weights, compat) => new BidirectionalLayer(spec, weights, compat),
};
