import type { Tensor } from '@gru/core';
import type { CallOf, LayerSpec, Shape, WeightSpec } from '../config/spec.js';
import type { ConfigReader } from '../config/values.js';
import { formatShape } from '../errors.js';
import { preview } from '../io/json.js';
import { additiveAttention, attention } from '../kernels/attention.js';
import { multiHeadAttention, multiHeadAttentionWeights } from '../kernels/multi-head-attention.js';
import { callMaskShapes, type Flow, flowMaskShape, layerFail, tensorArgs, type ValueCall } from './base.js';
import { broadcastsTo } from './broadcast-index.js';
import { broadcastMask } from './mask-ops.js';
import { choice } from './conv1d.js';
import { KernelLayer } from './kernel-layer.js';
import { type Compat, isBool, type LayerKind, type Weights } from './kind.js';

const ATTENTION_KWARGS = { return_attention_scores: isBool, use_causal_mask: isBool };

/**
 * Keras's Attention and AdditiveAttention, called on [query, value] or [query, value, key] with
 * the masks of that list (query and value masks count); the output keeps the query's mask; with
 * return_attention_scores the scores are a second output.
 */
export class AttentionLayer extends KernelLayer {
  override readonly supportsMasking = true;
  call(call: ValueCall, mask: (Uint8Array | null)[] | null): Flow[] {
    const [q, v, k] = this.inputs(call);
    const shapes = callMaskShapes(call, true);
    const [query_mask, value_mask] = attentionMasks(
      layerFail(this),
      call,
      (i) => mask?.[i] ?? null,
      (i) => shapes[i] ?? null,
    );
    const masks = { query_mask, value_mask };
    const options = { use_causal_mask: call.kwargs.use_causal_mask === true, return_attention_scores: call.kwargs.return_attention_scores === true };
    const r = this.run(() =>
      this.className === 'Attention'
        ? attention(q, v, k ?? null, { scale: this.weight('scale'), concat_score_weight: this.weight('concat_score_weight') }, masks, {
            ...options,
            score_mode: (this.config.score_mode as 'dot' | 'concat') ?? 'dot',
          })
        : additiveAttention(q, v, k ?? null, this.weight('scale'), masks, options),
    );
    return options.return_attention_scores
      ? [
          { tensor: r.output, mask: null },
          { tensor: r.scores as Tensor, mask: null },
        ]
      : [{ tensor: r.output, mask: null }];
  }
  override computeMask(_call: ValueCall, previous: (Uint8Array | null)[] | null, outputs: number): (Uint8Array | null)[] {
    return Array.from({ length: outputs }, (_, i) => (i === 0 ? (previous?.[0] ?? null) : null));
  }
  /** `mask=[query_mask, value_mask]` from graph tensors, else the masks query and value carry, by shape. */
  override checkCallMasks(fail: (message: string) => never, call: ValueCall, implicit: boolean): void {
    const shapes = callMaskShapes(call, implicit);
    attentionMasks(
      fail,
      call,
      () => null,
      (i) => shapes[i] ?? null,
    );
  }
}

/**
 * Attention's [query_mask, value_mask] as the kernel reads them, broadcast as Keras's ops broadcast
 * them: the query mask as `output * query_mask[..., None]` to (...batch, Tq); the value mask as
 * `_apply_scores` subtracts it from the scores (...batch, Tq, Tv): one of 2 axes gets the Tq axis
 * ((x, Tv) read as (x, 1, Tv)), any other is aligned on the right against the scores as it is
 * (so on rank-4 inputs a (b1, b2, Tv) mask is read as (b2, Tq, Tv), not per batch); with
 * use_causal_mask the Tq axis is added whatever the rank. A mask with 1 on the Tq axis goes to the
 * kernel as one row per batch ((...batch, Tv)), any other as one row per query. Other shapes fail,
 * as in Keras. `data(i)` null: the shapes are checked only.
 */
