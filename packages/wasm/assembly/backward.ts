import { activationGrad, sigmoidGrad, tanhGrad } from './activation-grads';
import { ACT_SIGMOID, ACT_TANH } from './activations';
import { FLAG_GO_BACKWARDS, FLAG_INPUT_DROPOUT, FLAG_MASK, FLAG_RECURRENT_DROPOUT, FLAG_RESET_AFTER, FLAG_RETURN_SEQUENCES, sharePanel } from './forward';
import { gemm, gemmPanelsA, packPanelsA, PANEL_COLS } from './gemm';
import { keepAct, keepAux, keepPre } from './keep';
import { barrier } from './sync';
import { weightGrad, weightGradScratch } from './weight-grad';

// Backpropagation through time over a whole sequence, from what a forward call with FLAG_KEEP
// kept (keep.ts): the mirror image of the forward loop, as @gru/core's referenceBackward spells
// it, with every batch row of a step at once.
//
//   per step, last to first:
//     elementwise: the gate pre-activations' gradients dP from dh (a masked step passes dh
//       through and contributes nothing), written to the call's own rows (gradRows)
//     resetAfter false: dRh = dP_h . U_h^T (one GEMM), then the reset gate's gradient
//     dh_prev = dh * z + sum_g (dG_g . U_g^T) * recurrent mask_g (one GEMM per gate)
//   then for the whole sequence at once: dKernel = x^T dP, dRecurrentKernel = h^T dG,
//   dx = dP K^T, dBias = column sums.
// What forward kept is only read, so backward can run twice on one call without copying it. Its
// own rows (`out`, gradRowsBytes) are dP [R][3Hp], then one aux row [R][Hp] (dG_h = dP_h * r with
// resetAfter; unused without it, where the recurrent kernel's gradient reads the kept r * h_h), then with
// recurrent dropout each row's recurrent GEMM inputs h * mask_g [R][3Hp] (without it, the
// recurrent kernel's gradient reads the kept states). Masked rows are zero in all of them.
//
// The transposed weights (packTransposed) are panels of K^T and U^T per gate: H rows (the gate's
// units) by the padded input dimension or padded units.

const ALIGN: usize = 64;

@inline function f32s(n: usize): usize {
  return ((n << 2) + ALIGN - 1) & ~(ALIGN - 1);
}

/** Offset of the aux rows in gruBackward's `out`, after the dP rows. */
@inline function gradAux(B: i32, T: i32, Hp: i32): usize {
  return f32s(<usize>T * <usize>B * 3 * <usize>Hp);
}

/** Offset of the h * mask_g rows in gruBackward's `out` (recurrent dropout only). */
@inline function gradAct(B: i32, T: i32, Hp: i32): usize {
  return gradAux(B, T, Hp) + f32s(<usize>T * <usize>B * <usize>Hp);
}

/** Bytes of gruBackward's `out` rows (src/layout.ts mirrors it). */
export function gradRowsBytes(B: i32, T: i32, Hp: i32, flags: i32): usize {
  return flags & FLAG_RECURRENT_DROPOUT ? gradAct(B, T, Hp) + f32s(<usize>T * <usize>B * 3 * <usize>Hp) : gradAct(B, T, Hp);
}

/** Rows of dx computed per GEMM: a block stays in cache while it is added into dx. */
const DX_ROWS: i32 = 256;

let sDh: usize = 0; // [B][Hp] dh, double-buffered with sDh2
let sDh2: usize = 0;
let sTmp: usize = 0; // [B][Hp] one gate's share of dh_prev, or dRh
let sZero: usize = 0; // a zero row for GEMMs without a bias
let sRm: usize = 0; // [3][B][Hp] recurrent dropout masks, padded with zeros
let sPk: usize = 0; // a step's three dG_g as 4-row panels (gemmPanelsA), [3][ceil(B/4)][H][4], twice with workers
let sDx: usize = 0; // [DX_ROWS][Dp] one gate's part of a block of dx
let sW: usize = 0; // weightGrad's blocks

/** Bytes of one worker's dx block. */
@inline function dxBlockBytes(D: i32): usize {
  return f32s(<usize>DX_ROWS * <usize>((D + 7) & ~7));
}

