import { activationDef, applyActivation } from '../activations.js';
import { copyFloats, copyMask } from '../backend/own-copy.js';
import { readRequest } from '../backend/read-request.js';
import type { ForwardRequest, ForwardResult, GruSpec, GruWeights } from '../backend/types.js';
import { arrayFor, type DType, type FloatArray } from '../tensor.js';

/** What the reference forward keeps for backward: per processed step, per batch row. */
export interface ReferenceSaved {
  request: ForwardRequest;
  /** The weights the forward pass used (a later setWeights must not change the gradients). */
  weights: GruWeights;
  /** [steps, batch, 3*units] gate pre-activations: z, r, candidate. */
  pre: Float64Array;
  /** [steps, batch, 3*units] activated gates z, r, candidate hh. */
  act: Float64Array;
  /** [steps, batch, units] recurrent candidate term before the reset gate (resetAfter) or 0. */
  recH: Float64Array;
  /** [steps + 1, batch, units] state before each processed step (index 0 = initial state). */
  states: Float64Array;
}

/**
 * The GRU recurrence as Keras's numpy backend runs it, one row and one step at a time, in
 * float64 arithmetic. A float32 layer rounds the state to float32 after every step (Keras keeps
 * it in a float32 tensor), which keeps results within float32 rounding of Keras.
 */
export function referenceForward(spec: GruSpec, weights: GruWeights, request: ForwardRequest): ForwardResult & { saved?: ReferenceSaved } {
  // Callers that checked the request (the reference backend) pass a copy already; others (tests
  // using this as their oracle) may pass getters, which must not answer the loop differently.
  const req = readRequest(request);
  const { units: H, inputDim: D, resetAfter } = spec;
  const { batch: B, timesteps: T } = req;
  const G = 3 * H;
  const f = activationDef(spec.activation);
  const g = activationDef(spec.recurrentActivation);
  const round = spec.dtype === 'float32' ? Math.fround : (v: number) => v;
  const K = weights.kernel;
  const R = weights.recurrentKernel;
  const bias = weights.bias;
  const inBias = (j: number) => (bias ? bias[j] : 0);
  const recBias = (j: number) => (bias && resetAfter ? bias[G + j] : 0);
  const keep = req.keepForBackward === true;

  const output = arrayFor(spec.dtype, req.returnSequences ? B * T * H : B * H);
  const lastState = arrayFor(spec.dtype, B * H);
  const saved: ReferenceSaved | undefined = keep
    ? {
        // Backward reads these later: copies, so the caller's arrays may change after this returns.
        request: snapshotRequest(req, spec.dtype),
        weights,
        pre: new Float64Array(T * B * G),
        act: new Float64Array(T * B * G),
        recH: new Float64Array(T * B * H),
        states: new Float64Array((T + 1) * B * H),
      }
    : undefined;

  const h = new Float64Array(H);
  const hz = new Float64Array(H);
  const hr = new Float64Array(H);
  const hh = new Float64Array(H);
  const rh = new Float64Array(H);
  const pre = new Float64Array(G);
  const act = new Float64Array(G);
  const rec = new Float64Array(H);

  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) h[j] = req.initialState ? req.initialState[b * H + j] : 0;
    if (saved) saved.states.set(h, b * H);
    const im = req.inputDropoutMasks;
    const rm = req.recurrentDropoutMasks;
    for (let k = 0; k < T; k++) {
      const t = req.goBackwards ? T - 1 - k : k;
      const active = req.mask?.[b * T + t] !== 0;
      if (active) {
        const xOff = (b * T + t) * D;
        // Input projection per gate; with per-gate dropout each gate sees its own masked input.
        for (let gate = 0; gate < 3; gate++) {
          const mask = im ? im[gate] : undefined;
          for (let j = 0; j < H; j++) {
            const col = gate * H + j;
            let s = inBias(col);
            for (let d = 0; d < D; d++) {
              const xv = mask ? req.x[xOff + d] * mask[b * D + d] : req.x[xOff + d];
              s += xv * K[d * G + col];
            }
            pre[col] = s;
          }
        }
        for (let j = 0; j < H; j++) {
          hz[j] = rm ? h[j] * rm[0][b * H + j] : h[j];
          hr[j] = rm ? h[j] * rm[1][b * H + j] : h[j];
          hh[j] = rm ? h[j] * rm[2][b * H + j] : h[j];
        }
        for (let j = 0; j < H; j++) {
          let sz = recBias(j);
          let sr = recBias(H + j);
          for (let u = 0; u < H; u++) {
            sz += hz[u] * R[u * G + j];
            sr += hr[u] * R[u * G + H + j];
          }
          pre[j] += sz;
          pre[H + j] += sr;
        }
        // Keras applies the recurrent activation to z and to r separately (softmax, sparsemax and
        // glu see `units` values each, never both gates at once).
        applyActivation(g, pre, act, 0, H);
        applyActivation(g, pre, act, H, H);
        if (resetAfter) {
          for (let j = 0; j < H; j++) {
            let s = recBias(2 * H + j);
            for (let u = 0; u < H; u++) s += hh[u] * R[u * G + 2 * H + j];
            rec[j] = s;
            pre[2 * H + j] += act[H + j] * s;
          }
        } else {
          for (let u = 0; u < H; u++) rh[u] = act[H + u] * hh[u];
          for (let j = 0; j < H; j++) {
            let s = 0;
            for (let u = 0; u < H; u++) s += rh[u] * R[u * G + 2 * H + j];
            rec[j] = 0;
            pre[2 * H + j] += s;
          }
        }
        applyActivation(f, pre, act, 2 * H, H);
        if (saved) {
          const off = (k * B + b) * G;
          saved.pre.set(pre, off);
          saved.act.set(act, off);
          saved.recH.set(rec, (k * B + b) * H);
        }
        for (let j = 0; j < H; j++) {
          const z = act[j];
          h[j] = round(z * h[j] + (1 - z) * act[2 * H + j]);
        }
      }
      if (saved) saved.states.set(h, ((k + 1) * B + b) * H);
      if (req.returnSequences) output.set(h, (b * T + k) * H);
    }
    lastState.set(h, b * H);
    if (!req.returnSequences) output.set(h, b * H);
  }
  return saved ? { output, lastState, saved } : { output, lastState };
}

// Engine copies (own-copy.ts): a subclass's slice() could hand back other values than were checked.
function snapshotRequest(req: ForwardRequest, dtype: DType): ForwardRequest {
  const copy = (a: FloatArray) => copyFloats(a, dtype);
  const copy3 = (m?: readonly [FloatArray, FloatArray, FloatArray]) => (m ? ([copy(m[0]), copy(m[1]), copy(m[2])] as const) : undefined);
  return {
    ...req,
    x: copy(req.x),
    initialState: req.initialState && copy(req.initialState),
    mask: req.mask && copyMask(req.mask),
    inputDropoutMasks: copy3(req.inputDropoutMasks),
    recurrentDropoutMasks: copy3(req.recurrentDropoutMasks),
  };
}
