import { activationFunctions } from '../activations-wgsl.js';
import { hasRowActivation } from '../activations-rowwise-wgsl.js';
import { weightTypeHeader, type KernelShape } from './common.js';
import { fusedRowwiseDecls, fusedRowwiseStep, rowwiseWorkgroupFloats, stepRowKernels } from './rowwise.js';

/** Invocations per workgroup of the per-step kernels (one per unit). */
export const STEP_WG = 64;
/** Batch rows one invocation of the per-step kernels computes (sharing each weight it reads). */
export const STEP_ROWS = 4;

/**
 * Per-call settings, one uniform for every kernel of a call. Flags are uniform branches, so one
 * compiled pipeline serves calls with and without masks, dropout or returnSequences.
 */
const PARAMS = `struct Params { B: u32, T: u32, hasMask: u32, hasDrop: u32, retSeq: u32, back: u32, H: u32, G: u32 }`;

/** Bindings shared by the recurrence kernels (same numbers in both paths). */
const BINDINGS = `
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> proj: array<f32>;
@group(0) @binding(2) var<storage, read> rkernel: array<WT>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;
@group(0) @binding(5) var<storage, read_write> outSeq: array<f32>;
@group(0) @binding(6) var<storage, read> mask: array<u32>;
@group(0) @binding(7) var<storage, read> rdrop: array<f32>;
`;

/**
 * `units` is a uniform, not a constant: one compiled pipeline then serves every layer with the
 * same activations and resetAfter (shader compiles are slow, on software drivers most of all),
 * and loops over units are not unrolled per layer size.
 */
function header(s: Pick<KernelShape, 'f16' | 'activation' | 'recurrentActivation'>): string {
  return `${weightTypeHeader(s.f16)}
${PARAMS}
${BINDINGS}
${activationFunctions(s.activation, s.recurrentActivation)}
`;
}

/**
 * The stepwise path: one dispatch per timestep (two when resetAfter is false), all encoded in one
 * compute pass, so the GPU runs the whole sequence without returning to JavaScript. The step
 * number comes from a uniform at a dynamic offset; the state ping-pongs between two slots of
 * `state` ([2, B, H]). An invocation computes one unit for STEP_ROWS batch rows, so each
 * recurrent-kernel value read from memory serves that many rows; the previous states are staged
 * through workgroup memory in chunks of STEP_WG units.
 *
 * Returns the kernels in dispatch order: [full step] when resetAfter, else [gates, candidate]
 * (the candidate needs `r * h` for every unit first, hence the split). A layer with a row-wise
 * activation gets its step kernels writing pre-activations to `scratch` instead, each followed by
 * a row kernel (stepRowKernels: one workgroup per batch row) that activates and finishes:
 * [step, finish] or [gates, row gates, candidate, finish]; `perRow` marks the row kernels.
 */
