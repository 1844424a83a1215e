import { compareArrays, rng, TOLERANCES } from '@gru/conformance/testing';
import { activationDef } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { reductionFunctions, rowFunction } from '../src/activations-rowwise-wgsl.js';
import { ACTIVATION_HELPERS } from '../src/activations-wgsl.js';
import { fusedGeometry } from '../src/kernels/recurrence.js';
import { FUSED_ACCESS, STEP_ACCESS } from '../src/kernels/rowwise.js';
import { runShader, type ShaderBinding, useSuiteDevice } from './shader-run.js';

/**
 * The row functions alone against core's row definitions, one workgroup per row, through both
 * ways a kernel gives them the row (workgroup memory on the fused kernel, a storage row on the
 * stepwise one): rows of 1, 3, 65, 257 and 1000 values (narrower than a workgroup, one and two
 * values per invocation, four), drawn wide (softmax's exp range), tight, with ties (sparsemax's
 * stable ranks), large, and peaked (sparsemax supports of several units).
 */
const ROWS_PER_KIND = 3;
/** Value `i` of a row of `H`. */
const kinds: Array<[string, (r: () => number, i: number, H: number) => number]> = [
  ['wide', (r) => 6 * (r() - 0.5)],
  ['tight', (r) => 0.02 * (r() - 0.5)],
  ['ties', (r) => Math.round(8 * r()) / 4],
  ['large', (r) => 120 * (r() - 0.5)],
  // Up to six close values far above the rest: Keras's sparsemax keeps all six nonzero (wider
  // supports at these widths come out all zero under Keras's threshold), so a wrong support count shows.
  ['peaked', (r, i, H) => (i % Math.ceil(H / 6) === 0 ? 0.05 * r() : -8 - 4 * r())],
];

describe('row-wise activation functions', () => {
  const device = useSuiteDevice('webgpu-rows');

  const cases = [...['softmax', 'log_softmax', 'sparsemax'].flatMap((id) => [1, 3, 65, 257, 1000].map((H) => ({ id, H }))), { id: 'glu', H: 2 }];
  for (const { id, H } of cases) {
    for (const access of ['workgroup', 'storage'] as const) {
      it(`${id} over rows of ${H} (${access} row)`, async () => {
        const r = rng(H * 31 + id.length);
        const x = new Float32Array(kinds.length * ROWS_PER_KIND * H);
        kinds.forEach(([, draw], k) => {
          for (let i = 0; i < ROWS_PER_KIND * H; i++) x[k * ROWS_PER_KIND * H + i] = draw(r, i % H, H);
        });
        const got = await runRows(device(), id, H, access, x);
        const def = activationDef(id);
        const row = def.row ?? def.gateOnly?.row;
        if (!row) throw new Error(`${id} has no row function`);
        const want = new Float64Array(x.length);
        for (let b = 0; b < x.length / H; b++) row(Float64Array.from(x.subarray(b * H, (b + 1) * H)), want.subarray(b * H, (b + 1) * H));
        kinds.forEach(([kind], k) => {
          const at = k * ROWS_PER_KIND * H;
          const span = ROWS_PER_KIND * H;
          const c = compareArrays(got.subarray(at, at + span), want.subarray(at, at + span), TOLERANCES.float32, [ROWS_PER_KIND, H]);
          expect(c.ok ? 'ok' : `${kind} rows: ${c.message}`).toBe('ok');
        });
      });
    }
  }
});

/** Runs `id`'s row function on each row of H values of `x` (one workgroup per row). */
async function runRows(device: GPUDevice, id: string, H: number, access: 'workgroup' | 'storage', x: Float32Array<ArrayBuffer>): Promise<Float32Array> {
  const { cap, wg, perThread } = fusedGeometry(H);
  const rows = x.length / H;
  const code = `${ACTIVATION_HELPERS}
struct Params { H: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> ys: array<f32>;
@group(0) @binding(3) var<storage, read_write> scratch: array<f32>;
const WG: u32 = ${wg}u;
const NPT: u32 = ${perThread}u;
const CAP: u32 = ${cap}u;
var<workgroup> rowv: array<f32, CAP>;
var<private> row_base: u32;
fn act(x: f32) -> f32 { return x; }
${reductionFunctions()}
${rowFunction('f', id, access === 'workgroup' ? FUSED_ACCESS : STEP_ACCESS, 'act')}
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wgid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let H = p.H;
  let b = wgid.x;
  row_base = b * H;
  var v: array<f32, NPT>;
  for (var i = 0u; i < NPT; i++) {
    let j = lid.x + i * WG;
    if (j < H) { v[i] = xs[b * H + j]; }
  }
  f(&v, lid.x);
  for (var i = 0u; i < NPT; i++) {
    let j = lid.x + i * WG;
    if (j < H) { ys[b * H + j] = v[i]; }
  }
}`;
  const bytes = x.length * 4;
  const bindings: ShaderBinding[] = [
    { type: 'uniform', data: new Uint32Array([H, 0, 0, 0]) },
    { type: 'read-only-storage', data: x },
    { type: 'storage', bytes },
    { type: 'storage', bytes },
  ];
  return (await runShader(device, code, bindings, rows, 2)).subarray(0, x.length);
}
