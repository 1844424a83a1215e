import { activationFunctions, derivativeFunctions } from '../activations-wgsl.js';
import { weightTypeHeader, type KernelShape } from './common.js';
import { fusedGeometry } from './recurrence.js';

/** Invocations per workgroup of every backward kernel (one per unit, column or input feature). */
export const BWD_WG = 64;

/**
 * Per-call settings of the backward pass (one uniform for every kernel of a call). `work` holds,
 * at these float offsets: the output gradient sequence (dOut), the state gradient ping-pong
 * (dh, [2, B, H]), per-step scratch (scr, [5, B, H]: z, z's pre-activation, r, r's
 * pre-activation, the gradient reaching r * h), the pre-activation gradients of every step
 * (dPre, [B, T, 3H] by original timestep) and a per-step [B, T, H] side array (aux: the
 * gradient of the reset gate's recurrent term when resetAfter, else r * h). `out` holds dx, dK,
 * dR and dBias at oDx, oDK, oDR, oDB.
 */
export const BWD_PARAMS_WORDS = 24;
const PARAMS = `struct BP {
  B: u32, T: u32, H: u32, G: u32,
  D: u32, hasMask: u32, hasDrop: u32, retSeq: u32,
  seqOff: u32, dOutOff: u32, dhOff: u32, scrOff: u32,
  dPreOff: u32, auxOff: u32, xdStride: u32, hasXDrop: u32,
  oDx: u32, oDK: u32, oDR: u32, oDB: u32,
  back: u32, _a: u32, _b: u32, _c: u32,
}`;

/**
 * `states` is [B, H] initial state (padded to a storage-offset boundary) then the forward pass's
 * output sequence [B, T, H] in processing order: the state before step k is the initial state
 * (k = 0) or the output of step k - 1.
 */
const HELPERS = `
fn stateBase(b: u32, k: u32) -> u32 {
  return select(p.seqOff + (b * p.T + k - 1u) * p.H, b * p.H, k == 0u);
}
fn rmask(g: u32, b: u32, u: u32) -> f32 {
  if (p.hasDrop == 0u) { return 1.0; }
  return rdrop[(g * p.B + b) * p.H + u];
}
`;

function header(s: KernelShape, bindings: string): string {
  return `${weightTypeHeader(s.f16)}
${PARAMS}
@group(0) @binding(0) var<uniform> p: BP;
${bindings}
${activationFunctions(s.activation, s.recurrentActivation)}
${derivativeFunctions(s.activation, s.recurrentActivation)}
${HELPERS}
`;
}

/** Bindings of the per-step kernels; `rk` is the recurrent kernel, or its transpose [3H, H] (f32). */
const stepBindings = (transposed: boolean) => `
@group(0) @binding(1) var<storage, read> proj: array<f32>;
@group(0) @binding(2) var<storage, read> rk: array<${transposed ? 'f32' : 'WT'}>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> states: array<f32>;
@group(0) @binding(5) var<storage, read> mask: array<u32>;
@group(0) @binding(6) var<storage, read> rdrop: array<f32>;
@group(0) @binding(7) var<storage, read_write> work: array<f32>;
struct Step { k: u32, t: u32, src: u32, dst: u32 }
@group(1) @binding(0) var<uniform> st: Step;
`;

const stepEntry = `@compute @workgroup_size(${BWD_WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let H = p.H;
  let G = p.G;
  let BH = p.B * H;
  let b = wg.y;
  let j = wg.x * ${BWD_WG}u + lid.x;
  if (j >= H) { return; }
  let m = b * p.T + st.t;
  let pb = m * G;
  let keep = p.hasMask == 0u || mask[m] != 0u;
  let hb = stateBase(b, st.k);
  let dh = work[p.dhOff + st.src * BH + b * H + j];
  let scr = p.scrOff + b * H + j;`;

/** Dot products of the (dropout-scaled) previous state with recurrent-kernel columns of unit j. */
function stateDots(gates: number[]): string {
  const acc = gates.map((g) => `var a${g} = 0.0;`).join(' ');
  const body = (drop: boolean) =>
    gates.map((g) => `a${g} = fma(hv${drop ? ` * rmask(${g}u, b, u)` : ''}, f32(rk[u * G + ${g}u * H + j]), a${g});`).join('\n      ');
  return `${acc}
  if (p.hasDrop != 0u) {
    for (var u = 0u; u < H; u++) {
      let hv = states[hb + u];
      ${body(true)}
    }
  } else {
    for (var u = 0u; u < H; u++) {
      let hv = states[hb + u];
      ${body(false)}
    }
  }`;
}