function attentionMasks(
  fail: (message: string) => never,
  call: ValueCall,
  data: (i: number) => Uint8Array | null,
  shapeOf: (i: number) => readonly number[] | null,
): [Uint8Array | null, Uint8Array | null] {
  const ts = tensorArgs(call);
  const tq = ts[0]?.tensor.shape;
  return ([0, 1] as const).map((i) => {
    const t = ts[i]?.tensor;
    const given = shapeOf(i);
    if (!t || !given || !tq) return null;
    const want = t.shape.slice(0, -1);
    if (i === 0) {
      return broadcastArgMask(
        fail,
        'query_mask',
        data(i),
        given,
        want,
        `its query of shape ${formatShape(t.shape)} needs a mask that broadcasts to ${formatShape(want)}`,
      );
    }
    const causal = call.kwargs.use_causal_mask === true;
    const scores = [...want.slice(0, -1), tq[tq.length - 2], want[want.length - 1]];
    const keras = kerasScoresMask(given, causal);
    // With use_causal_mask a mask of the scores' rank ANDed with the causal (1, Tq, Tv) mask makes
    // scores of one more axis and an output of another rank.
    if (causal && keras.length > scores.length) {
      fail(
        `argument 'value_mask' has shape ${formatShape(given)} and use_causal_mask is true; Keras then adds an axis to the mask and returns an output of ${keras.length} axes, which gru does not; pass a value mask of shape ${formatShape(want)}, or call without use_causal_mask.`,
      );
    }
    const oneRow = keras.length < 2 || keras[keras.length - 2] === 1;
    const shape = oneRow && keras.length >= 2 ? [...keras.slice(0, -2), keras[keras.length - 1]] : keras;
    const needs =
      `its value of shape ${formatShape(t.shape)} and the query's ${tq[tq.length - 2]} steps need a mask that broadcasts to the scores' ${formatShape(scores)} ` +
      (causal
        ? `once Keras adds their Tq axis to it (use_causal_mask), as ${formatShape(want)} does`
        : `as Keras aligns it, on the right (one of 2 axes gets the Tq axis: (x, Tv) is read as (x, 1, Tv))`);
    if (!broadcastsTo(keras, scores)) fail(`argument 'value_mask' has shape ${formatShape(given)}; ${needs}.`);
    return broadcastArgMask(fail, 'value_mask', data(i), shape, oneRow ? want : scores, needs, given);
  }) as [Uint8Array | null, Uint8Array | null];
}

/**
 * The shape Keras's Attention subtracts a value mask of shape `given` from the scores as:
 * `_calculate_score_mask` adds the Tq axis (expand_dims(-2)) with use_causal_mask, `_apply_scores`
 * adds it to a mask of 2 axes only; numpy aligns the result on the right against the scores.
 */
function kerasScoresMask(given: readonly number[], causal: boolean): readonly number[] {
  if (given.length === 0 || (!causal && given.length !== 2)) return given;
  return [...given.slice(0, -1), 1, given[given.length - 1]];
}

/**
 * The mask argument `name` of `shape`, checked to broadcast to `want` by comparing axes (nothing
 * is allocated: the graph checks each call's masks before the call), then, given its values,
 * broadcast once. Fails naming `name`, the shape as received (`given`) and what it `needs`.
 * Shared by Attention, AdditiveAttention and MultiHeadAttention.
 */
function broadcastArgMask(
  fail: (message: string) => never,
  name: string,
  data: Uint8Array | null,
  shape: readonly number[],
  want: readonly number[],
  needs: string,
  given: readonly number[] = shape,
  minRank = 0,
): Uint8Array | null {
  if (shape.length < minRank || !broadcastsTo(shape, want)) fail(`argument '${name}' has shape ${formatShape(given)}; ${needs}.`);
  return data && broadcastMask(data, shape, want);
}