export function stepShaders(s: KernelShape): { codes: string[]; perRow: boolean[] } {
  const R = STEP_ROWS;
  const rowwise = hasRowActivation(s);
  const stepDecl = `
struct Step { k: u32, t: u32, src: u32, dst: u32 }
@group(1) @binding(0) var<uniform> st: Step;
@group(0) @binding(8) var<storage, read_write> scratch: array<f32>;
const ROWS: u32 = ${R}u;
`;
  const col = (c: 'z' | 'r' | 'h') => (c === 'z' ? 'j' : c === 'r' ? 'H + j' : '2u * H + j');
  // Dot products of the rows' (dropout-scaled) previous states with up to three kernel columns.
  const dots = (cols: Array<'z' | 'r' | 'h'>) => `
  for (var u0 = 0u; u0 < H; u0 += ${STEP_WG}u) {
    let u = u0 + lid.x;
    for (var r = 0u; r < ROWS; r++) {
      let b = b0 + r;
      var hv = 0.0;
      var mz = 1.0; var mr = 1.0; var mh = 1.0;
      if (u < H && b < p.B) {
        hv = state[st.src * p.B * H + b * H + u];
        if (p.hasDrop != 0u) {
          mz = rdrop[b * H + u];
          mr = rdrop[p.B * H + b * H + u];
          mh = rdrop[2u * p.B * H + b * H + u];
        }
      }
      sz[r][lid.x] = hv * mz; sr[r][lid.x] = hv * mr; sh[r][lid.x] = hv * mh;
    }
    workgroupBarrier();
    if (j < H) {
      let n = min(${STEP_WG}u, H - u0);
      for (var uu = 0u; uu < n; uu++) {
        let row = (u0 + uu) * G;
        ${cols.map((c) => `let w${c} = f32(rkernel[row + ${col(c)}]);`).join('\n        ')}
        for (var r = 0u; r < ROWS; r++) {
          ${cols.map((c) => `a${c}[r] = fma(s${c}[r][uu], w${c}, a${c}[r]);`).join('\n          ')}
        }
      }
    }
    workgroupBarrier();
  }`;
  const shared = `var<workgroup> sz: array<array<f32, ${STEP_WG}>, ${R}>;
var<workgroup> sr: array<array<f32, ${STEP_WG}>, ${R}>;
var<workgroup> sh: array<array<f32, ${STEP_WG}>, ${R}>;`;
  const entry = `@compute @workgroup_size(${STEP_WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let H = p.H;
  let G = p.G;
  let b0 = wg.y * ROWS;
  let j = wg.x * ${STEP_WG}u + lid.x;`;
  const accumulators = (cols: string[]) => cols.map((c) => `var a${c}: array<f32, ${R}>;`).join(' ');
  // Per row: the new state (or, at a masked step, the carried one) and the step's output.
  const finish = `
    let prev = state[st.src * p.B * H + b * H + j];
    var hn = z * prev + (1.0 - z) * cand;
    if (p.hasMask != 0u && mask[b * p.T + st.t] == 0u) { hn = prev; }
    state[st.dst * p.B * H + b * H + j] = hn;
    if (p.retSeq != 0u) { outSeq[(b * p.T + st.k) * H + j] = hn; }`;
  const forRows = (body: string) => `
  if (j >= H) { return; }
  for (var r = 0u; r < ROWS; r++) {
    let b = b0 + r;
    if (b >= p.B) { break; }
    let pb = (b * p.T + st.t) * G;${body}
  }`;

  const rows = rowwise ? stepRowKernels(s, `${header(s)}${stepDecl}`, finish, fusedGeometry(s.units)) : undefined;
  if (s.resetAfter) {
    const step = `${header(s)}${stepDecl}${shared}
${entry}
  ${accumulators(['z', 'r', 'h'])}
  ${dots(['z', 'r', 'h'])}
  ${forRows(
    rows
      ? `
    scratch[b * H + j] = proj[pb + j] + az[r] + bias[G + j];
    scratch[p.B * H + b * H + j] = proj[pb + H + j] + ar[r] + bias[G + H + j];
    scratch[2u * p.B * H + b * H + j] = ah[r] + bias[G + 2u * H + j];`
      : `
    let z = ract(proj[pb + j] + az[r] + bias[G + j]);
    let rg = ract(proj[pb + H + j] + ar[r] + bias[G + H + j]);
    let cand = act(proj[pb + 2u * H + j] + rg * (ah[r] + bias[G + 2u * H + j]));${finish}`,
  )}
}
`;
    return rows ? { codes: [step, rows.finish], perRow: [false, true] } : { codes: [step], perRow: [false] };
  }
  // resetAfter=false: scratch holds z ([0, B, H]) and r * h ([1, B, H]) between the two kernels
  // (row-wise layers: the pre-activations of z and r, then of the candidate in [2, B, H]).
  const gates = `${header(s)}${stepDecl}${shared}
${entry}
  ${accumulators(['z', 'r'])}
  ${dots(['z', 'r'])}
  ${forRows(
    rows
      ? `
    scratch[b * H + j] = proj[pb + j] + az[r];
    scratch[p.B * H + b * H + j] = proj[pb + H + j] + ar[r];`
      : `
    let z = ract(proj[pb + j] + az[r]);
    let rg = ract(proj[pb + H + j] + ar[r]);
    var hh = state[st.src * p.B * H + b * H + j];
    if (p.hasDrop != 0u) { hh *= rdrop[2u * p.B * H + b * H + j]; }
    scratch[b * H + j] = z;
    scratch[p.B * H + b * H + j] = rg * hh;`,
  )}
}
`;
  const candidate = `${header(s)}${stepDecl}
var<workgroup> srh: array<array<f32, ${STEP_WG}>, ${R}>;
${entry}
  var ah: array<f32, ${R}>;
  for (var u0 = 0u; u0 < H; u0 += ${STEP_WG}u) {
    let u = u0 + lid.x;
    for (var r = 0u; r < ROWS; r++) {
      let b = b0 + r;
      var v = 0.0;
      if (u < H && b < p.B) { v = scratch[p.B * H + b * H + u]; }
      srh[r][lid.x] = v;
    }
    workgroupBarrier();
    if (j < H) {
      let n = min(${STEP_WG}u, H - u0);
      for (var uu = 0u; uu < n; uu++) {
        let w = f32(rkernel[(u0 + uu) * G + 2u * H + j]);
        for (var r = 0u; r < ROWS; r++) { ah[r] = fma(srh[r][uu], w, ah[r]); }
      }
    }
    workgroupBarrier();
  }
  ${forRows(
    rows
      ? `
    scratch[2u * p.B * H + b * H + j] = proj[pb + 2u * H + j] + ah[r];`
      : `
    let z = scratch[b * H + j];
    let cand = act(proj[pb + 2u * H + j] + ah[r]);${finish}`,
  )}
}
`;
  if (rows?.gates) return { codes: [gates, rows.gates, candidate, rows.finish], perRow: [false, true, false, true] };
  return { codes: [gates, candidate], perRow: [false, false] };
}