/**
 * The per-step kernels of backpropagation through time, in dispatch order, and which of them read
 * the transposed recurrent kernel. Every step recomputes its gates from the saved state (cheaper
 * than keeping them), writes its pre-activation gradients, and carries the state gradient one
 * step back; a masked step writes zero gradients and carries the state gradient unchanged.
 */
export function backwardStepShaders(s: KernelShape): Array<{ code: string; transposed: boolean }> {
  // The state gradient one step back: direct path, the z and r gates' recurrent paths, and the
  // candidate's (its recurrent term when resetAfter; else the gradient reaching r * h).
  const carry = `${header(s, stepBindings(true))}
${stepEntry}
  let u = j;
  let row = b * p.T + st.t;
  var sz = 0.0; var sr = 0.0; var sh = 0.0;
  for (var i = 0u; i < H; i++) {
    sz = fma(rk[i * H + u], work[p.dPreOff + row * G + i], sz);
    sr = fma(rk[(H + i) * H + u], work[p.dPreOff + row * G + H + i], sr);
    ${s.resetAfter ? 'sh = fma(rk[(2u * H + i) * H + u], work[p.auxOff + row * H + i], sh);' : ''}
  }
  ${s.resetAfter ? '' : 'sh = work[p.scrOff + 4u * BH + b * H + u];'}
  var g = dh * work[scr] + rmask(0u, b, u) * sz + rmask(1u, b, u) * sr + rmask(2u, b, u) * sh;
  if (p.retSeq != 0u && st.k > 0u) { g += work[p.dOutOff + (b * p.T + st.k - 1u) * H + u]; }
  work[p.dhOff + st.dst * BH + b * H + u] = g;
}
`;
  const skipStep = `
  if (!keep) {
    work[p.dPreOff + pb + j] = 0.0;
    work[p.dPreOff + pb + H + j] = 0.0;
    work[p.dPreOff + pb + 2u * H + j] = 0.0;
    work[p.auxOff + m * H + j] = 0.0;
    work[scr] = 1.0;
    return;
  }`;
  if (s.resetAfter) {
    const gates = `${header(s, stepBindings(false))}
${stepEntry}${skipStep}
  ${stateDots([0, 1, 2])}
  let preZ = proj[pb + j] + a0 + bias[G + j];
  let z = ract(preZ);
  let preR = proj[pb + H + j] + a1 + bias[G + H + j];
  let r = ract(preR);
  let rec = a2 + bias[G + 2u * H + j];
  let preH = proj[pb + 2u * H + j] + r * rec;
  let c = act(preH);
  let dPh = dh * (1.0 - z) * dact(preH, c);
  work[p.dPreOff + pb + j] = dh * (states[hb + j] - c) * dract(preZ, z);
  work[p.dPreOff + pb + H + j] = dPh * rec * dract(preR, r);
  work[p.dPreOff + pb + 2u * H + j] = dPh;
  work[p.auxOff + m * H + j] = dPh * r;
  work[scr] = z;
}
`;
    return [
      { code: gates, transposed: false },
      { code: carry, transposed: true },
    ];
  }
  // resetAfter false: the candidate needs r * h of every unit first, and r's gradient needs the
  // candidate's gradient of every unit: three kernels before the carry.
  const gates = `${header(s, stepBindings(false))}
${stepEntry}${skipStep}
  ${stateDots([0, 1])}
  let preZ = proj[pb + j] + a0;
  let preR = proj[pb + H + j] + a1;
  let r = ract(preR);
  work[scr] = ract(preZ);
  work[scr + BH] = preZ;
  work[scr + 2u * BH] = r;
  work[scr + 3u * BH] = preR;
  work[p.auxOff + m * H + j] = r * states[hb + j] * rmask(2u, b, j);
}
`;
  const candidate = `${header(s, stepBindings(false))}
${stepEntry}
  if (!keep) { return; }
  var ah = 0.0;
  for (var u = 0u; u < H; u++) { ah = fma(work[p.auxOff + m * H + u], f32(rk[u * G + 2u * H + j]), ah); }
  let preH = proj[pb + 2u * H + j] + ah;
  let c = act(preH);
  let z = work[scr];
  work[p.dPreOff + pb + j] = dh * (states[hb + j] - c) * dract(work[scr + BH], z);
  work[p.dPreOff + pb + 2u * H + j] = dh * (1.0 - z) * dact(preH, c);
}
`;
  const resetGate = `${header(s, stepBindings(true))}
${stepEntry}
  if (!keep) { work[scr + 4u * BH] = 0.0; return; }
  var dRh = 0.0;
  for (var i = 0u; i < H; i++) { dRh = fma(rk[(2u * H + i) * H + j], work[p.dPreOff + pb + 2u * H + i], dRh); }
  let r = work[scr + 2u * BH];
  work[p.dPreOff + pb + H + j] = dRh * states[hb + j] * rmask(2u, b, j) * dract(work[scr + 3u * BH], r);
  work[scr + 4u * BH] = dRh * r;
}
`;
  return [
    { code: gates, transposed: false },
    { code: candidate, transposed: false },
    { code: resetGate, transposed: true },
    { code: carry, transposed: true },
  ];
}

