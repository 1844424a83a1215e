import { gradReadsInput } from './activation-grads';
import { activateRow } from './activations';
import { gemm, PANEL_COLS } from './gemm';
import { FLAG_KEEP, keepAct, keepAux, keepPre } from './keep';
import { copyRow, zeroRow } from './rows';
import { barrier } from './sync';

// One whole GRU layer call: the input projection for a chunk of timesteps as one GEMM, then the
// recurrence step by step (one GEMM of the state against the recurrent panels, then the gates).
// The semantics are those of ForwardRequest in @gru/core's backend/types.ts.
//
// Threads (gru-threads.wasm): `workers` instances run gruForwardPart on one shared memory, each
// on its own share of the units: whole groups of 4 panels (32 units) of every gate, so each worker
// computes its units' input projections, recurrent GEMM columns, gates and new state, and reads
// only its own columns of the projections. The workers meet at a barrier once a step (twice with
// resetAfter false, whose candidate GEMM needs all of r * h; once more with recurrent dropout).
// Every output element is the same sum in the same order whoever computes it (see gemm.ts), so
// results are bitwise identical for any number of workers.
//
// Layout: H units are padded to Hp (a multiple of 8) per gate; gate g's columns start at g*Hp in
// every [3*Hp] row. Padding columns carry zero weights and are never read back as a state
// input (the recurrent GEMM reduces over the first H entries only), so their values are inert.

export const FLAG_RESET_AFTER: i32 = 1;
export const FLAG_GO_BACKWARDS: i32 = 2;
export const FLAG_RETURN_SEQUENCES: i32 = 4;
export const FLAG_MASK: i32 = 8;
export const FLAG_INITIAL_STATE: i32 = 16;
export const FLAG_INPUT_DROPOUT: i32 = 32;
export const FLAG_RECURRENT_DROPOUT: i32 = 64;

const ALIGN: usize = 64;

@inline function alignUp(n: usize): usize {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

@inline function f32s(n: usize): usize {
  return alignUp(n << 2);
}

// Where each scratch buffer lives, relative to the scratch base (set by layout()). Globals, not
// an object: the module has no allocator, so it must not create objects.
let sHA: usize = 0; // [B][Hp] state, double-buffered with sHB
let sHB: usize = 0;
let sGates: usize = 0; // [B][Hp] the candidate's recurrent part h x U_h + b_h (resetAfter)
let sRH: usize = 0; // [B][Hp] r * h (resetAfter false: the candidate GEMM's input)
let sHZ: usize = 0; // [B][Hp] x3: state times each gate's recurrent dropout mask
let sHR: usize = 0;
let sHH: usize = 0;
let sXS: usize = 0; // [workers][chunk][D] input times one gate's input dropout mask, one per worker

/**
 * Lays the scratch buffers out and returns their total size in bytes. The input projections
 * [B][chunk][3Hp] come first; each step adds its recurrent z and r parts (and with resetAfter
 * false the candidate's) into them in place, so the gates are computed where they are stored.
 */
function layout(B: i32, D: i32, Hp: i32, flags: i32, chunk: i32, workers: i32): usize {
  const b = <usize>B, hp = <usize>Hp;
  let at: usize = f32s(b * <usize>chunk * 3 * hp);
  sHA = at; at += f32s(b * hp);
  sHB = at; at += f32s(b * hp);
  sGates = at; at += f32s(b * hp);
  sRH = at; at += f32s(b * hp);
  if (flags & FLAG_RECURRENT_DROPOUT) {
    sHZ = at; at += f32s(b * hp);
    sHR = at; at += f32s(b * hp);
    sHH = at; at += f32s(b * hp);
  }
  if (flags & FLAG_INPUT_DROPOUT) {
    sXS = at; at += <usize>workers * f32s(<usize>chunk * <usize>D);
  }
  return at;
}

/** Bytes of scratch memory a call needs (64-byte aligned base). */
export function scratchBytes(B: i32, D: i32, Hp: i32, flags: i32, chunk: i32, workers: i32): usize {
  return layout(B, D, Hp, flags, chunk, workers);
}

/** dst[i] = src[i] * m[i] for n floats (n a multiple of 4 not required: scalar tail). */
function mulRow(dst: usize, src: usize, m: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.mul(v128.load(src + o), v128.load(m + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o) * load<f32>(m + o));
  }
}