/**
 * The fused kernel is compiled for a capacity (a power of two >= units, at least 32) rather than
 * the exact unit count, so layers of similar size share one pipeline. Returns the capacity, the
 * workgroup size and how many units each invocation owns.
 */
export function fusedGeometry(units: number): { cap: number; wg: number; perThread: number } {
  let cap = 32;
  while (cap < units) cap *= 2;
  const wg = Math.min(cap, 256);
  return { cap, wg, perThread: cap / wg };
}

/**
 * Bytes of workgroup memory the fused kernel needs (state, dropout-scaled copies, r * h, and for
 * row-wise activations a staged row and the reduction's buffer).
 */
export function fusedWorkgroupBytes(s: Pick<KernelShape, 'units' | 'resetAfter' | 'activation' | 'recurrentActivation'>, withDropout: boolean): number {
  const { cap, wg } = fusedGeometry(s.units);
  return 4 * (cap * (1 + (withDropout ? 3 : 0) + (s.resetAfter ? 0 : 1)) + rowwiseWorkgroupFloats(s, cap, wg));
}

/**
 * The fused path: one workgroup per batch row runs every timestep in a loop, keeping the state
 * in workgroup memory; batch rows are independent, so workgroup barriers are the only
 * synchronisation and the whole sequence is a single dispatch. Used when the state (and its
 * dropout-scaled copies) fits in workgroup memory.
 */
