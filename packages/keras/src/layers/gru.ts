import { GRU, type GruCallOptions, type GruResult, type Tensor } from '@gru/core';
import type { CallOf, LayerSpec, Shape } from '../config/spec.js';
import { describeThrown, KerasFileError } from '../errors.js';
import { layerFail, type CallContext, type Flow, type ValueCall } from './base.js';
import { checkStates, coreGruConfig, gruSettings, gruShapes } from './gru-config.js';
import type { Compat, LayerKind, Weights } from './kind.js';
import { checkStepMask } from './mask-ops.js';
import { RecurrentModelLayer, recurrentArgs, sequenceMask } from './recurrent-args.js';

/**
 * The file's weights as tensors for a core GRU, not copied: core's `setWeights` copies them into
 * the layer's own arrays of its dtype (rounding float64 values into a float32 layer as Keras
 * does), so copying here as well made a large model cost three copies of its weights while it was
 * built instead of two.
 */
export function gruWeightTensors(spec: LayerSpec, weights: Weights): Tensor[] {
  return spec.weights.map((w, i) => ({ shape: [...w.shape], data: weights[i] }));
}

/**
 * Builds a core GRU from a file's config and sets the file's weights (no initializer runs). A
 * stateful layer whose model fixes the batch (`inputShape`, the first call's) is built with it, as
 * Keras builds its state, so `gru.stream()` can start before any predict.
 */
export function coreGru(config: Record<string, unknown>, weights: Tensor[], compat: Compat, where: string, inputShape?: Shape): GRU {
  try {
    const gru = GRU.fromConfig(coreGruConfig(config, compat), { compat });
    gru.setWeights(weights);
    if (gru.config.stateful && inputShape?.length === 3) {
      const timeMajor = gru.config.timeMajor;
      const [first, second, features] = inputShape;
      const batch = timeMajor ? second : first;
      if (typeof batch === 'number') gru.build(timeMajor ? [null, batch, features] : [batch, null, features]);
    }
    return gru;
  } catch (err) {
    throw new KerasFileError(`${where}: ${describeThrown(err)}`, { cause: err });
  }
}

/** Core call options for a sequence with its mask and initial states. */
export function gruCallOptions(sequence: Flow, mask: Uint8Array | null, states: Flow[], ctx: CallContext): GruCallOptions {
  const [batch, time] = sequence.tensor.shape;
  const options: GruCallOptions = {};
  if (mask) options.mask = { shape: [batch, time], data: mask };
  if (states.length) options.initialState = states.map((s) => s.tensor);
  if (ctx.backend !== undefined) options.backend = ctx.backend;
  return options;
}

/** A Keras GRU layer of a loaded model. `gru` is the @gru/core layer: use it directly on any backend. */
export class GruLayer extends RecurrentModelLayer {
  readonly gru: GRU;
  override readonly supportsMasking = true;
  override readonly async = true;

  /** `config`: the GRU config to run, when the file's is another layer's (an RNN around a GRUCell). */
  constructor(spec: LayerSpec, weights: Weights, compat: Compat, config: Record<string, unknown> = spec.config) {
    super(spec);
    this.gru = coreGru(config, gruWeightTensors(spec, weights), compat, `layer '${spec.name}' (${spec.className})`, spec.inputShape);
  }

  override getWeights(): Tensor[] {
    return this.gru.getWeights();
  }

  private options(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext) {
    const { sequence, states } = recurrentArgs(layerFail(this), call);
    return { sequence, options: gruCallOptions(sequence, sequenceMask(mask, sequence.tensor), states, ctx) };
  }

  private finish(result: GruResult): Flow[] {
    return result.outputs.map((t) => ({ tensor: t, mask: null }));
  }

  call(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext): Flow[] {
    const { sequence, options } = this.options(call, mask, ctx);
    return this.finish(this.gru.forwardSync(sequence.tensor, options));
  }

  override async callAsync(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext): Promise<Flow[]> {
    const { sequence, options } = this.options(call, mask, ctx);
    return this.finish(await this.gru.forward(sequence.tensor, options));
  }

  /**
   * Keras's RNN.compute_mask: the sequence's mask with return_sequences, unchanged (a (batch,
   * timesteps, k) mask keeps its shape: a next GRU reads it per step, a layer that cannot take it
   * fails as in Keras), none for the states.
   */
  override computeMask(_call: ValueCall, previous: (Uint8Array | null)[] | null, outputs: number): (Uint8Array | null)[] {
    const m = this.gru.config.returnSequences ? (previous?.[0] ?? null) : null;
    return Array.from({ length: outputs }, (_, i) => (i === 0 ? m : null));
  }

  override dispose(): void {
    this.gru.dispose();
  }
}

export const gruKind: LayerKind = {
  className: 'GRU',
  takesMask: true,
  namedTensors: ['initial_state'],
  analyze(r, call: CallOf<Shape>, ctx) {
    const s = gruSettings(r.config, ctx.compat, r.where);
    const { sequence, states } = recurrentArgs((m) => r.fail(m), call);
    checkStepMask((m) => r.fail(m), call, sequence, sequence.slice(0, 2), true);
    const shapes = gruShapes(s, sequence, r, 'cell/vars', '');
    if (states.length) checkStates(r, states, [s.units], sequence[0]);
    return { outputShapes: s.returnState ? [shapes.output, shapes.state] : [shapes.output], weights: shapes.weights };
  },
  create: (spec, weights, compat) => new GruLayer(spec, weights, compat),
};