function attentionShapes(r: ConfigReader, call: CallOf<Shape>): { q: Shape; v: Shape; k: Shape } {
  const ts = tensorArgs(call);
  if (ts.length < 2 || ts.length > 3 || !('list' in call.args[0])) r.fail(`takes a list [query, value] or [query, value, key], found ${ts.length} tensor(s).`);
  const [q, v, k = v] = ts;
  if (q.length < 3 || v.length !== q.length || k.length !== q.length) r.fail(`needs query, value and key of equal rank >= 3, found ${preview(ts)}.`);
  if (v[v.length - 2] !== null && k[k.length - 2] !== null && v[v.length - 2] !== k[k.length - 2])
    r.fail(`value and key must have the same steps, found ${preview([v, k])}.`);
  return { q, v, k };
}

function attentionOutputs(call: CallOf<Shape>, q: Shape, v: Shape): Shape[] {
  const out: Shape = [...q.slice(0, -1), v[v.length - 1]];
  const scores: Shape = [...q.slice(0, -1), v[v.length - 2]];
  return call.kwargs.return_attention_scores === true ? [out, scores] : [out];
}

export const attentionKind: LayerKind = {
  className: 'Attention',
  kwargs: ATTENTION_KWARGS,
  analyze(r, call) {
    const { q, v, k } = attentionShapes(r, call);
    const mode = choice(r, 'score_mode', 'dot', ['dot', 'concat'] as const);
    if (q[q.length - 1] !== k[k.length - 1]) r.fail(`query and key must have the same last dimension, found ${preview([q, k])}.`);
    const weights: WeightSpec[] = [];
    if (r.bool('use_scale', false)) weights.push({ name: 'scale', shape: [], keras3Path: `vars/${weights.length}` });
    if (mode === 'concat') weights.push({ name: 'concat_score_weight', shape: [], keras3Path: `vars/${weights.length}` });
    return { outputShapes: attentionOutputs(call, q, v), weights };
  },
  create: (spec, weights) => new AttentionLayer(spec, weights),
};

export const additiveAttentionKind: LayerKind = {
  className: 'AdditiveAttention',
  kwargs: ATTENTION_KWARGS,
  analyze(r, call) {
    const { q, v, k } = attentionShapes(r, call);
    const dim = q[q.length - 1];
    if (typeof dim !== 'number' || dim !== k[k.length - 1]) r.fail(`query and key must have the same, known last dimension, found ${preview([q, k])}.`);
    const weights: WeightSpec[] = r.bool('use_scale', true) ? [{ name: 'scale', shape: [dim as number], keras3Path: 'vars/0' }] : [];
    return { outputShapes: attentionOutputs(call, q, v), weights };
  },
  create: (spec, weights) => new AttentionLayer(spec, weights),
};

/**
 * Keras's MultiHeadAttention on rank-3 inputs, called as (query, value[, key]) with an optional
 * attention_mask; query/value/key masks are the masks those tensors carry (Keras fills
 * `<argument>_mask` from them). The output keeps the query's mask.
 */