/** The first panel of worker `w`'s share of a gate's `ppg` panels (shares are whole groups of 4). */
@inline export function sharePanel(w: i32, workers: i32, ppg: i32): i32 {
  const groups = (ppg + 3) >> 2;
  return min(ppg, ((w * groups) / workers) << 2);
}

/** Runs a whole GRU layer call on one thread. */
export function gruForward(
  B: i32, T: i32, D: i32, H: i32, Hp: i32, flags: i32, actF: i32, actG: i32, chunk: i32,
  x: usize, wIn: usize, wRec: usize, biasIn: usize, biasRec: usize,
  h0: usize, mask: usize, inDrop: usize, recDrop: usize,
  out: usize, last: usize, scratch: usize,
): void {
  gruForwardPart(B, T, D, H, Hp, flags, actF, actG, chunk, x, wIn, wRec, biasIn, biasRec, h0, mask, inDrop, recDrop, out, last, scratch, 0, 1, 0);
}

/**
 * Worker `w` of `workers`' share of a whole GRU layer call (all of it when workers is 1). Bias
 * rows are padded to 3*Hp: `biasIn` is the input bias, plus the recurrent bias for z and r when
 * resetAfter (they are only ever summed); `biasRec` holds the candidate's recurrent bias b_h at
 * [2Hp, 3Hp) (zeros unless resetAfter). `sync` is the workers' barrier (12 bytes, zeroed).
 */