const postBindings = `
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<WT>;
@group(0) @binding(3) var<storage, read> rkernel: array<WT>;
@group(0) @binding(4) var<storage, read> states: array<f32>;
@group(0) @binding(5) var<storage, read> rdrop: array<f32>;
@group(0) @binding(6) var<storage, read> xdrop: array<f32>;
@group(0) @binding(7) var<storage, read> work: array<f32>;
@group(0) @binding(8) var<storage, read_write> out: array<f32>;
`;

const postEntry = `@compute @workgroup_size(${BWD_WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let H = p.H;
  let G = p.G;
  let D = p.D;
  let lane = wg.x * ${BWD_WG}u + lid.x;`;

/** The kernels that run once per backward call, each one dispatch. */
export interface PostShaders {
  /** out[c * H + u] = recurrentKernel[u, c]: the carry kernels read it row by row. */
  transpose: string;
  /** dKernel [D, 3H]: every timestep's (per-gate dropout-masked) input times its gate gradients. */
  kernelGrad: string;
  /** dx [B*T, D]: the gate gradients times the kernel's rows, per gate masked. */
  inputGrad: string;
  /** dRecurrentKernel [H, 3H]: each step's previous state times its gate gradients. */
  recurrentGrad: string;
  /** dBias: the gate gradients summed over rows and steps (and the recurrent row when resetAfter). */
  biasGrad: string;
}

export function backwardPostShaders(s: KernelShape): PostShaders {
  const h = (body: string) => `${header(s, postBindings)}
${postEntry}
${body}
}
`;
  const xmask = (g: string) => `xdrop[${g} * p.xdStride + b * D + d]`;
  return {
    transpose: h(`
  let c = wg.y;
  if (lane >= H) { return; }
  out[c * H + lane] = f32(rkernel[lane * G + c]);`),
    kernelGrad: h(`
  let c = lane;
  let d = wg.y;
  if (c >= G) { return; }
  let g = c / H;
  var s = 0.0;
  for (var b = 0u; b < p.B; b++) {
    var xm = 1.0;
    if (p.hasXDrop != 0u) { xm = ${xmask('g')}; }
    for (var t = 0u; t < p.T; t++) {
      let m = b * p.T + t;
      s = fma(x[m * D + d] * xm, work[p.dPreOff + m * G + c], s);
    }
  }
  out[p.oDK + d * G + c] = s;`),
    inputGrad: h(`
  let d = lane;
  if (d >= D) { return; }
  for (var m = wg.y; m < p.B * p.T; m += nwg.y) {
    let b = m / p.T;
    var s0 = 0.0; var s1 = 0.0; var s2 = 0.0;
    for (var j = 0u; j < H; j++) {
      s0 = fma(work[p.dPreOff + m * G + j], f32(kernel[d * G + j]), s0);
      s1 = fma(work[p.dPreOff + m * G + H + j], f32(kernel[d * G + H + j]), s1);
      s2 = fma(work[p.dPreOff + m * G + 2u * H + j], f32(kernel[d * G + 2u * H + j]), s2);
    }
    var v = s0 + s1 + s2;
    if (p.hasXDrop != 0u) { v = s0 * ${xmask('0u')} + s1 * ${xmask('1u')} + s2 * ${xmask('2u')}; }
    out[p.oDx + m * D + d] = v;
  }`),
    recurrentGrad: h(`
  let c = lane;
  let u = wg.y;
  if (c >= G) { return; }
  let g = c / H;
  let jj = c - g * H;
  var s = 0.0;
  for (var b = 0u; b < p.B; b++) {
    let rm = rmask(min(g, 2u), b, u);
    for (var k = 0u; k < p.T; k++) {
      let t = select(k, p.T - 1u - k, p.back != 0u);
      let m = b * p.T + t;
      ${
        s.resetAfter
          ? `let right = select(work[p.dPreOff + m * G + c], work[p.auxOff + m * H + jj], g == 2u);
      s = fma(states[stateBase(b, k) + u] * rm, right, s);`
          : `let left = select(states[stateBase(b, k) + u] * rm, work[p.auxOff + m * H + u], g == 2u);
      s = fma(left, work[p.dPreOff + m * G + c], s);`
      }
    }
  }
  out[p.oDR + u * G + c] = s;`),
    biasGrad: h(`
  let col = lane;
  if (col >= ${s.resetAfter ? '2u * G' : 'G'}) { return; }
  let c = select(col, col - G, col >= G);
  // The recurrent row's candidate column sums the gradient of the recurrent term (aux).
  let fromAux = col >= G + 2u * H;
  let a = select(c, c - 2u * H, fromAux);
  var s = 0.0;
  for (var m = 0u; m < p.B * p.T; m++) {
    s += select(work[p.dPreOff + m * G + a], work[p.auxOff + m * H + a], fromAux);
  }
  out[p.oDB + col] = s;`),
  };
}