export class MultiHeadAttentionLayer extends KernelLayer {
  override readonly supportsMasking = true;
  constructor(
    spec: LayerSpec,
    weights: Weights,
    private readonly compat: Compat,
  ) {
    super(spec, weights);
  }
  call(call: ValueCall): Flow[] {
    const flows = tensorArgs(call);
    const [q, v, k] = this.inputs(call);
    const key = k ?? (call.named.key ? this.inputsOf(call.named.key) : null);
    const value = v ?? (call.named.value ? this.inputsOf(call.named.value) : null);
    const c = this.config;
    const masks = this.masks(layerFail(this), call, true);
    // Keras's MultiHeadAttention.call removes the masks of the tensors it reads (they are "handled
    // at the level of the layer"), so a later reader of the same tensor no longer sees them.
    for (const f of [...flows, ...(call.named.value ?? []), ...(call.named.key ?? [])]) f.mask = null;
    const weights = this.run(() => multiHeadAttentionWeights(this.weights, { use_bias: c.use_bias !== false, use_gate: c.use_gate === true }));
    const r = this.run(() =>
      multiHeadAttention(q, value as Tensor, key, weights, masks, {
        num_heads: c.num_heads as number,
        key_dim: c.key_dim as number,
        value_dim: (c.value_dim as number | null) ?? null,
        output_shape: (c.output_shape as number | number[] | null) ?? null,
        use_bias: c.use_bias !== false,
        use_gate: c.use_gate === true,
        sliding_window: (c.sliding_window as number | null) ?? null,
        attention_axes: (c.attention_axes as number[] | null) ?? null,
        dropout: typeof c.dropout === 'number' ? c.dropout : 0,
        use_causal_mask: call.kwargs.use_causal_mask === true,
        return_attention_scores: call.kwargs.return_attention_scores === true,
        // tf.keras 2 never zeroes the weights of fully masked rows; Keras 3 does on some code paths (the kernel picks).
        ...(this.compat === 'keras2' ? { zero_masked_weights: false } : {}),
      }),
    );
    return r.scores
      ? [
          { tensor: r.output, mask: null },
          { tensor: r.scores, mask: null },
        ]
      : [{ tensor: r.output, mask: null }];
  }
  /** `attention_mask` from a graph tensor, and the masks query, value and key carry, by shape. */
  override checkCallMasks(fail: (message: string) => never, call: ValueCall): void {
    this.masks(fail, call, false);
  }
  /**
   * The masks the kernel reads, broadcast to (batch, T), (batch, S) and (batch, T, S): the query,
   * value and key masks their tensors carry (Keras fills `<argument>_mask` from them) and
   * attention_mask. `data` false: their shapes are checked only.
   */
  private masks(fail: (message: string) => never, call: ValueCall, data: boolean) {
    const flows = tensorArgs(call);
    const [q, v = call.named.value?.[0], k = call.named.key?.[0]] = flows;
    const am = call.named.attention_mask?.[0];
    const of = (f: Flow, what: string) => `its ${what} of shape ${formatShape(f.tensor.shape)}`;
    const needs = (what: string, want: readonly number[]) => `${what} needs a mask that broadcasts to ${formatShape(want)}`;
    const carried = (f: Flow | undefined, name: string, what: string) => {
      const want = f?.tensor.shape.slice(0, -1) ?? [];
      return f?.mask ? broadcastArgMask(fail, name, data ? f.mask : null, flowMaskShape(f), want, needs(of(f, what), want)) : null;
    };
    const query_mask = carried(q, 'query_mask', 'query');
    const value_mask = carried(v, 'value_mask', 'value');
    const key_mask = flows[2] || call.named.key ? carried(k, 'key_mask', 'key') : null;
    const attention_mask = am && q && v ? this.attentionMask(fail, am, q, v, data, [q, v, flows[2] || call.named.key ? k : undefined]) : null;
    return { query_mask, value_mask, key_mask, attention_mask };
  }
  /**
   * attention_mask broadcast to the scores as Keras's _masked_softmax does: axes are added before
   * its last two only up to the scores' (batch, heads, Tq, Tv), so a mask of rank 4 holds one mask
   * per head (size-1 heads: one for all), any lower rank one for all heads, (batch, Tq, Tv). It
   * has at least (Tq, Tv) axes (Keras: "axis -3 is out of bounds" for fewer).
   */
  private attentionMask(fail: (message: string) => never, am: Flow, q: Flow, v: Flow, data: boolean, masked: (Flow | undefined)[]): Uint8Array | null {
    const [B, T] = q.tensor.shape;
    const S = v.tensor.shape[1];
    const N = this.config.num_heads as number;
    const given = am.tensor.shape;
    const perHead = given.length === 4 && given[1] !== 1;
    const shape = given.length === 4 && !perHead ? [given[0], ...given.slice(2)] : given;
    const want = perHead ? [B, N, T, S] : [B, T, S];
    const what = `its query of shape ${formatShape(q.tensor.shape)} and value of shape ${formatShape(v.tensor.shape)}`;
    const needs = `${what} need a mask that broadcasts to ${formatShape([B, T, S])}, or to ${formatShape([B, N, T, S])} (batch, heads, Tq, Tv)`;
    // Keras ANDs a rank-4 mask with the (batch, Tq, Tv) one of the inputs' masks aligned on the
    // right, so that one's batch axis meets the heads axis: another mask than either means.
    if (given.length === 4 && B > 1 && masked.some((f) => f?.mask)) {
      fail(
        `argument 'attention_mask' has shape ${formatShape(given)} while its query, value or key carries a mask; Keras then ANDs their (batch, Tq, Tv) mask with it aligned on the heads axis instead of the batch axis, which gru does not; fold those masks into attention_mask, or pass one of shape ${formatShape([B, T, S])}.`,
      );
    }
    return broadcastArgMask(fail, 'attention_mask', data ? Uint8Array.from(am.tensor.data, (x) => (x !== 0 ? 1 : 0)) : null, shape, want, needs, given, 2);
  }
  private inputsOf(fs: Flow[]): Tensor {
    return this.inputs({ args: [{ tensor: fs[0] }], named: {}, mask: null, kwargs: {} })[0];
  }
  /** The query's mask as it was before the call (Keras caches it before the call removes it). */
  override computeMask(_call: ValueCall, previous: (Uint8Array | null)[] | null, outputs: number): (Uint8Array | null)[] {
    return Array.from({ length: outputs }, (_, i) => (i === 0 ? (previous?.[0] ?? null) : null));
  }
}

