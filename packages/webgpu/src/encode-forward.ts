import type { ForwardRequest } from '@gru/core';
import { UNIFORM_ALIGN } from './gpu-constants.js';
import { PROJ_TILE } from './kernels/projection.js';
import { STEP_ROWS, STEP_WG } from './kernels/recurrence.js';
import type { Layouts } from './layouts.js';

/**
 * Steps whose indices sit in the step-uniform buffer at once. Longer sequences are encoded in
 * several command buffers, submitted back to back without waiting for the GPU (the queue orders
 * each rewrite of the indices after the previous submission), so that buffer stays small.
 */
export const STEP_CHUNK = 1024;

export interface ForwardBuffers {
  x: GPUBuffer;
  proj: GPUBuffer;
  out: GPUBuffer;
  /** Where the output sequence starts in `out` (bytes, storage-offset aligned; 0 unless kept for backward). */
  outOffset: number;
  state: GPUBuffer;
  mask: GPUBuffer;
  rdrop: GPUBuffer;
  scratch: GPUBuffer;
  params: GPUBuffer;
  projParams: GPUBuffer;
  staging: GPUBuffer;
  kernel: GPUBuffer;
  rkernel: GPUBuffer;
  bias: GPUBuffer;
  /** Per-gate input dropout masks, one per `xdropStride` bytes. */
  xdrop?: GPUBuffer;
  xdropStride: number;
}

export interface ForwardPlan {
  units: number;
  inputDim: number;
  path: 'fused' | 'stepwise';
  projection: GPUComputePipeline;
  /** The recurrence kernels in dispatch order. */
  recurrence: GPUComputePipeline[];
  /** Per stepwise kernel: one workgroup per batch row (the row-wise activations' row kernels) rather than per unit tile. */
  perRow: boolean[];
  /** -1: one projection over all gates; else one per listed gate (per-gate input dropout). */
  gates: number[];
  buffers: ForwardBuffers;
  /** The step-index uniform buffer for `n` steps. */
  steps: (n: number) => GPUBuffer;
}

/**
 * Encodes and submits one forward call: the input projection, the whole recurrence, and the copy
 * of the results into `staging` (output sequence, then the last state). Uniforms and inputs are
 * already written. Throws only on programming errors; GPU errors go to the caller's error scopes.
 */
export function encodeAndSubmit(device: GPUDevice, layouts: Layouts, req: ForwardRequest, plan: ForwardPlan): void {
  const { batch: B, timesteps: T } = req;
  const bufs = plan.buffers;
  const { units: H, inputDim: D } = plan;
  const G = 3 * H;
  const encoder = device.createCommandEncoder({ label: 'gru-webgpu forward' });
  if (!req.initialState) encoder.clearBuffer(bufs.state, 0, B * H * 4);
  const pass = encoder.beginComputePass();
  pass.setPipeline(plan.projection);
  plan.gates.forEach((g, i) => {
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: bufs.projParams, offset: i * UNIFORM_ALIGN, size: 32 } },
      { binding: 1, resource: { buffer: bufs.x } },
      { binding: 2, resource: { buffer: bufs.kernel } },
      { binding: 3, resource: { buffer: bufs.bias } },
      { binding: 4, resource: { buffer: bufs.proj } },
    ];
    if (bufs.xdrop) entries.push({ binding: 5, resource: { buffer: bufs.xdrop, offset: g * bufs.xdropStride, size: B * D * 4 } });
    const layout = bufs.xdrop ? layouts.projectionMaskedGroup : layouts.projectionGroup;
    pass.setBindGroup(0, device.createBindGroup({ layout, entries }));
    pass.dispatchWorkgroups(Math.ceil((g < 0 ? G : H) / PROJ_TILE), Math.ceil((B * T) / PROJ_TILE));
  });
  const recurrentEntries: GPUBindGroupEntry[] = [bufs.params, bufs.proj, bufs.rkernel, bufs.bias, bufs.state, bufs.out, bufs.mask, bufs.rdrop].map(
    (buffer, binding) => ({ binding, resource: buffer === bufs.out ? { buffer, offset: bufs.outOffset } : { buffer } }),
  );
  if (plan.path === 'fused') {
    pass.setPipeline(plan.recurrence[0]);
    pass.setBindGroup(0, device.createBindGroup({ layout: layouts.fusedGroup, entries: recurrentEntries }));
    pass.dispatchWorkgroups(B);
    pass.end();
    copyResults(encoder, req, bufs, H, 0);
    device.queue.submit([encoder.finish()]);
    return;
  }
  pass.end();
  const steps = plan.steps(Math.min(T, STEP_CHUNK));
  const group0 = device.createBindGroup({ layout: layouts.stepGroup, entries: [...recurrentEntries, { binding: 8, resource: { buffer: bufs.scratch } }] });
  const group1 = device.createBindGroup({ layout: layouts.stepIndexGroup, entries: [{ binding: 0, resource: { buffer: steps, size: 16 } }] });
  let enc = encoder;
  for (let k0 = 0; k0 < T; k0 += STEP_CHUNK) {
    const n = Math.min(STEP_CHUNK, T - k0);
    // Per step: its number k, the timestep t it reads (reversed by goBackwards), and the state
    // slots it reads and writes.
    const data = new Uint32Array((n * UNIFORM_ALIGN) / 4);
    for (let i = 0; i < n; i++) {
      const k = k0 + i;
      data.set([k, req.goBackwards ? T - 1 - k : k, k % 2, (k + 1) % 2], (i * UNIFORM_ALIGN) / 4);
    }
    if (k0 > 0) enc = device.createCommandEncoder({ label: 'gru-webgpu forward (steps)' });
    device.queue.writeBuffer(steps, 0, data);
    const sp = enc.beginComputePass();
    sp.setBindGroup(0, group0);
    for (let i = 0; i < n; i++) {
      sp.setBindGroup(1, group1, [i * UNIFORM_ALIGN]);
      plan.recurrence.forEach((pipe, j) => {
        sp.setPipeline(pipe);
        if (plan.perRow[j]) sp.dispatchWorkgroups(B);
        else sp.dispatchWorkgroups(Math.ceil(H / STEP_WG), Math.ceil(B / STEP_ROWS));
      });
    }
    sp.end();
    if (k0 + n >= T) copyResults(enc, req, bufs, H, T % 2);
    // Submitted before the next chunk rewrites the step indices.
    device.queue.submit([enc.finish()]);
  }
}

/** Output sequence (when asked for) then the final state, from state slot `slot`, into staging. */
function copyResults(encoder: GPUCommandEncoder, req: ForwardRequest, bufs: ForwardBuffers, H: number, slot: number): void {
  const BH = req.batch * H;
  let at = 0;
  if (req.returnSequences) {
    at = BH * req.timesteps * 4;
    encoder.copyBufferToBuffer(bufs.out, bufs.outOffset, bufs.staging, 0, at);
  }
  encoder.copyBufferToBuffer(bufs.state, slot * BH * 4, bufs.staging, at, BH * 4);
}
