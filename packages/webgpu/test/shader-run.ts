import { afterAll, beforeAll } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';

/**
 * The device of a webgpu backend loaded for the suite (disposed after it), for tests that
 * dispatch shaders of their own. Call at describe level; the getter works inside tests.
 */
export function useSuiteDevice(name: string): () => GPUDevice {
  let backend: WebGpuBackend | undefined;
  beforeAll(async () => {
    backend = createWebGpuBackend({ name, allowFallbackAdapter: true });
    await backend.load();
  });
  afterAll(() => backend?.dispose());
  return () => backend?.device as GPUDevice;
}

/** One binding of a test shader: its buffer's type, and its contents or size in bytes. */
export type ShaderBinding = { type: 'uniform' | 'read-only-storage' | 'storage' } & (
  | { data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer> }
  | { bytes: number }
);

const USAGE = { uniform: 0x40 | 0x08, 'read-only-storage': 0x80 | 0x08, storage: 0x80 | 0x04 | 0x08 } as const;

/**
 * Runs `code`'s `main` over `workgroups` workgroups with `bindings` (binding k of group 0, an
 * explicit layout: 'auto' drops the bindings a variant leaves unused) and returns binding
 * `readBack`'s buffer as floats. Every buffer is destroyed before it returns.
 */
export async function runShader(device: GPUDevice, code: string, bindings: ShaderBinding[], workgroups: number, readBack: number): Promise<Float32Array> {
  const module = device.createShaderModule({ code });
  const group = device.createBindGroupLayout({ entries: bindings.map(({ type }, binding) => ({ binding, visibility: 0x4, buffer: { type } })) });
  const layout = device.createPipelineLayout({ bindGroupLayouts: [group] });
  const pipeline = await device.createComputePipelineAsync({ layout, compute: { module, entryPoint: 'main' } });
  const buffers = bindings.map((b) => {
    const size = Math.max(16, 'data' in b ? b.data.byteLength : b.bytes);
    const buffer = device.createBuffer({ size, usage: USAGE[b.type] });
    if ('data' in b) device.queue.writeBuffer(buffer, 0, b.data);
    return buffer;
  });
  const bytes = buffers[readBack].size;
  const read = device.createBuffer({ size: bytes, usage: 0x01 | 0x08 });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: group, entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) }));
  pass.dispatchWorkgroups(workgroups);
  pass.end();
  enc.copyBufferToBuffer(buffers[readBack], 0, read, 0, bytes);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(0x01);
  const got = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [...buffers, read]) b.destroy();
  return got;
}
