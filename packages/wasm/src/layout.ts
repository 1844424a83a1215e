/**
 * Sizes shared by the packing code, the call planner and supports(): they mirror
 * assembly/forward.ts's layout (a test checks scratchBytes() against the module's own count).
 */

/** Columns per packed weight panel (assembly/gemm.ts). */
export const PANEL_COLS = 8;

/** Kernel flags (assembly/forward.ts). */
export const FLAGS = {
  resetAfter: 1,
  goBackwards: 2,
  returnSequences: 4,
  mask: 8,
  initialState: 16,
  inputDropout: 32,
  recurrentDropout: 64,
  /** Keep what backward needs after the scratch (assembly/keep.ts). */
  keep: 128,
} as const;

/** By default the input projection is computed for as many timesteps as fit in this many bytes. */
export const DEFAULT_PROJECTION_BUDGET = 2 * 1024 * 1024;

const align = (n: number) => Math.ceil(n / 64) * 64;
const f32s = (n: number) => align(n * 4);

/**
 * assembly/keep.ts keepBytes(): per step and batch row, the state before the step (Hp), the
 * gates' pre-activations and activations (3Hp each) and one auxiliary row (Hp).
 */
export function keepBytes(batch: number, timesteps: number, units: number): number {
  const rows = batch * timesteps;
  const hp = paddedUnits(units);
  return 2 * f32s(rows * hp) + 2 * f32s(rows * 3 * hp);
}

/** Units padded to whole panels. */
export function paddedUnits(units: number): number {
  return Math.ceil(units / PANEL_COLS) * PANEL_COLS;
}

/** Bytes of packed weights: input and recurrent panels, input and recurrent bias rows. */
export function weightBytes(inputDim: number, units: number): number {
  const hp = paddedUnits(units);
  return f32s(3 * hp * inputDim) + f32s(3 * hp * units) + 2 * f32s(3 * hp);
}

/**
 * Timesteps whose input projection is computed at once: all of them when that fits the budget,
 * else a multiple of 4 (the GEMM tile height), so long sequences run in bounded memory.
 */
export function projectionChunk(batch: number, timesteps: number, units: number, budget: number): number {
  const perStep = batch * 3 * paddedUnits(units) * 4;
  if (perStep * timesteps <= budget) return timesteps;
  return Math.min(timesteps, Math.max(4, Math.floor(budget / perStep / 4) * 4));
}

/** assembly/forward.ts scratchBytes(), in float64 arithmetic so huge sizes do not wrap. */
export function scratchBytes(batch: number, inputDim: number, units: number, flags: number, chunk: number, workers = 1): number {
  const hp = paddedUnits(units);
  let at = f32s(batch * chunk * 3 * hp) + 4 * f32s(batch * hp);
  if (flags & FLAGS.recurrentDropout) at += 3 * f32s(batch * hp);
  if (flags & FLAGS.inputDropout) at += workers * f32s(chunk * inputDim);
  return at;
}

/** assembly/backward.ts: rows of dx per block, and weight-grad.ts: rows per tile of weightGrad. */
const DX_ROWS = 256;
const WGRAD_ROWS = 128;

/** assembly/backward.ts backwardScratchBytes(), in float64 arithmetic so huge sizes do not wrap. */
export function backwardScratchBytes(batch: number, inputDim: number, units: number, flags: number, workers = 1): number {
  const hp = paddedUnits(units);
  const dp = paddedUnits(inputDim);
  // dh twice, one gate's share of dh_prev, and a zero row.
  let at = 3 * f32s(batch * hp) + f32s(Math.max(3 * hp, dp));
  if (flags & FLAGS.recurrentDropout) at += f32s(3 * batch * hp);
  // A step's three gate gradients as 4-row panels, two sets with workers.
  at += (workers > 1 ? 2 : 1) * f32s(3 * Math.ceil(batch / 4) * 4 * hp);
  // Each worker's block of dx, and weightGrad's tiles: up to max(D, Hp) columns of a, rounded up to
  // its 4-row panels, and 3Hp of g.
  const aCols = Math.ceil(Math.max(inputDim, hp) / 4) * 4;
  return at + workers * f32s(DX_ROWS * dp) + workers * WGRAD_ROWS * (aCols + 3 * hp) * 4;
}

/**
 * assembly/backward.ts gradRowsBytes(): the rows gruBackward writes instead of overwriting what
 * forward kept: dP [rows][3Hp], aux [rows][Hp], and with recurrent dropout h * mask_g [rows][3Hp].
 */
export function gradRowsBytes(batch: number, timesteps: number, units: number, flags: number): number {
  const rows = batch * timesteps;
  const hp = paddedUnits(units);
  return f32s(rows * 3 * hp) + f32s(rows * hp) + (flags & FLAGS.recurrentDropout ? f32s(rows * 3 * hp) : 0);
}

