import { activationDef } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATION_HELPERS, WGSL_ACTIVATIONS, activationExpression } from '../src/activations-wgsl.js';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';

/**
 * Every WGSL activation against core's definition on a grid from -60 to 60 (saturation
 * included), all evaluated by one shader so the check costs one compile. Tolerance: 5e-7 absolute
 * (WGSL's exp and log are not correctly rounded) plus the conformance suite's 1e-5 relative.
 */
describe('WGSL activations', () => {
  let backend: WebGpuBackend;
  let device: GPUDevice;
  beforeAll(async () => {
    backend = createWebGpuBackend({ name: 'webgpu-activations', allowFallbackAdapter: true });
    await backend.load();
    device = backend.device as GPUDevice;
  });
  afterAll(() => backend.dispose());

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
    const code = `${ACTIVATION_HELPERS}
@group(0) @binding(0) var<storage, read> xs: array<f32>;
@group(0) @binding(1) var<storage, read_write> ys: array<f32>;
${ids.map((id, i) => `fn a${i}(x: f32) -> f32 { return ${activationExpression(id)}; }`).join('\n')}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= ${n}u) { return; }
  let x = xs[i];
  ${ids.map((_, k) => `ys[${k}u * ${n}u + i] = a${k}(x);`).join('\n  ')}
}`;
    const module = device.createShaderModule({ code });
    const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const xs = device.createBuffer({ size: n * 4, usage: 0x80 | 0x08 });
    const ys = device.createBuffer({ size: ids.length * n * 4, usage: 0x80 | 0x04 });
    const read = device.createBuffer({ size: ids.length * n * 4, usage: 0x01 | 0x08 });
    device.queue.writeBuffer(xs, 0, grid);
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: xs } },
          { binding: 1, resource: { buffer: ys } },
        ],
      }),
    );
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    enc.copyBufferToBuffer(ys, 0, read, 0, ids.length * n * 4);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(0x01);
    const got = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    for (const b of [xs, ys, read]) b.destroy();

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
});