function layout(B: i32, D: i32, Hp: i32, flags: i32, workers: i32): usize {
  const b = <usize>B, hp = <usize>Hp, dp = <usize>((D + 7) & ~7);
  let at: usize = 0;
  sDh = at; at += f32s(b * hp);
  sDh2 = at; at += f32s(b * hp);
  sTmp = at; at += f32s(b * hp);
  sZero = at; at += f32s(max(3 * hp, dp));
  sRm = at; if (flags & FLAG_RECURRENT_DROPOUT) at += f32s(3 * b * hp);
  sPk = at; at += <usize>(workers > 1 ? 2 : 1) * f32s(3 * ((b + 3) & ~3) * hp);
  sDx = at; at += <usize>workers * dxBlockBytes(D);
  sW = at; at += <usize>workers * weightGradScratch(max(D, Hp), 3 * Hp);
  return at;
}

/** Bytes of scratch gruBackward (workers 1) or gruBackwardPart needs. */
export function backwardScratchBytes(B: i32, D: i32, Hp: i32, flags: i32, workers: i32): usize {
  return layout(B, D, Hp, flags, workers);
}

/** Worker w's rows [first, end) of an M-row result: multiples of 4 (whole GEMM tiles) but the last. */
@inline function shareStart(w: i32, workers: i32, M: i32): i32 {
  return w >= workers ? M : (((M >> 2) * w) / workers) << 2;
}

/**
 * Writes gate g's transposed block of a packed [K][3Hp] weight matrix (forward panels at src) as
 * panels of H rows by K columns padded to a multiple of 8 (padding columns zero), at dst. It runs
 * once per backward call on weights that change every training step, so it moves 4x4 blocks with
 * vector loads, shuffles and stores (one element at a time it cost as much as a step's GEMMs at
 * short sequences); only the edges go singly.
 */
export function packTransposed(src: usize, K: i32, H: i32, Hp: i32, g: i32, dst: usize): void {
  const N = (K + 7) & ~7, K4 = K & ~3, H4 = H & ~3;
  for (let j = 0; j < H4; j += 4) {
    // Units j..j+3 sit in one panel (Hp and j are multiples of 4), 16 contiguous bytes a row.
    const from = weightAddress(src, K, g * Hp + j, 0);
    for (let kk = 0; kk < K4; kk += 4) {
      const f = from + (<usize>kk << 5);
      const v0 = v128.load(f), v1 = v128.load(f, 32), v2 = v128.load(f, 64), v3 = v128.load(f, 96);
      const lo01 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5), lo23 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
      const hi01 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7), hi23 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
      const d = transposedAddress(dst, H, j, kk);
      v128.store(d, v128.shuffle<f32>(lo01, lo23, 0, 1, 4, 5));
      v128.store(d, v128.shuffle<f32>(lo01, lo23, 2, 3, 6, 7), 32);
      v128.store(d, v128.shuffle<f32>(hi01, hi23, 0, 1, 4, 5), 64);
      v128.store(d, v128.shuffle<f32>(hi01, hi23, 2, 3, 6, 7), 96);
    }
    for (let u = j; u < j + 4; u++) packTransposedRow(src, K, H, Hp, g, u, K4, N, dst);
  }
  for (let u = H4; u < H; u++) packTransposedRow(src, K, H, Hp, g, u, 0, N, dst);
}

/** Address of element (kk, column c) of forward panels of K rows. */
@inline function weightAddress(src: usize, K: i32, c: i32, kk: i32): usize {
  return src + ((<usize>(c >> 3) * <usize>K) << 5) + (<usize>(c & 7) << 2) + (<usize>kk << 5);
}

/** Address of element (row j, column kk) of transposed panels of H rows. */
@inline function transposedAddress(dst: usize, H: i32, j: i32, kk: i32): usize {
  return dst + ((<usize>(kk >> 3) * <usize>H) << 5) + (<usize>j << 5) + (<usize>(kk & 7) << 2);
}

/** Columns [kk0, N) of transposed row j, one at a time; zero past K. */
function packTransposedRow(src: usize, K: i32, H: i32, Hp: i32, g: i32, j: i32, kk0: i32, N: i32, dst: usize): void {
  for (let kk = kk0; kk < N; kk++) {
    const v: f32 = kk < K ? load<f32>(weightAddress(src, K, g * Hp + j, kk)) : 0;
    store<f32>(transposedAddress(dst, H, j, kk), v);
  }
}