/** Workgroup memory of the fused backward kernel: state copies, state gradient, gate gradients (and r * h). */
export function fusedBackwardWorkgroupBytes(s: Pick<KernelShape, 'units' | 'resetAfter'>): number {
  return 4 * fusedGeometry(s.units).cap * (s.resetAfter ? 7 : 8);
}

/**
 * The fused backward recurrence: one workgroup per batch row walks every step backwards in a loop
 * with the state gradient in workgroup memory (the mirror of the fused forward kernel), so the
 * whole backward recurrence is one dispatch. Needs the transposed recurrent kernel (binding 3).
 * A masked step is computed like any other and discarded by select (no branch around barriers).
 */
export function fusedBackwardShader(s: KernelShape): string {
  const { cap, wg, perThread } = fusedGeometry(s.units);
  const bindings = `
@group(0) @binding(1) var<storage, read> proj: array<f32>;
@group(0) @binding(2) var<storage, read> rk: array<WT>;
@group(0) @binding(3) var<storage, read> rkT: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> states: array<f32>;
@group(0) @binding(6) var<storage, read> mask: array<u32>;
@group(0) @binding(7) var<storage, read> rdrop: array<f32>;
@group(0) @binding(8) var<storage, read_write> work: array<f32>;
`;
  const forUnits = (body: string) => `for (var i = 0u; i < NPT; i++) {
      let j = l + i * WG;
      if (j < H) {
        ${body}
      }
    }`;
  // Phase A computes each unit's gate gradients from the recomputed gates; the carry then needs
  // every unit's gate gradients (g0, g1, g2 in workgroup memory).
  const phaseA = s.resetAfter
    ? `${forUnits(`var az = 0.0; var ar = 0.0; var ah = 0.0;
        for (var u = 0u; u < H; u++) {
          let row = u * G;
          az = fma(hz[u], f32(rk[row + j]), az);
          ar = fma(hr[u], f32(rk[row + H + j]), ar);
          ah = fma(hh[u], f32(rk[row + 2u * H + j]), ah);
        }
        let preZ = proj[pb + j] + az + bias[G + j];
        let z = ract(preZ);
        let preR = proj[pb + H + j] + ar + bias[G + H + j];
        let r = ract(preR);
        let rec = ah + bias[G + 2u * H + j];
        let preH = proj[pb + 2u * H + j] + r * rec;
        let c = act(preH);
        let dh = dhs[j];
        let dPh = select(0.0, dh * (1.0 - z) * dact(preH, c), keep);
        let dPz = select(0.0, dh * (hs[j] - c) * dract(preZ, z), keep);
        let dPr = select(0.0, dPh * rec * dract(preR, r), keep);
        let dRec = select(0.0, dPh * r, keep);
        work[p.dPreOff + pb + j] = dPz;
        work[p.dPreOff + pb + H + j] = dPr;
        work[p.dPreOff + pb + 2u * H + j] = dPh;
        work[p.auxOff + m * H + j] = dRec;
        g0[j] = dPz; g1[j] = dPr; g2[j] = dRec;
        zs[i] = select(1.0, z, keep);`)}
    workgroupBarrier();`
    : `${forUnits(`var az = 0.0; var ar = 0.0;
        for (var u = 0u; u < H; u++) {
          let row = u * G;
          az = fma(hz[u], f32(rk[row + j]), az);
          ar = fma(hr[u], f32(rk[row + H + j]), ar);
        }
        zPre[i] = proj[pb + j] + az;
        rPre[i] = proj[pb + H + j] + ar;
        rs[i] = ract(rPre[i]);
        rh[j] = rs[i] * hh[j];`)}
    workgroupBarrier();
    ${forUnits(`var ah = 0.0;
        for (var u = 0u; u < H; u++) { ah = fma(rh[u], f32(rk[u * G + 2u * H + j]), ah); }
        let preH = proj[pb + 2u * H + j] + ah;
        let c = act(preH);
        let z = ract(zPre[i]);
        let dh = dhs[j];
        let dPh = select(0.0, dh * (1.0 - z) * dact(preH, c), keep);
        let dPz = select(0.0, dh * (hs[j] - c) * dract(zPre[i], z), keep);
        work[p.dPreOff + pb + j] = dPz;
        work[p.dPreOff + pb + 2u * H + j] = dPh;
        work[p.auxOff + m * H + j] = select(0.0, rh[j], keep);
        g0[j] = dPz; g2[j] = dPh;
        zs[i] = select(1.0, z, keep);`)}
    workgroupBarrier();
    ${forUnits(`var dRh = 0.0;
        for (var q = 0u; q < H; q++) { dRh = fma(rkT[(2u * H + q) * H + j], g2[q], dRh); }
        let dPr = select(0.0, dRh * hh[j] * dract(rPre[i], rs[i]), keep);
        work[p.dPreOff + pb + H + j] = dPr;
        g1[j] = dPr;
        dHh[i] = select(0.0, dRh * rs[i], keep);`)}
    workgroupBarrier();`;
  const candidateCarry = s.resetAfter ? 'sh = fma(rkT[(2u * H + q) * H + j], g2[q], sh);' : '';
  return `${header(s, bindings)}
const WG: u32 = ${wg}u;
const NPT: u32 = ${perThread}u;
const CAP: u32 = ${cap}u;
var<workgroup> hs: array<f32, CAP>;
var<workgroup> hz: array<f32, CAP>;
var<workgroup> hr: array<f32, CAP>;
var<workgroup> hh: array<f32, CAP>;
var<workgroup> dhs: array<f32, CAP>;
var<workgroup> g0: array<f32, CAP>;
var<workgroup> g1: array<f32, CAP>;
var<workgroup> g2: array<f32, CAP>;
${s.resetAfter ? '' : 'var<workgroup> rh: array<f32, CAP>;'}

@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wgid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let H = p.H;
  let G = p.G;
  let BH = p.B * H;
  let b = wgid.x;
  let l = lid.x;
  var zs: array<f32, NPT>;
  var nd: array<f32, NPT>;
  ${s.resetAfter ? '' : 'var zPre: array<f32, NPT>; var rPre: array<f32, NPT>; var rs: array<f32, NPT>; var dHh: array<f32, NPT>;'}
  ${forUnits('dhs[j] = work[p.dhOff + b * H + j];')}
  for (var i0 = 0u; i0 < p.T; i0++) {
    let k = p.T - 1u - i0;
    let t = select(k, p.T - 1u - k, p.back != 0u);
    let m = b * p.T + t;
    let pb = m * G;
    let keep = p.hasMask == 0u || mask[m] != 0u;
    let hb = stateBase(b, k);
    ${forUnits(`let hv = states[hb + j];
        hs[j] = hv;
        hz[j] = hv * rmask(0u, b, j);
        hr[j] = hv * rmask(1u, b, j);
        hh[j] = hv * rmask(2u, b, j);`)}
    workgroupBarrier();
    ${phaseA}
    ${forUnits(`var sz = 0.0; var sr = 0.0; var sh = 0.0;
        for (var q = 0u; q < H; q++) {
          sz = fma(rkT[q * H + j], g0[q], sz);
          sr = fma(rkT[(H + q) * H + j], g1[q], sr);
          ${candidateCarry}
        }
        ${s.resetAfter ? '' : 'sh = dHh[i];'}
        var g = dhs[j] * zs[i] + rmask(0u, b, j) * sz + rmask(1u, b, j) * sr + rmask(2u, b, j) * sh;
        if (p.retSeq != 0u && k > 0u) { g += work[p.dOutOff + (b * p.T + k - 1u) * H + j]; }
        nd[i] = g;`)}
    workgroupBarrier();
    ${forUnits('dhs[j] = nd[i];')}
    workgroupBarrier();
  }
  ${forUnits('work[p.dhOff + (p.T % 2u) * BH + b * H + j] = dhs[j];')}
}
`;
}
