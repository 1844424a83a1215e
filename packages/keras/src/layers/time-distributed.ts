import type { Tensor } from '@gru/core';
import type { LayerSpec, Shape } from '../config/spec.js';
import { ConfigReader, policyName } from '../config/values.js';
import { UnsupportedLayerError } from '../errors.js';
import { isObject, preview } from '../io/json.js';
import { ModelLayer, singleCall, type CallContext, type Flow, type ValueCall } from './base.js';
import { type Compat, type LayerKind, onlyInput, type Weights } from './kind.js';

/** [batch, time, ...] as [batch * time, ...] (the same values). */
const fold = (t: Tensor): Tensor => ({ shape: [t.shape[0] * t.shape[1], ...t.shape.slice(2)], data: t.data });
const unfold = (t: Tensor, B: number, T: number): Tensor => ({ shape: [B, T, ...t.shape.slice(1)], data: t.data });

/**
 * Keras's TimeDistributed: the wrapped layer applied to every step of [batch, time, ...]; run
 * here on [batch * time, ...] at once, which gives the same values for layers without state
 * across samples. The mask passes on (Keras's default compute_mask).
 */
export class TimeDistributedLayer extends ModelLayer {
  override readonly supportsMasking = true;
  override readonly async: boolean;
  readonly inner: ModelLayer;
  constructor(spec: LayerSpec, inner: ModelLayer) {
    super(spec);
    this.inner = inner;
    this.async = inner.async;
  }
  override getWeights(): Tensor[] {
    return this.inner.getWeights();
  }
  private input(call: ValueCall): { x: Tensor; B: number; T: number } {
    const x = (call.args[0] as { tensor: Flow }).tensor.tensor;
    return { x, B: x.shape[0], T: x.shape[1] };
  }
  call(call: ValueCall, _mask: unknown, ctx: CallContext): Flow[] {
    const { x, B, T } = this.input(call);
    return this.inner.call(singleCall({ tensor: fold(x), mask: null }), null, ctx).map((f) => ({ tensor: unfold(f.tensor, B, T), mask: null }));
  }
  override async callAsync(call: ValueCall, _mask: unknown, ctx: CallContext): Promise<Flow[]> {
    const { x, B, T } = this.input(call);
    const out = await this.inner.callAsync(singleCall({ tensor: fold(x), mask: null }), null, ctx);
    return out.map((f) => ({ tensor: unfold(f.tensor, B, T), mask: null }));
  }
  override dispose(): void {
    this.inner.dispose();
  }
}

function innerLayer(r: ConfigReader): { className: string; config: Record<string, unknown> } {
  const v = r.config.layer;
  if (!isObject(v) || typeof v.class_name !== 'string' || !isObject(v.config) || typeof v.config.name !== 'string') {
    r.fail(`\`layer\` must be a serialized layer {class_name, config: {name, ...}}, found ${preview(v)}.`);
  }
  return { className: v.class_name, config: v.config };
}

export const timeDistributedKind: LayerKind = {
  className: 'TimeDistributed',
  analyze(r, call, ctx) {
    const input = onlyInput(r, call);
    if (input.length < 3) r.fail(`needs an input of rank >= 3 (batch, time, ...); its input shape is ${preview(input)}.`);
    const { className, config } = innerLayer(r);
    const kind = ctx.kindOf(className);
    if (!kind || className === 'TimeDistributed') {
      throw new UnsupportedLayerError(`TimeDistributed(${className})`, r.layerName, `${r.where}: wraps a ${className}, which gru does not run.`);
    }
    const ir = new ConfigReader(config, className, config.name as string);
    const innerShape: Shape = [null, ...input.slice(2)];
    const a = kind.analyze(ir, { args: [{ tensor: innerShape }], named: {}, mask: null, kwargs: {} }, ctx);
    const name = policyName(config.dtype) ?? 'float32';
    const wrapped: LayerSpec = {
      className,
      name: config.name as string,
      config,
      ...(a.inner ? { inner: a.inner } : {}),
      dtype: name === 'float64' ? 'float64' : 'float32',
      inputShape: innerShape,
      outputShapes: a.outputShapes,
      weights: a.weights,
      keras3Group: '',
    };
    return {
      outputShapes: a.outputShapes.map((s) => [input[0], input[1], ...s.slice(1)]),
      weights: a.weights.map((w) => ({ ...w, keras3Path: `layer/${w.keras3Path}` })),
      wrapped,
    };
  },
  create(spec, weights: Weights, compat: Compat) {
    return new TimeDistributedLayer(spec, createWrapped(spec.wrapped as LayerSpec, weights, compat));
  },
};

/** Set by the registry, which knows every kind (a wrapper cannot import it without a cycle). */
let createWrapped: (spec: LayerSpec, weights: Weights, compat: Compat) => ModelLayer = () => {
  throw new Error('TimeDistributed used before the registry was loaded');
};
export function setWrappedFactory(f: typeof createWrapped): void {
  createWrapped = f;
}
