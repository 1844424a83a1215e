import { activationDef } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { ROW_MATH } from '../src/activations-rowwise-wgsl.js';
import { ACTIVATION_HELPERS, WGSL_ACTIVATIONS, activationExpression } from '../src/activations-wgsl.js';
import { runShader, type ShaderBinding, useSuiteDevice } from './shader-run.js';

/**
 * Every WGSL activation against core's definition on a grid from -60 to 60 (saturation
 * included), all evaluated by one shader so the check costs one compile. Tolerance: 5e-7 absolute
 * (WGSL's exp and log are not correctly rounded) plus the conformance suite's 1e-5 relative.
 */
describe('WGSL activations', () => {
  const device = useSuiteDevice('webgpu-activations');

  const grid = Float32Array.from([
    ...Array.from({ length: 241 }, (_, i) => -6 + i * 0.05),
    -60,
    -30,
    -12,
    -3.0001,
    -2.5,
    -1e-4,
    -1e-7,
    0,
    1e-7,
    1e-4,
    2.5,
    3.0001,
    12,
    30,
    60,
  ]);

  it('match core within float32 tolerance', async () => {
    const ids = [...WGSL_ACTIVATIONS];
    const n = grid.length;
    const got = await evaluate(
      device(),
      ids.map((id, i) => `fn a${i}(x: f32) -> f32 { return ${activationExpression(id)}; }`).join('\n'),
      ids.map((_, i) => `a${i}(x)`),
      grid,
    );
    const failures: string[] = [];
    ids.forEach((id, k) => {
      const f = activationDef(id).f as (x: number) => number;
      for (let i = 0; i < n; i++) {
        const want = Math.fround(f(grid[i]));
        const g = got[k * n + i];
        const ok = want === g || Math.abs(g - want) <= 5e-7 + 1e-5 * Math.abs(want);
        if (!ok) failures.push(`${id}(${grid[i]}) = ${g}, core ${want}`);
      }
    });
    expect(failures).toEqual([]);
  });

  it('row_exp and row_log (softmax, log_softmax) are within 2 and 3 ulp of float64 exp and log', async () => {
    // exp over every input softmax gives it (x - max <= 0, to where float32 underflows), log over
    // every row sum (1 <= sum <= units), both densely and at the ends of their ranges.
    const xs = Float32Array.from({ length: 4001 }, (_, i) => -104 + (104 * i) / 4000);
    const sums = Float32Array.from([...Array.from({ length: 2000 }, (_, i) => 1 + i / 1000), 1 + 2 ** -23, 1024.5, 65_537, 2 ** 20 - 1]);
    const [exps, logs] = await Promise.all([evaluate(device(), ROW_MATH, ['row_exp(x)'], xs), evaluate(device(), ROW_MATH, ['row_log(x)'], sums)]);
    const ulp = (v: number) => {
      const f = Math.fround(Math.abs(v));
      if (f < 2 ** -126) return 2 ** -149;
      return 2 ** (Math.floor(Math.log2(f)) - 23);
    };
    const failures: string[] = [];
    xs.forEach((x, i) => {
      const want = Math.exp(x);
      // Below 2^-126 a GPU may flush to zero; softmax sums never notice.
      if (Math.abs(exps[i] - want) > Math.max(2 * ulp(want), 2 ** -126)) failures.push(`row_exp(${x}) = ${exps[i]}, exp ${want}`);
    });
    sums.forEach((s, i) => {
      const want = Math.log(s);
      if (Math.abs(logs[i] - want) > 3 * ulp(want)) failures.push(`row_log(${s}) = ${logs[i]}, log ${want}`);
    });
    expect(failures).toEqual([]);
  });
});

/** Evaluates WGSL expressions of `x` (given `fns`) at every input, in one dispatch: [expr][input]. */
async function evaluate(device: GPUDevice, fns: string, exprs: string[], inputs: Float32Array<ArrayBuffer>): Promise<Float32Array> {
  const n = inputs.length;
  const code = `${ACTIVATION_HELPERS}
${fns}
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read_write> ys: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= ${n}u) { return; }
  let x = xs[i];
  ${exprs.map((e, k) => `ys[${k}u * ${n}u + i] = ${e};`).join('\n  ')}
}`;
  const bindings: ShaderBinding[] = [
    { type: 'read-only-storage', data: inputs },
    { type: 'storage', bytes: exprs.length * n * 4 },
  ];
  return (await runShader(device, code, bindings, Math.ceil(n / 64), 1)).subarray(0, exprs.length * n);
}
