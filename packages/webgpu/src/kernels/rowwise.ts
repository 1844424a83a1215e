import { hasRowActivation, reductionFunctions, rowFunction, type RowAccess } from '../activations-rowwise-wgsl.js';
import type { KernelShape } from './common.js';

type Activations = Pick<KernelShape, 'activation' | 'recurrentActivation'>;

/** Whether a row function reads other units' values (sparsemax's ranks, glu's pair), not only reductions. */
const readsRow = (s: Activations) => [s.activation, s.recurrentActivation].some((id) => id === 'sparsemax' || id === 'glu');

/** Floats of workgroup memory the row-wise part of the fused kernel adds (0 for elementwise layers). */
export function rowwiseWorkgroupFloats(s: Activations, cap: number, wg: number): number {
  if (!hasRowActivation(s)) return 0;
  return wg + (readsRow(s) ? cap : 0);
}

/** The fused kernel stages a row in workgroup memory for the functions that read across it. */
export const FUSED_ACCESS: RowAccess = { stage: (j, v) => `rowv[${j}] = ${v};`, read: (u) => `rowv[${u}]`, sync: 'workgroupBarrier();' };

/** The stepwise row kernels stage a row in `scratch` from `row_base` (a row can be wider than workgroup memory). */
export const STEP_ACCESS: RowAccess = {
  stage: (j, v) => `scratch[row_base + ${j}] = ${v};`,
  read: (u) => `scratch[row_base + ${u}]`,
  sync: 'storageBarrier();',
};

/** Module-scope WGSL of the fused row-wise kernel: its workgroup buffers and `ract_row` / `act_row`. */
export function fusedRowwiseDecls(s: Activations): string {
  return `${readsRow(s) ? 'var<workgroup> rowv: array<f32, CAP>;' : ''}
${reductionFunctions()}
${rowFunction('ract_row', s.recurrentActivation, FUSED_ACCESS, 'ract')}
${rowFunction('act_row', s.activation, FUSED_ACCESS, 'act')}`;
}

/**
 * One step of the fused kernel for a layer with a row-wise activation: every unit's
 * pre-activations first (private arrays, NPT per invocation), then each gate's activation over
 * its whole row (z, then r, then the candidate), then the new state into `hn`. The row functions
 * hold barriers, so they are called where control flow is uniform. `forUnits` runs its body for
 * the invocation's units j (index i); `h*` name the state as each gate sees it (dropout copies).
 */
export function fusedRowwiseStep(s: Pick<KernelShape, 'resetAfter'>, h: { hz: string; hr: string; hh: string }, forUnits: (body: string) => string): string {
  const gates = `var zp: array<f32, NPT>;
    var rp: array<f32, NPT>;
    var cp: array<f32, NPT>;
    ${forUnits(`var az = 0.0; var ar = 0.0; var ah = 0.0;
        for (var u = 0u; u < H; u++) {
          let row = u * G;
          az = fma(${h.hz}[u], f32(rkernel[row + j]), az);
          ar = fma(${h.hr}[u], f32(rkernel[row + H + j]), ar);
          ${s.resetAfter ? `ah = fma(${h.hh}[u], f32(rkernel[row + 2u * H + j]), ah);` : ''}
        }
        zp[i] = proj[pb + j] + az + bias[G + j];
        rp[i] = proj[pb + H + j] + ar + bias[G + H + j];
        ${s.resetAfter ? 'cp[i] = ah + bias[G + 2u * H + j];' : ''}`)}
    ract_row(&zp, l);
    ract_row(&rp, l);`;
  // resetAfter: r scales the recurrent part; else the candidate's product needs r * h of every unit.
  const candidate = s.resetAfter
    ? forUnits('cp[i] = proj[pb + 2u * H + j] + rp[i] * cp[i];')
    : `${forUnits(`rh[j] = rp[i] * ${h.hh}[j];`)}
    workgroupBarrier();
    ${forUnits(`var ah = 0.0;
        for (var u = 0u; u < H; u++) { ah = fma(rh[u], f32(rkernel[u * G + 2u * H + j]), ah); }
        cp[i] = proj[pb + 2u * H + j] + ah;`)}`;
  return `${gates}
    ${candidate}
    act_row(&cp, l);
    ${forUnits('hn[i] = zp[i] * hs[j] + (1.0 - zp[i]) * cp[i];')}`;
}

/**
 * The row kernels of the stepwise path for a layer with a row-wise activation, in dispatch order
 * after the step kernel that wrote their pre-activations to `scratch` ([4, B, H]: z, r, the
 * candidate's part, the staged row). One workgroup per batch row activates each gate over its
 * row, then finishes the step (`finish`: the new state from `z` and `cand`).
 *
 * resetAfter: [finish] after the step kernel wrote z, r and the recurrent candidate part (with
 * its bias). Else: [gates] after the gates kernel (z and r pre-activations; writes z and r * h
 * where the candidate kernel reads them), then [finish] after the candidate kernel wrote its
 * pre-activation to slot 2.
 */
export function stepRowKernels(
  s: KernelShape,
  prelude: string,
  finish: string,
  geometry: { wg: number; perThread: number },
): { gates?: string; finish: string } {
  const kernel = (body: string) => `${prelude}
const WG: u32 = ${geometry.wg}u;
const NPT: u32 = ${geometry.perThread}u;
var<private> row_base: u32;
${reductionFunctions()}
${rowFunction('ract_row', s.recurrentActivation, STEP_ACCESS, 'ract')}
${rowFunction('act_row', s.activation, STEP_ACCESS, 'act')}
@compute @workgroup_size(${geometry.wg})
fn main(@builtin(workgroup_id) wgid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let H = p.H;
  let G = p.G;
  let b = wgid.x;
  let l = lid.x;
  let BH = p.B * H;
  let pb = (b * p.T + st.t) * G;
  row_base = 3u * BH + b * H;
  ${body}
}
`;
  const forOwn = (body: string) => `for (var i = 0u; i < NPT; i++) {
    let j = l + i * WG;
    if (j < H) {
      ${body}
    }
  }`;
  const gatesIn = `var zp: array<f32, NPT>;
  var rp: array<f32, NPT>;
  ${forOwn('zp[i] = scratch[b * H + j]; rp[i] = scratch[BH + b * H + j];')}
  ract_row(&zp, l);
  ract_row(&rp, l);`;
  if (s.resetAfter) {
    return {
      finish: kernel(`${gatesIn}
  var cp: array<f32, NPT>;
  ${forOwn('cp[i] = proj[pb + 2u * H + j] + rp[i] * scratch[2u * BH + b * H + j];')}
  act_row(&cp, l);
  ${forOwn(`let z = zp[i];
      let cand = cp[i];${finish}`)}`),
    };
  }
  return {
    gates: kernel(`${gatesIn}
  ${forOwn(`var hh = state[st.src * BH + b * H + j];
      if (p.hasDrop != 0u) { hh *= rdrop[2u * BH + b * H + j]; }
      scratch[b * H + j] = zp[i];
      scratch[BH + b * H + j] = rp[i] * hh;`)}`),
    finish: kernel(`var cp: array<f32, NPT>;
  ${forOwn('cp[i] = scratch[2u * BH + b * H + j];')}
  act_row(&cp, l);
  ${forOwn(`let z = scratch[b * H + j];
      let cand = cp[i];${finish}`)}`),
  };
}