export const multiHeadAttentionKind: LayerKind = {
  className: 'MultiHeadAttention',
  namedTensors: ['value', 'key', 'attention_mask'],
  kwargs: ATTENTION_KWARGS,
  analyze(r, call) {
    const ts = tensorArgs(call);
    const q = ts[0];
    const v = ts[1] ?? call.named.value?.[0];
    const k = ts[2] ?? call.named.key?.[0] ?? v;
    if (!q || !v || q.length !== 3 || v.length !== 3 || k.length !== 3) r.fail(`runs on rank-3 query, value and key, found ${preview([q, v, k])}.`);
    const att = r.config.attention_axes;
    if (att !== null && att !== undefined && !(att === 1 || att === -2 || (Array.isArray(att) && att.length === 1 && (att[0] === 1 || att[0] === -2)))) {
      r.unsupported(`attention_axes=${preview(att)} is not supported: gru attends over the steps axis only.`);
    }
    const N = r.positiveInt('num_heads');
    const kd = r.positiveInt('key_dim');
    const vd = r.config.value_dim === null || r.config.value_dim === undefined ? kd : r.positiveInt('value_dim');
    const bias = r.bool('use_bias', true);
    const gate = r.bool('use_gate', false);
    const [dq, dv, dk] = [q[2], v[2], k[2]];
    if (typeof dq !== 'number' || typeof dv !== 'number' || typeof dk !== 'number') r.fail(`needs known feature sizes, found ${preview([q, v, k])}.`);
    const os = r.config.output_shape;
    const outShape = os === null || os === undefined ? [dq as number] : Array.isArray(os) ? (os as number[]) : [os as number];
    if (!outShape.every((d) => Number.isInteger(d) && d > 0)) r.fail(`\`output_shape\` must be positive integers, found ${preview(os)}.`);
    const weights: WeightSpec[] = [];
    const dense = (group: string, kernel: number[], b: number[]) => {
      weights.push({ name: `${group}/kernel`, shape: kernel, keras3Path: `${group}_dense/vars/0` });
      if (bias) weights.push({ name: `${group}/bias`, shape: b, keras3Path: `${group}_dense/vars/1` });
    };
    dense('query', [dq as number, N, kd], [N, kd]);
    dense('key', [dk as number, N, kd], [N, kd]);
    if (gate) dense('gate', [dq as number, N, vd], [N, vd]);
    dense('value', [dv as number, N, vd], [N, vd]);
    dense('output', [N, vd, ...outShape], outShape);
    const outputs: Shape[] = [[q[0], q[1], ...outShape]];
    if (call.kwargs.return_attention_scores === true) outputs.push([q[0], N, q[1], v[1]]);
    return { outputShapes: outputs, weights };
  },
  create: (spec, weights, compat) => new MultiHeadAttentionLayer(spec, weights, compat),
};