export function fusedShader(s: KernelShape, withDropout: boolean): string {
  const { cap, wg, perThread } = fusedGeometry(s.units);
  const hz = withDropout ? 'hz' : 'hs';
  const hr = withDropout ? 'hr' : 'hs';
  const hh = withDropout ? 'hh' : 'hs';
  const forUnits = (body: string) => `for (var i = 0u; i < NPT; i++) {
      let j = l + i * WG;
      if (j < H) {
        ${body}
      }
    }`;
  const refreshCopies = withDropout ? 'hz[j] = v * m0[i]; hr[j] = v * m1[i]; hh[j] = v * m2[i];' : '';
  const rowwise = hasRowActivation(s);
  // Each unit's gates from its own pre-activations (row-wise layers: fusedRowwiseStep).
  const elementwiseStep = () => `var zs: array<f32, NPT>;
    ${forUnits(`var az = 0.0; var ar = 0.0; var ah = 0.0;
        for (var u = 0u; u < H; u++) {
          let row = u * G;
          az = fma(${hz}[u], f32(rkernel[row + j]), az);
          ar = fma(${hr}[u], f32(rkernel[row + H + j]), ar);
          ${s.resetAfter ? `ah = fma(${hh}[u], f32(rkernel[row + 2u * H + j]), ah);` : ''}
        }
        let z = ract(proj[pb + j] + az + bias[G + j]);
        let r = ract(proj[pb + H + j] + ar + bias[G + H + j]);
        ${
          s.resetAfter
            ? `let cand = act(proj[pb + 2u * H + j] + r * (ah + bias[G + 2u * H + j]));
        hn[i] = z * hs[j] + (1.0 - z) * cand;`
            : `zs[i] = z;
        rh[j] = r * ${hh}[j];`
        }`)}
    ${
      s.resetAfter
        ? ''
        : `workgroupBarrier();
    ${forUnits(`var ah = 0.0;
        for (var u = 0u; u < H; u++) { ah = fma(rh[u], f32(rkernel[u * G + 2u * H + j]), ah); }
        let cand = act(proj[pb + 2u * H + j] + ah);
        hn[i] = zs[i] * hs[j] + (1.0 - zs[i]) * cand;`)}`
    }`;
  return `${header(s)}
const WG: u32 = ${wg}u;
const NPT: u32 = ${perThread}u;
const CAP: u32 = ${cap}u;
var<workgroup> hs: array<f32, CAP>;
${withDropout ? 'var<workgroup> hz: array<f32, CAP>;\nvar<workgroup> hr: array<f32, CAP>;\nvar<workgroup> hh: array<f32, CAP>;' : ''}
${s.resetAfter ? '' : 'var<workgroup> rh: array<f32, CAP>;'}
${rowwise ? fusedRowwiseDecls(s) : ''}

@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wgid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let H = p.H;
  let G = p.G;
  let b = wgid.x;
  let l = lid.x;
  var m0: array<f32, NPT>; var m1: array<f32, NPT>; var m2: array<f32, NPT>;
  ${forUnits(`let v = state[b * H + j];
        hs[j] = v;
        ${
          withDropout
            ? `m0[i] = rdrop[b * H + j]; m1[i] = rdrop[p.B * H + b * H + j]; m2[i] = rdrop[2u * p.B * H + b * H + j];
        ${refreshCopies}`
            : ''
        }`)}
  workgroupBarrier();
  for (var k = 0u; k < p.T; k++) {
    let t = select(k, p.T - 1u - k, p.back != 0u);
    let pb = (b * p.T + t) * G;
    var keep = true;
    if (p.hasMask != 0u) { keep = mask[b * p.T + t] != 0u; }
    var hn: array<f32, NPT>;
    ${rowwise ? fusedRowwiseStep(s, { hz, hr, hh }, forUnits) : elementwiseStep()}
    workgroupBarrier();
    ${forUnits(`let v = select(hs[j], hn[i], keep);
        hs[j] = v;
        ${refreshCopies}
        if (p.retSeq != 0u) { outSeq[(b * p.T + k) * H + j] = v; }`)}
    workgroupBarrier();
  }
  ${forUnits('state[b * H + j] = hs[j];')}
}
`;
}
