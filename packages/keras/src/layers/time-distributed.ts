import { GruError, type Tensor } from '@gru/core';
import type { CallOf, LayerSpec, Shape } from '../config/spec.js';
import { ConfigReader, policyName } from '../config/values.js';
import { formatShape, UnsupportedLayerError } from '../errors.js';
import { isObject, preview } from '../io/json.js';
import { callMaskShapes, layerFail, ModelLayer, singleCall, sizeOf, type CallContext, type Flow, type ValueCall, withMask } from './base.js';
import { type Compat, type LayerKind, onlyInput, type Weights } from './kind.js';
import { perStepMask } from './mask-ops.js';

/** [batch, time, ...] as [batch * time, ...] (the same values). */
const fold = (t: Tensor): Tensor => ({ shape: [t.shape[0] * t.shape[1], ...t.shape.slice(2)], data: t.data });
const unfold = (t: Tensor, B: number, T: number): Tensor => ({ shape: [B, T, ...t.shape.slice(1)], data: t.data });

/** One mask value per position of `t` but its last axis. */
const maskRows = (t: Tensor): number => t.shape.slice(0, -1).reduce((a, b) => a * b, 1);

/**
 * Keras's TimeDistributed: the wrapped layer applied to every step of [batch, time, ...]; run
 * here on [batch * time, ...] at once, which gives the same values for layers without state
 * across samples. A mask of (batch, time, ...) is, folded the same way, the mask of every step:
 * a wrapped layer whose call takes a mask (GRU, Bidirectional, GlobalAveragePooling1D) gets it,
 * as Keras hands it `mask[:, i]`. The output mask follows Keras 3's rule (the incoming mask,
 * unchanged) or Keras 2's (the wrapped layer's own mask of the folded input, else the incoming
 * one reduced to (batch, time) with `any`). Keras 3's keeps its shape (`Flow.maskShape`): a
 * (batch, time, k) mask on a (batch, time, units) output is read per step by a GRU (`any` over k,
 * as its scan does) and refused, as Keras fails, by a layer that cannot take it.
 */
export class TimeDistributedLayer extends ModelLayer {
  override readonly supportsMasking = true;
  override readonly checksMaskShape = true;
  override readonly async: boolean;
  readonly inner: ModelLayer;
  constructor(
    spec: LayerSpec,
    inner: ModelLayer,
    private readonly innerTakesMask: boolean,
    private readonly compat: Compat,
  ) {
    super(spec);
    this.inner = inner;
    this.async = inner.async;
  }
  override getWeights(): Tensor[] {
    return this.inner.getWeights();
  }
  private plan(call: ValueCall, mask: (Uint8Array | null)[] | null) {
    const x = (call.args[0] as { tensor: Flow }).tensor.tensor;
    const [B, T] = x.shape;
    // The wrapped layer's own check would name the folded (batch * time, ...) shape.
    const steps = this.inner.stepsAxis === null ? null : this.inner.stepsAxis + 1;
    if (steps !== null && x.shape[steps] === 0) {
      throw new GruError(
        'IndexError',
        `Layer '${this.name}' (TimeDistributed): received an input of shape ${formatShape(x.shape)}, with 0 steps on axis ${steps}; the ${this.inner.className} it wraps gets each time step as an input of shape ${formatShape([B, ...x.shape.slice(2)])} and needs at least one step (${this.inner.kerasOnZeroSteps}).`,
      );
    }
    const m = mask?.[0] ?? null;
    // The mask's own shape, not one guessed from its length: a (batch, time, 4) mask on a (batch,
    // time, 2, ...) input has a whole multiple of (batch, time) values too, and (batch, time, k, 0) none.
    const shape = m === null ? null : (callMaskShapes(call, true)[0] ?? this.expectedMaskShape(x));
    if (shape !== null && (m?.length !== sizeOf(shape) || shape.length < 2 || shape[0] !== B || shape[1] !== T)) {
      layerFail(this)(
        `is called with a mask of shape ${formatShape(shape)} (${m?.length} values); its input of shape ${formatShape(x.shape)} needs a mask whose shape starts with ${formatShape([B, T])}.`,
      );
    }
    const innerMask = this.innerTakesMask ? m : null;
    if (innerMask !== null && shape?.length === 2 && x.shape.slice(2, -1).some((d) => d !== 1)) {
      layerFail(this)(perStepMaskMessage([B, T], this.inner.className, x.shape));
    }
    const folded = fold(x);
    const innerShape = shape && shape.length > 2 ? { maskShape: [B * T, ...shape.slice(2)] } : {};
    const innerCall = singleCall({ tensor: folded, mask: innerMask, ...(innerMask ? innerShape : {}) });
    return { x, B, T, m, shape, innerCall, innerMask: innerMask ? [innerMask] : null };
  }
  private finish(p: ReturnType<TimeDistributedLayer['plan']>, out: Flow[]): Flow[] {
    return out.map((f, i) => {
      const tensor = unfold(f.tensor, p.B, p.T);
      if (i !== 0) return { tensor, mask: null };
      const { mask, shape } = this.outputMask(p, f, tensor);
      return withMask(tensor, mask, shape);
    });
  }
  /**
   * Keras 3's TimeDistributed passes its mask on unchanged (Layer.compute_mask): the same values of
   * the same shape, whatever the wrapped layer did to the axes after time. tf.keras 2's takes the
   * wrapped layer's own mask, else the incoming one reduced to (batch, time).
   */
  private outputMask(p: ReturnType<TimeDistributedLayer['plan']>, inner: Flow, out: Tensor): { mask: Uint8Array | null; shape: readonly number[] | null } {
    if (this.compat !== 'keras2') return { mask: p.m, shape: p.shape };
    const own = inner.mask ?? (this.inner.supportsMasking ? this.inner.computeMask(p.innerCall, p.m ? [p.m] : null, 1)[0] : null);
    const m = own ?? (p.m && perStepMask(p.m, p.B * p.T));
    const mask = m && perStepMask(m, maskRows(out));
    return { mask, shape: mask !== null && mask.length === p.B * p.T ? [p.B, p.T] : null };
  }
  call(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext): Flow[] {
    const p = this.plan(call, mask);
    return this.finish(p, this.inner.call(p.innerCall, p.innerMask, ctx));
  }
  override async callAsync(call: ValueCall, mask: (Uint8Array | null)[] | null, ctx: CallContext): Promise<Flow[]> {
    const p = this.plan(call, mask);
    return this.finish(p, await this.inner.callAsync(p.innerCall, p.innerMask, ctx));
  }
  /** Keras's rule (`stepMaskShape`), then the wrapped layer's for the mask each step gets. */
  override checkMaskShape(fail: (message: string) => never, input: Tensor, maskShape: readonly number[]): void {
    const call = { args: [], named: {}, mask: [[...maskShape]], kwargs: {} };
    if (stepMaskShape(fail, call, input.shape, this.innerTakesMask, this.inner.className)) {
      // Checked on one step's shapes (Keras hands the wrapped layer inputs[:, i] and mask[:, i]),
      // and named with the caller's: the folded (batch * time) shapes are never seen by the caller.
      const step = { shape: [input.shape[0], ...input.shape.slice(2)], data: input.data };
      const stepFail = (message: string): never =>
        fail(
          `is called with a mask of shape ${formatShape(maskShape)} and an input of shape ${formatShape(input.shape)}, which the ${this.inner.className} it wraps gets one step at a time; at each step it ${message}`,
        );
      this.inner.checkMaskShape(stepFail, step, [maskShape[0], ...maskShape.slice(2)]);
    }
  }
  /** The output masks are set by `call` (they depend on the output's shape). */
  override computeMask(_call: ValueCall, _previous: (Uint8Array | null)[] | null, outputs: number): (Uint8Array | null)[] {
    return Array.from({ length: outputs }, () => null);
  }
  override dispose(): void {
    this.inner.dispose();
  }
}