/**
 * f'(x) of activation `id` at y = f(x), x read from `xAt` only when the formula needs it. tanh and
 * sigmoid (every gate of a default GRU) are inlined here: the per-step loops called activationGrad
 * three times per four units, and the call cost more than the math.
 */
@inline function gateGrad(id: i32, xAt: usize, y: v128): v128 {
  if (id == ACT_TANH) return tanhGrad(y);
  if (id == ACT_SIGMOID) return sigmoidGrad(y);
  return activationGrad(id, v128.load(xAt), y);
}

/** dst[i] += src[i] for n floats. */
function addRow(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/**
 * C = B + A x W for M rows of A (lda bytes apart), through A's 4-row panels at `ap` when `packed`
 * (packPanelsA wrote them), else through gemm(): the same sums either way. Below 4 rows gemm()'s
 * one-row kernel is the faster one, and nothing is packed.
 */
@inline function rowsGemm(packed: bool, a: usize, lda: usize, ap: usize, M: i32, K: i32, w: usize, np: i32, b: usize, ldb: usize, c: usize, ldc: usize): void {
  if (packed) gemmPanelsA(ap, M, K, w, np, b, ldb, c, ldc);
  else gemm(a, lda, M, 1, 0, K, w, np, b, ldb, 0, c, ldc, 0);
}

/**
 * Gradients of a whole GRU layer call. `x`, `mask`, `inDrop`, `recDrop` are the forward call's
 * (as gruForward took them), `keep` what it kept (read only), `out` gradRowsBytes() for the
 * rows backward writes. dOut is [B][T][H] (returnSequences) or [B][H];
 * dLast [B][H] or 0. Writes dInit [B][H], dx [B][T][D] (skipped when dx is 0: then tIn is not
 * read), dK [D][3Hp], dU [H][3Hp] and dBias [2][3Hp] (the input bias row, then the recurrent one).
 */
export function gruBackward(
  B: i32, T: i32, D: i32, H: i32, Hp: i32, flags: i32, actF: i32, actG: i32,
  x: usize, mask: usize, inDrop: usize, recDrop: usize, keep: usize, out: usize, tIn: usize, tRec: usize,
  dOut: usize, dLast: usize, dInit: usize, dx: usize, dK: usize, dU: usize, dBias: usize, scratch: usize,
): void {
  backwardPart(B, T, D, H, Hp, flags, actF, actG, x, mask, inDrop, recDrop, keep, out, tIn, tRec, dOut, dLast, dInit, dx, dK, dU, dBias, scratch, 0, 1, 0);
}

/**
 * Worker `w` of `workers`' share of gruBackward, whose 24 arguments are i32 at `args` (the worker
 * threads' control block has no room for them). The workers share the steps by units (as the
 * forward pass does), then the blocks of dx rows and the rows of dKernel and dRecurrentKernel.
 * Each element is computed as with one worker, so the gradients are bitwise the same for any
 * number of workers.
 */
export function gruBackwardPart(args: usize, w: i32, workers: i32, sync: usize): void {
  backwardPart(
    load<i32>(args), load<i32>(args, 4), load<i32>(args, 8), load<i32>(args, 12), load<i32>(args, 16), load<i32>(args, 20),
    load<i32>(args, 24), load<i32>(args, 28), load<usize>(args, 32), load<usize>(args, 36), load<usize>(args, 40), load<usize>(args, 44),
    load<usize>(args, 48), load<usize>(args, 52), load<usize>(args, 56), load<usize>(args, 60), load<usize>(args, 64), load<usize>(args, 68),
    load<usize>(args, 72), load<usize>(args, 76), load<usize>(args, 80), load<usize>(args, 84), load<usize>(args, 88), load<usize>(args, 92),
    w, workers, sync,
  );
}

function backwardPart(
  B: i32, T: i32, D: i32, H: i32, Hp: i32, flags: i32, actF: i32, actG: i32,
  x: usize, mask: usize, inDrop: usize, recDrop: usize, keep: usize, out: usize, tIn: usize, tRec: usize,
  dOut: usize, dLast: usize, dInit: usize, dx: usize, dK: usize, dU: usize, dBias: usize, scratch: usize,
  w: i32, workers: i32, sync: usize,
): void {
  layout(B, D, Hp, flags, workers);
  const resetAfter = (flags & FLAG_RESET_AFTER) != 0;
  const backwards = (flags & FLAG_GO_BACKWARDS) != 0;
  const sequences = (flags & FLAG_RETURN_SEQUENCES) != 0;
  const hasMask = (flags & FLAG_MASK) != 0;
  const recDropout = (flags & FLAG_RECURRENT_DROPOUT) != 0;
  const inDropout = (flags & FLAG_INPUT_DROPOUT) != 0;
  const hp = <usize>Hp, hpB = hp << 2, rowB = hpB * 3, hB = <usize>H << 2, dB = <usize>D << 2;
  const bB = <usize>B;
  const Dp = (D + 7) & ~7, dpB = <usize>Dp << 2;
  const ppg = Hp / PANEL_COLS;
  const recT = <usize>H * hpB, inT = <usize>H * dpB; // bytes of one gate's transposed panels
  // Kept (read): states, pre-activations, activations, aux. Written: dP (pre), aux, h * mask_g (act).
  const states = keep, kPre = keep + keepPre(B, T, Hp), kAct = keep + keepAct(B, T, Hp), kAux = keep + keepAux(B, T, Hp);
  const pre = out, aux = out + gradAux(B, T, Hp), act = out + gradAct(B, T, Hp);
  const zero = scratch + sZero;
  const R = T * B;
  // This worker's units in the steps: padded columns [u0, u1) of every gate (whole groups of
  // panels, as in the forward pass), of which [u0, uH) are real. The GEMMs of a step read every
  // unit's gate gradients, so the workers meet once a step (twice without resetAfter).
  const p0 = sharePanel(w, workers, ppg), p1 = sharePanel(w + 1, workers, ppg), np = p1 - p0;
  const u0 = <usize>p0 * PANEL_COLS, u1 = <usize>p1 * PANEL_COLS, uH = min(u1, <usize>H);
  const colB = u0 << 2, endB = u1 << 2, realB = uH > u0 ? (uH - u0) << 2 : 0, realN = <i32>(realB >> 2);
  const recOff = <usize>p0 * (<usize>H << 5); // this worker's panels of a gate's U^T
  let dh = scratch + sDh, dhNext = scratch + sDh2;
  const tmp = scratch + sTmp, rm = scratch + sRm;
  // The step GEMMs read dG_g through 4-row panels (from 4 batch rows): each worker packs the
  // units it computed, before the barrier that publishes them. With workers, steps alternate
  // between two sets of panels: a worker may pack the next step while others still read this one.
  const packed = B >= 4, pkGate = <usize>((B + 3) >> 2) * (<usize>H << 4);
  const pkSet = f32s(3 * <usize>((B + 3) & ~3) * hp);
  const k0 = <i32>u0, k1 = <i32>max(uH, u0);
  if (w == 0) memory.fill(zero, 0, f32s(max(3 * hp, <usize>Dp)));
  if (recDropout) {
    for (let i = 0; i < 3 * B; i++) {
      memory.fill(rm + <usize>i * hpB + colB, 0, endB - colB);
      memory.copy(rm + <usize>i * hpB + colB, recDrop + <usize>i * hB + colB, realB);
    }
  }
  for (let b = 0; b < B; b++) {
    const d = dh + <usize>b * hpB + colB;
    memory.fill(d, 0, endB - colB);
    if (dLast) memory.copy(d, dLast + <usize>b * hB + colB, realB);
    if (!sequences) addRow(d, dOut + <usize>b * hB + colB, realN);
  }
  barrier(sync, workers);
  const one = f32x4.splat(1.0);

  for (let k = T - 1; k >= 0; k--) {
    const t = backwards ? T - 1 - k : k;
    const preK = pre + <usize>k * bB * rowB, actK = act + <usize>k * bB * rowB, auxK = aux + <usize>k * bB * hpB;
    const kPreK = kPre + <usize>k * bB * rowB, kActK = kAct + <usize>k * bB * rowB, kAuxK = kAux + <usize>k * bB * hpB;
    const stK = states + <usize>k * bB * hpB;
    const pk = scratch + sPk + (workers > 1 ? <usize>(k & 1) * pkSet : 0);
    for (let b = 0; b < B; b++) {
      const d = dh + <usize>b * hpB, dn = dhNext + <usize>b * hpB;
      if (sequences) addRow(d + colB, dOut + (<usize>b * <usize>T + <usize>k) * hB + colB, realN);
      const p = preK + <usize>b * rowB, a = actK + <usize>b * rowB, ax = auxK + <usize>b * hpB, hv = stK + <usize>b * hpB;
      const kp = kPreK + <usize>b * rowB, ka = kActK + <usize>b * rowB, kax = kAuxK + <usize>b * hpB;
      if (hasMask && load<u8>(mask + <usize>b * T + t) == 0) {
        // The state was carried: dh passes through, and the step contributes no gradient.
        for (let g: usize = 0; g < 3; g++) {
          memory.fill(p + g * hpB + colB, 0, endB - colB);
          if (recDropout) memory.fill(a + g * hpB + colB, 0, endB - colB);
        }
        if (resetAfter) memory.fill(ax + colB, 0, endB - colB);
        memory.copy(dn + colB, d + colB, endB - colB);
        continue;
      }
      const m0 = rm + <usize>b * hpB, m1 = m0 + bB * hpB, m2 = m1 + bB * hpB;
      for (let o = colB; o < endB; o += 16) {
        const dhv = v128.load(d + o), h = v128.load(hv + o);
        const z = v128.load(ka + o), r = v128.load(ka + hpB + o), hh = v128.load(ka + 2 * hpB + o);
        const dPreH = f32x4.mul(f32x4.mul(dhv, f32x4.sub(one, z)), gateGrad(actF, kp + 2 * hpB + o, hh));
        v128.store(p + 2 * hpB + o, dPreH);
        v128.store(p + o, f32x4.mul(f32x4.mul(dhv, f32x4.sub(h, hh)), gateGrad(actG, kp + o, z)));
        v128.store(dn + o, f32x4.mul(dhv, z));
        if (resetAfter) {
          // candidate pre = xh + r * (h_h U_h + b_h): the aux row held the bracket.
          const dPreR = f32x4.mul(f32x4.mul(dPreH, v128.load(kax + o)), gateGrad(actG, kp + hpB + o, r));
          v128.store(p + hpB + o, dPreR);
          v128.store(ax + o, f32x4.mul(dPreH, r));
          if (recDropout) v128.store(a + 2 * hpB + o, f32x4.mul(h, v128.load(m2 + o)));
        }
        // The recurrent weights' gradient reads h * mask_g from here (without dropout, the state).
        if (recDropout) {
          v128.store(a + o, f32x4.mul(h, v128.load(m0 + o)));
          // Without resetAfter gate 1's slot is written below, with the other r-dependent values.
          if (resetAfter) v128.store(a + hpB + o, f32x4.mul(h, v128.load(m1 + o)));
        }
      }
    }
    if (packed) {
      packPanelsA(preK, rowB, B, k0, k1, H, pk);
      if (resetAfter) packPanelsA(preK + hpB, rowB, B, k0, k1, H, pk + pkGate);
      packPanelsA(resetAfter ? auxK : preK + 2 * hpB, resetAfter ? hpB : rowB, B, k0, k1, H, pk + 2 * pkGate);
    }
    barrier(sync, workers);
    if (!resetAfter) {
      // candidate pre = xh + (r * h_h) U_h: dRh = dP_h U_h^T, then r's gradient and h_h's path.
      rowsGemm(packed, preK + 2 * hpB, rowB, pk + 2 * pkGate, B, H, tRec + 2 * recT + recOff, np, zero + colB, 0, tmp + colB, hpB);
      for (let b = 0; b < B; b++) {
        if (hasMask && load<u8>(mask + <usize>b * T + t) == 0) continue;
        const p = preK + <usize>b * rowB, a = actK + <usize>b * rowB, hv = stK + <usize>b * hpB;
        const kp = kPreK + <usize>b * rowB, ka = kActK + <usize>b * rowB;
        const dn = dhNext + <usize>b * hpB, dr = tmp + <usize>b * hpB;
        const m1 = rm + (bB + <usize>b) * hpB, m2 = m1 + bB * hpB;
        for (let o = colB; o < endB; o += 16) {
          const h = v128.load(hv + o), r = v128.load(ka + hpB + o), dRh = v128.load(dr + o);
          const hH = recDropout ? f32x4.mul(h, v128.load(m2 + o)) : h;
          v128.store(p + hpB + o, f32x4.mul(f32x4.mul(dRh, hH), gateGrad(actG, kp + hpB + o, r)));
          const back = f32x4.mul(dRh, r);
          v128.store(dn + o, f32x4.add(v128.load(dn + o), recDropout ? f32x4.mul(back, v128.load(m2 + o)) : back));
          if (recDropout) v128.store(a + hpB + o, f32x4.mul(h, v128.load(m1 + o)));
        }
      }
      if (packed) packPanelsA(preK + hpB, rowB, B, k0, k1, H, pk + pkGate);
      barrier(sync, workers);
    }
    // dh_prev += dG_g U_g^T (* the gate's recurrent mask), this worker's columns; masked rows'
    // dG are zero.
    const gates = resetAfter ? 3 : 2;
    for (let g = 0; g < gates; g++) {
      const src = g < 2 ? preK + <usize>g * hpB : auxK;
      const lda = g < 2 ? rowB : hpB;
      const wg = tRec + <usize>g * recT + recOff, ap = pk + <usize>g * pkGate;
      if (!recDropout) {
        rowsGemm(packed, src, lda, ap, B, H, wg, np, dhNext + colB, hpB, dhNext + colB, hpB);
        continue;
      }
      rowsGemm(packed, src, lda, ap, B, H, wg, np, zero + colB, 0, tmp + colB, hpB);
      for (let b = 0; b < B; b++) {
        const dn = dhNext + <usize>b * hpB, tr = tmp + <usize>b * hpB, m = rm + (<usize>g * bB + <usize>b) * hpB;
        for (let o = colB; o < endB; o += 16) v128.store(dn + o, f32x4.add(v128.load(dn + o), f32x4.mul(v128.load(tr + o), v128.load(m + o))));
      }
    }
    const swap = dh;
    dh = dhNext;
    dhNext = swap;
  }
  for (let b = 0; b < B; b++) memory.copy(dInit + <usize>b * hB + colB, dh + <usize>b * hpB + colB, realB);
  // Every worker reads what the steps wrote.
  barrier(sync, workers);
  // dx = sum_g (dP_g K_g^T) * input mask_g, a block of rows at a time, every workers-th block;
  // none when the caller wants no input gradients (dx and tIn are 0).
  const dxT = scratch + sDx + <usize>w * dxBlockBytes(D);
  // This worker's weightGrad blocks; dx packs its blocks of dP_g there first (DX_ROWS x H floats
  // fit: weightGradScratch is at least 128 x 4Hp).
  const ws = scratch + sW + <usize>w * weightGradScratch(max(D, Hp), 3 * Hp);
  for (let r0 = dx ? w * DX_ROWS : R; r0 < R; r0 += workers * DX_ROWS) {
    const rows = min(DX_ROWS, R - r0);
    for (let i = 0; i < rows; i++) {
      const r = r0 + i, k = r / B, b = r - k * B;
      memory.fill(dx + (<usize>b * <usize>T + <usize>(backwards ? T - 1 - k : k)) * dB, 0, dB);
    }
    for (let g = 0; g < 3; g++) {
      const dPg = pre + <usize>r0 * rowB + <usize>g * hpB;
      if (rows >= 4) packPanelsA(dPg, rowB, rows, 0, H, H, ws);
      rowsGemm(rows >= 4, dPg, rowB, ws, rows, H, tIn + <usize>g * inT, Dp >> 3, zero, 0, dxT, dpB);
      for (let i = 0; i < rows; i++) {
        const r = r0 + i, k = r / B, b = r - k * B;
        const t = backwards ? T - 1 - k : k;
        const dst = dx + (<usize>b * <usize>T + <usize>t) * dB, src = dxT + <usize>i * dpB;
        if (inDropout) {
          const m = inDrop + (<usize>g * bB + <usize>b) * dB;
          for (let j = 0; j < D; j++) {
            const o = <usize>j << 2;
            store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o) * load<f32>(m + o));
          }
        } else {
          addRow(dst, src, D);
        }
      }
    }
  }

  // dK_g = (x * input mask_g)^T dP_g; dU_g = (h * recurrent mask_g)^T dG_g. Without dropout every
  // gate reads the same rows (x; the state), so one call covers them; with it, the act slots now
  // hold each gate's h * mask_g. The kept aux rows hold r * h_h without resetAfter; with it, the aux slots hold dG_h.
  // This worker computes rows [d0, d1) of dK and [h0, h1) of dU.
  const d0 = shareStart(w, workers, D), d1 = shareStart(w + 1, workers, D), nd = d1 - d0;
  const h0 = shareStart(w, workers, H), h1 = shareStart(w + 1, workers, H), nu = h1 - h0;
  const dKw = dK + <usize>d0 * rowB, dUw = dU + <usize>h0 * rowB;
  const xo = <usize>d0 << 2, ho = <usize>h0 << 2;
  memory.fill(dKw, 0, <usize>nd * rowB);
  memory.fill(dUw, 0, <usize>nu * rowB);
  const xStrideB = <usize>T * dB;
  // Bias: column sums of dP (the input row), added up by the last worker (whose shares of dK and
  // dU are never empty) while its weightGrad calls pack those rows anyway. The recurrent row's z
  // and r are the same sums; its candidate part sums dG_h (resetAfter only; the kernels fold the
  // rest). Each sum runs over the rows in order, as one worker's pass over them did.
  const last = w == workers - 1;
  const bIn = last ? dBias : 0, bRec = last && resetAfter ? dBias + rowB + 2 * hpB : 0;
  if (last) memory.fill(dBias, 0, 2 * rowB);
  if (nd > 0) {
    if (!inDropout) {
      weightGrad(T, B, backwards, nd, 3 * ppg, x + xo, xStrideB, dB, 0, 0, pre, rowB, 0, 0, 0, dKw, rowB, ws, bIn, 0);
    } else {
      for (let g = 0; g < 3; g++) {
        const mult = inDrop + <usize>g * bB * dB + xo;
        const sums = bIn ? bIn + <usize>g * hpB : 0;
        weightGrad(T, B, backwards, nd, ppg, x + xo, xStrideB, dB, mult, dB, pre + <usize>g * hpB, rowB, 0, 0, 0, dKw + <usize>g * hpB, rowB, ws, sums, 0);
      }
    }
  }
  if (last) memory.copy(dBias + rowB, dBias, 2 * hpB);
  if (nu > 0) {
    const hStrideK = bB * hpB;
    if (!recDropout) {
      if (resetAfter) weightGrad(T, B, false, nu, 2 * ppg, states + ho, hpB, hStrideK, 0, 0, pre, rowB, aux, hpB, ppg, dUw, rowB, ws, 0, bRec);
      else weightGrad(T, B, false, nu, 2 * ppg, states + ho, hpB, hStrideK, 0, 0, pre, rowB, 0, 0, 0, dUw, rowB, ws, 0, 0);
    } else {
      for (let g = 0; g < 2; g++) {
        weightGrad(T, B, false, nu, ppg, act + <usize>g * hpB + ho, rowB, bB * rowB, 0, 0, pre + <usize>g * hpB, rowB, 0, 0, 0, dUw + <usize>g * hpB, rowB, ws, 0, 0);
      }
      if (resetAfter) weightGrad(T, B, false, nu, ppg, act + 2 * hpB + ho, rowB, bB * rowB, 0, 0, aux, hpB, 0, 0, 0, dUw + 2 * hpB, rowB, ws, bRec, 0);
    }
    // The kept r * h_h rows (forward zeroes masked ones) against dP_h.
    if (!resetAfter) weightGrad(T, B, false, nu, ppg, kAux + ho, hpB, hStrideK, 0, 0, pre + 2 * hpB, rowB, 0, 0, 0, dUw + 2 * hpB, rowB, ws, 0, 0);
  }
}