export function gruForwardPart(
  B: i32, T: i32, D: i32, H: i32, Hp: i32, flags: i32, actF: i32, actG: i32, chunk: i32,
  x: usize, wIn: usize, wRec: usize, biasIn: usize, biasRec: usize,
  h0: usize, mask: usize, inDrop: usize, recDrop: usize,
  out: usize, last: usize, scratch: usize,
  w: i32, workers: i32, sync: usize,
): void {
  // With FLAG_KEEP, what backward needs is kept right after the scratch (see keep.ts).
  const kStates = scratch + layout(B, D, Hp, flags, chunk, workers);
  const keep = (flags & FLAG_KEEP) != 0;
  // Backward reads a gate's kept pre-activations only where its activation's derivative needs x.
  const keepPreG = keep && gradReadsInput(actG) != 0, keepPreF = keep && gradReadsInput(actF) != 0;
  const kPre = kStates + keepPre(B, T, Hp), kAct = kStates + keepAct(B, T, Hp), kAux = kStates + keepAux(B, T, Hp);
  const proj = scratch;
  let gates = scratch + sGates, rh = scratch + sRH;
  let hPrev = scratch + sHA, hNext = scratch + sHB;
  const resetAfter = (flags & FLAG_RESET_AFTER) != 0;
  const backwards = (flags & FLAG_GO_BACKWARDS) != 0;
  const sequences = (flags & FLAG_RETURN_SEQUENCES) != 0;
  const hasMask = (flags & FLAG_MASK) != 0;
  const recDropout = (flags & FLAG_RECURRENT_DROPOUT) != 0;
  const inDropout = (flags & FLAG_INPUT_DROPOUT) != 0;

  const hp = <usize>Hp, hpB = hp << 2, rowB = hpB * 3, hB = <usize>H << 2, dB = <usize>D << 2;
  const ppg = Hp / PANEL_COLS; // panels per gate
  const recPanelB = <usize>H << 5, inPanelB = <usize>D << 5; // bytes of one panel
  const gatePanels = <usize>ppg * recPanelB; // bytes of one gate's recurrent panels
  const inGatePanels = <usize>ppg * inPanelB;

  // This worker's units: padded columns [u0, u1) of every gate, of which [u0, uH) are real.
  const p0 = sharePanel(w, workers, ppg), p1 = sharePanel(w + 1, workers, ppg), np = p1 - p0;
  const u0 = <usize>p0 * PANEL_COLS, u1 = <usize>p1 * PANEL_COLS, uH = min(u1, <usize>H);
  const colB = u0 << 2, shareB = (u1 - u0) << 2, realB = uH > u0 ? (uH - u0) << 2 : 0;
  const recOff = <usize>p0 * recPanelB, inOff = <usize>p0 * inPanelB;
  // A kept call computes in the kept rows themselves, so nothing is copied into them: the step's
  // state rows are the kept states (only the last new state goes to scratch), the projections and
  // gates are the kept act rows, the aux rows are where the candidate's recurrent part (resetAfter)
  // or r * h is computed. Masked rows' values there are never read by backward.
  const kStepB = <usize>B * hpB, kStepRowB = <usize>B * rowB;
  if (keep) {
    hPrev = kStates;
    if (T > 1) hNext = kStates + kStepB;
  }

  // Initial state, padded with zeros.
  for (let b = 0; b < B; b++) {
    const o = <usize>b * hpB + colB;
    zeroRow(hPrev + o, shareB);
    zeroRow(hNext + o, shareB);
    zeroRow(rh + o, shareB);
    if (flags & FLAG_INITIAL_STATE) copyRow(hPrev + o, h0 + <usize>b * hB + colB, realB);
  }
  barrier(sync, workers);

  const nChunks = (T + chunk - 1) / chunk;
  const chunkRowsB = <usize>chunk * rowB; // one batch row's block of projections
  for (let ci = 0; ci < nChunks; ci++) {
    const c = backwards ? nChunks - 1 - ci : ci;
    const t0 = c * chunk;
    const tc = min(chunk, T - t0);

    // Input projection (+ bias) of this worker's columns for timesteps t0..t0+tc-1 of every
    // batch row. Only this worker reads them, so no barrier follows.
    const xChunk = x + <usize>t0 * dB;
    const xStride = <usize>T * dB;
    // Where timestep t0's projections go, and the distances between timesteps and batch rows:
    // the scratch block, or the kept act rows of processing index k (in reverse order when the
    // call goes backwards: the distance then wraps around, which wasm32 addresses do exactly).
    let pBase = proj, pRow = rowB, pBatch = chunkRowsB;
    if (keep) {
      pBase = kAct + <usize>(backwards ? T - 1 - t0 : t0) * kStepRowB;
      pRow = backwards ? 0 - kStepRowB : kStepRowB;
      pBatch = rowB;
    }
    for (let g = 0; g < 3; g++) {
      const gateOff = <usize>g * hpB + colB;
      const wg = wIn + <usize>g * inGatePanels + inOff;
      if (!inDropout) {
        gemm(xChunk, dB, tc, B, xStride, D, wg, np, biasIn + gateOff, 0, 0, pBase + gateOff, pRow, pBatch);
      } else {
        const xs = scratch + sXS + <usize>w * f32s(<usize>chunk * <usize>D);
        for (let b = 0; b < B; b++) {
          const m = inDrop + (<usize>(g * B + b)) * dB;
          for (let k = 0; k < tc; k++) mulRow(xs + <usize>k * dB, xChunk + <usize>b * xStride + <usize>k * dB, m, D);
          gemm(xs, dB, tc, 1, 0, D, wg, np, biasIn + gateOff, 0, 0, pBase + <usize>b * pBatch + gateOff, pRow, 0);
        }
      }
    }

    for (let kk = 0; kk < tc; kk++) {
      const t = backwards ? t0 + tc - 1 - kk : t0 + kk;
      const k = backwards ? T - 1 - t : t; // processing index: where the output goes
      // Row b of this step's gates: gt + b*pBatch, columns z | r | h.
      const gt = pBase + <usize>(t - t0) * pRow;
      if (keep) {
        hPrev = kStates + <usize>k * kStepB;
        hNext = k + 1 < T ? hPrev + kStepB : scratch + sHB;
        gates = kAux + <usize>k * kStepB;
        rh = gates;
      }
      let inZ = hPrev, inR = hPrev, inH = hPrev;
      if (recDropout) {
        inZ = scratch + sHZ;
        inR = scratch + sHR;
        inH = scratch + sHH;
        for (let b = 0; b < B; b++) {
          const o = <usize>b * hpB + colB, mo = <usize>b * hB + colB, n = <i32>(realB >> 2);
          mulRow(inZ + o, hPrev + o, recDrop + mo, n);
          mulRow(inR + o, hPrev + o, recDrop + <usize>B * hB + mo, n);
          mulRow(inH + o, hPrev + o, recDrop + <usize>(2 * B) * hB + mo, n);
        }
        barrier(sync, workers);
      }

      // z and r pre-activations: the projections plus the state's recurrent part, in place.
      gemm(inZ, hpB, B, 1, 0, H, wRec + recOff, np, gt + colB, pBatch, 0, gt + colB, pBatch, 0);
      gemm(inR, hpB, B, 1, 0, H, wRec + gatePanels + recOff, np, gt + hpB + colB, pBatch, 0, gt + hpB + colB, pBatch, 0);
      // resetAfter: the candidate's recurrent part h x U_h + b_h, which r scales.
      if (resetAfter) gemm(inH, hpB, B, 1, 0, H, wRec + 2 * gatePanels + recOff, np, biasRec + 2 * hpB + colB, 0, 0, gates + colB, hpB, 0);

      for (let b = 0; b < B; b++) {
        if (hasMask && load<u8>(mask + <usize>b * T + t) == 0) {
          // The candidate GEMM reads this row of r * h (its result is dropped); a kept row was
          // never written, so it gets zeros rather than whatever the memory held.
          if (keep && !resetAfter) zeroRow(rh + <usize>b * hpB + colB, shareB);
          continue;
        }
        const row = gt + <usize>b * pBatch;
        const kRow = (<usize>k * <usize>B + <usize>b) * rowB;
        if (keepPreG) {
          copyRow(kPre + kRow + colB, row + colB, shareB);
          copyRow(kPre + kRow + hpB + colB, row + hpB + colB, shareB);
        }
        activateRow(actG, row + colB, np * PANEL_COLS, <i32>(realB >> 2));
        activateRow(actG, row + hpB + colB, np * PANEL_COLS, <i32>(realB >> 2));
        if (!resetAfter) {
          // The candidate's recurrent input is r * h (h with the h-gate dropout mask).
          const hRow = inH + <usize>b * hpB, rRow = row + hpB, dst = rh + <usize>b * hpB;
          for (let o = colB; o < colB + shareB; o += 16) v128.store(dst + o, f32x4.mul(v128.load(rRow + o), v128.load(hRow + o)));
        }
      }
      // resetAfter false: the candidate pre-activation gets (r * h) x U_h, in place; it needs
      // every worker's part of r * h.
      if (!resetAfter) {
        barrier(sync, workers);
        gemm(rh, hpB, B, 1, 0, H, wRec + 2 * gatePanels + recOff, np, gt + 2 * hpB + colB, pBatch, 0, gt + 2 * hpB + colB, pBatch, 0);
      }

      // Candidate and new state; a masked row carries its state.
      const one = f32x4.splat(1.0);
      for (let b = 0; b < B; b++) {
        const prev = hPrev + <usize>b * hpB, next = hNext + <usize>b * hpB;
        if (hasMask && load<u8>(mask + <usize>b * T + t) == 0) {
          copyRow(next + colB, prev + colB, shareB);
          continue;
        }
        const zRow = gt + <usize>b * pBatch, rRow = zRow + hpB, cand = zRow + (hpB << 1);
        const kRow = (<usize>k * <usize>B + <usize>b) * rowB + (hpB << 1);
        if (resetAfter) {
          const gH = gates + <usize>b * hpB;
          for (let o = colB; o < colB + shareB; o += 16) {
            v128.store(cand + o, f32x4.add(v128.load(cand + o), f32x4.mul(v128.load(rRow + o), v128.load(gH + o))));
          }
        }
        if (keepPreF) copyRow(kPre + kRow + colB, cand + colB, shareB);
        activateRow(actF, cand + colB, np * PANEL_COLS, <i32>(realB >> 2));
        for (let o = colB; o < colB + shareB; o += 16) {
          const z = v128.load(zRow + o);
          v128.store(next + o, f32x4.add(f32x4.mul(z, v128.load(prev + o)), f32x4.mul(f32x4.sub(one, z), v128.load(cand + o))));
        }
      }

      if (sequences) {
        for (let b = 0; b < B; b++) copyRow(out + (<usize>b * <usize>T + <usize>k) * hB + colB, hNext + <usize>b * hpB + colB, realB);
      }
      const tmp = hPrev;
      hPrev = hNext;
      hNext = tmp;
      // Every worker's part of the new state is written before any worker's next GEMM reads it.
      barrier(sync, workers);
    }
  }
  for (let b = 0; b < B; b++) copyRow(last + <usize>b * hB + colB, hPrev + <usize>b * hpB + colB, realB);
}