/** Keras's checks of a TimeDistributed's `mask=` (at least (batch, time), matching its input), and the mask each step's call gets. */
function stepMaskShape(fail: (message: string) => never, call: CallOf<Shape>, input: Shape, innerTakesMask: boolean, className: string): Shape | null {
  const mask = call.mask?.[0];
  if (!mask) return null;
  if (mask.length < 2 || [0, 1].some((i) => mask[i] !== null && input[i] !== null && mask[i] !== input[i])) {
    fail(
      `is called with a mask of shape ${formatShape(mask)}; its input of shape ${formatShape(input)} needs a mask whose shape starts with ${formatShape(input.slice(0, 2))}.`,
    );
  }
  if (!innerTakesMask) return null;
  if (mask.length === 2) {
    fail(perStepMaskMessage(mask, className, input));
  }
  return [null, ...mask.slice(2)];
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
    const innerMask = stepMaskShape((m) => r.fail(m), call, input, kind.takesMask === true, className);
    const a = kind.analyze(ir, { args: [{ tensor: innerShape }], named: {}, mask: innerMask ? [innerMask] : null, kwargs: {} }, ctx);
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
    const wrapped = spec.wrapped as LayerSpec;
    return new TimeDistributedLayer(spec, createWrapped(wrapped, weights, compat), takesMask(wrapped.className), compat);
  },
};

/** Set by the registry, which knows every kind (a wrapper cannot import it without a cycle). */
let createWrapped: (spec: LayerSpec, weights: Weights, compat: Compat) => ModelLayer = () => {
  throw new Error('TimeDistributed used before the registry was loaded');
};
let takesMask: (className: string) => boolean = () => false;
export function setWrappedFactory(f: typeof createWrapped, masks: typeof takesMask): void {
  createWrapped = f;
  takesMask = masks;
}

/** Why a (batch, steps) mask cannot reach a wrapped layer that masks its own steps (at load and at predict). */
function perStepMaskMessage(mask: Shape, className: string, input: Shape): string {
  return (
    `is called with a mask of shape ${formatShape(mask)} (one value per step), but the ${className} it wraps takes a mask over its own steps: ` +
    `Keras hands it one mask value per sample, which Keras cannot run either; its input of shape ${formatShape(input)} needs a mask of shape ${formatShape(input.slice(0, 3))}.`
  );
}