/** Byte offsets inside a backward call's one allocation (training.ts), and its size. */
export interface BackwardLayout {
  dOut: number;
  dLast: number;
  /** The weights the forward call used, transposed per gate. */
  tIn: number;
  tRec: number;
  dInit: number;
  dx: number;
  dK: number;
  dU: number;
  dBias: number;
  /** The rows gruBackward writes (gradRowsBytes); what the forward call kept is only read. */
  grads: number;
  /** gruBackward's arguments as i32, for the worker threads. */
  args: number;
  scratch: number;
  total: number;
}

/** Values in the args block: gruBackward's parameters. */
export const BACKWARD_ARG_COUNT = 24;

/**
 * Everything a backward call allocates besides the forward call it differentiates: one shape,
 * used by training.ts to lay the call out and by supports() to count it up front. Without
 * `inputGradients` there is no dx and no transposed input kernel (gruBackward skips dx).
 */
export function backwardLayout(shape: CallShape, workers = 1, inputGradients = true): BackwardLayout {
  const { batch: B, timesteps: T, inputDim: D, units: H, flags } = shape;
  const hp = paddedUnits(H);
  let at = 0;
  const take = (bytes: number) => {
    const start = at;
    at += align(bytes);
    return start;
  };
  const dOut = take((flags & FLAGS.returnSequences ? B * T * H : B * H) * 4);
  const dLast = take(B * H * 4);
  const tIn = take(inputGradients ? 3 * H * paddedUnits(D) * 4 : 0);
  const tRec = take(3 * H * hp * 4);
  const dInit = take(B * H * 4);
  const dx = take(inputGradients ? B * T * D * 4 : 0);
  const dK = take(D * 3 * hp * 4);
  const dU = take(H * 3 * hp * 4);
  const dBias = take(2 * 3 * hp * 4);
  const grads = take(gradRowsBytes(B, T, H, flags));
  const args = take(BACKWARD_ARG_COUNT * 4);
  const scratch = take(backwardScratchBytes(B, D, H, flags, workers));
  return { dOut, dLast, tIn, tRec, dInit, dx, dK, dU, dBias, grads, args, scratch, total: at };
}

export interface CallLayout {
  flags: number;
  chunk: number;
  /** Threads the call is laid out for (input dropout gives each its own scratch). */
  workers: number;
  /** Byte offsets inside the call's one allocation. */
  x: number;
  mask: number;
  h0: number;
  inDrop: number;
  recDrop: number;
  out: number;
  last: number;
  scratch: number;
  /** What a keepForBackward call keeps (0 bytes without FLAGS.keep), right after the scratch. */
  keep: number;
  total: number;
}

export interface CallShape {
  batch: number;
  timesteps: number;
  inputDim: number;
  units: number;
  flags: number;
}

/**
 * Offsets of every buffer one forward call copies in or reads back, plus the kernel's scratch
 * (for `workers` threads).
 */
export function callLayout(shape: CallShape, budget: number, workers = 1): CallLayout {
  const { batch: B, timesteps: T, inputDim: D, units: H, flags } = shape;
  const chunk = projectionChunk(B, T, H, budget);
  let at = 0;
  const take = (bytes: number) => {
    const start = at;
    at += align(bytes);
    return start;
  };
  const x = take(B * T * D * 4);
  const mask = flags & FLAGS.mask ? take(B * T) : 0;
  const h0 = flags & FLAGS.initialState ? take(B * H * 4) : 0;
  const inDrop = flags & FLAGS.inputDropout ? take(3 * B * D * 4) : 0;
  const recDrop = flags & FLAGS.recurrentDropout ? take(3 * B * H * 4) : 0;
  const out = flags & FLAGS.returnSequences ? take(B * T * H * 4) : 0;
  const last = take(B * H * 4);
  const scratch = take(scratchBytes(B, D, H, flags, chunk, workers));
  const keep = take(flags & FLAGS.keep ? keepBytes(B, T, H) : 0);
  return { flags, chunk, workers, x, mask, h0, inDrop, recDrop, out, last, scratch, keep, total: at };
}

/** How many worker threads a call is worth (see WasmBackendOptions). */
export interface Threading {
  workersFor(call: { batch: number; timesteps: number }, spec: { inputDim: number; units: number }, poolSize: number): number;
}

/** Workers share the units in whole groups of 4 panels (assembly/forward.ts), so at most this many. */
export function unitGroups(units: number): number {
  return Math.ceil(paddedUnits(units) / (4 * PANEL_COLS));
}

export function threading(syncBelowMacs: number, minStepMacsPerThread: number): Threading {
  return {
    workersFor({ batch: B, timesteps: T }, { inputDim: D, units: H }, poolSize) {
      if (B * T * 3 * H * (D + H) < syncBelowMacs) return 1;
      const byStep = minStepMacsPerThread > 0 ? Math.floor((B * 3 * H * H) / minStepMacsPerThread) : poolSize;
      return Math.max(1, Math.min(poolSize, unitGroups(H), byStep));
    },
  };
}

export const SINGLE_THREAD: Threading = { workersFor: () => 1 };
