import { GRU, type GruCallOptions, type GruResult, type Tensor } from '@gru/core';
import { coreGruConfig } from '../config/layers.js';
import type { LayerSpec, ModelSpec } from '../config/spec.js';
import { KerasFileError, describeThrown } from '../errors.js';
import { ModelLayer, type CallContext, type Flow } from './base.js';

/**
 * The file's weights as tensors for a core GRU, not copied: core's `setWeights` copies them into
 * the layer's own arrays of its dtype (rounding float64 values into a float32 layer as Keras
 * does), so copying here as well made a large model cost three copies of its weights while it was
 * built instead of two.
 */
export function gruWeightTensors(spec: LayerSpec, weights: (Float32Array | Float64Array)[]): Tensor[] {
  return spec.weights.map((w, i) => ({ shape: [...w.shape], data: weights[i] }));
}

/** Builds a core GRU from a file's config and sets the file's weights (no initializer runs). */
export function coreGru(config: Record<string, unknown>, weights: Tensor[], compat: ModelSpec['compat'], where: string): GRU {
  try {
    const gru = GRU.fromConfig(coreGruConfig(config, compat), { compat });
    gru.setWeights(weights);
    return gru;
  } catch (err) {
    throw new KerasFileError(`${where}: ${describeThrown(err)}`, { cause: err });
  }
}

export function gruCallOptions(input: Flow, ctx: CallContext): GruCallOptions {
  const [batch, time] = input.tensor.shape;
  const options: GruCallOptions = {};
  if (input.mask) options.mask = { shape: [batch, time], data: input.mask };
  if (ctx.backend !== undefined) options.backend = ctx.backend;
  return options;
}

/** A Keras GRU layer of a loaded model. `gru` is the @gru/core layer: use it directly on any backend. */
export class GruLayer extends ModelLayer {
  readonly gru: GRU;

  constructor(spec: LayerSpec, weights: (Float32Array | Float64Array)[], compat: ModelSpec['compat']) {
    super(spec);
    this.gru = coreGru(spec.config, gruWeightTensors(spec, weights), compat, `layer '${spec.name}' (GRU)`);
  }

  getWeights(): Tensor[] {
    return this.gru.getWeights();
  }

  private finish(input: Flow, result: GruResult): Flow {
    return { tensor: result.output, mask: this.gru.config.returnSequences ? input.mask : null };
  }

  applySync(input: Flow, ctx: CallContext): Flow {
    return this.finish(input, this.gru.forwardSync(input.tensor, gruCallOptions(input, ctx)));
  }

  override async apply(input: Flow, ctx: CallContext): Promise<Flow> {
    return this.finish(input, await this.gru.forward(input.tensor, gruCallOptions(input, ctx)));
  }

  override dispose(): void {
    this.gru.dispose();
  }
}
