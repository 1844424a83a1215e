import { weightTypeHeader } from './common.js';

/** Output tile of one workgroup (rows x columns) and the depth of one shared-memory slab. */
export const PROJ_TILE = 64;
const PROJ_K = 16;

/**
 * The input projection for every timestep as one tiled GEMM:
 * `proj[m, col0 + n] = bias[col0 + n] + sum_k x[m, k] * (xmask[m / T, k]) * kernel[k, col0 + n]`
 * with m = b*T + t. A 16x16 workgroup computes a 64x64 tile, 4x4 values per invocation, staging
 * 64x16 slabs of x and 16x64 slabs of the kernel in workgroup memory (8 KiB).
 *
 * `xmask` carries Keras's per-gate input dropout (implementation 1): then the projection runs
 * once per gate (col0 = gate*units, N = units) with that gate's mask.
 */
export function projectionShader(f16: boolean, withMask: boolean): string {
  return `${weightTypeHeader(f16)}
struct Params { M: u32, N: u32, K: u32, T: u32, col0: u32, ld: u32, _a: u32, _b: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> kernel: array<WT>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> proj: array<f32>;
${withMask ? '@group(0) @binding(5) var<storage, read> xmask: array<f32>;' : ''}

var<workgroup> As: array<array<f32, ${PROJ_K}>, ${PROJ_TILE}>;
var<workgroup> Bs: array<array<f32, ${PROJ_TILE}>, ${PROJ_K}>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.y * ${PROJ_TILE}u;
  let colT = wg.x * ${PROJ_TILE}u;
  let tid = lid.y * 16u + lid.x;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += ${PROJ_K}u) {
    for (var i = 0u; i < 4u; i++) {
      let e = tid + i * 256u;
      let r = e / ${PROJ_K}u;
      let c = e % ${PROJ_K}u;
      let gr = row0 + r;
      let gk = k0 + c;
      var v = 0.0;
      if (gr < p.M && gk < p.K) {
        v = x[gr * p.K + gk];
        ${withMask ? 'v *= xmask[(gr / p.T) * p.K + gk];' : ''}
      }
      As[r][c] = v;
    }
    for (var i = 0u; i < 4u; i++) {
      let e = tid + i * 256u;
      let r = e / ${PROJ_TILE}u;
      let c = e % ${PROJ_TILE}u;
      let gk = k0 + r;
      let gc = colT + c;
      var v = 0.0;
      if (gk < p.K && gc < p.N) { v = f32(kernel[gk * p.ld + p.col0 + gc]); }
      Bs[r][c] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${PROJ_K}u; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[lid.y + 16u * i][kk]; }
      for (var j = 0u; j < 4u; j++) { b[j] = Bs[kk][lid.x + 16u * j]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let col = colT + lid.x + 16u * j;
      if (row < p.M && col < p.N) {
        proj[row * p.ld + p.col0 + col] = acc[i][j] + bias[p.col0 + col];
      }
    }
  }
}
`;
}
