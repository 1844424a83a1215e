import { UNIFORM_ALIGN } from './gpu-constants.js';
import { BWD_PARAMS_WORDS, BWD_WG } from './kernels/backward.js';
import type { Layouts } from './layouts.js';
import type { SavedBuffers, WebGpuSaved } from './saved.js';
import { STEP_CHUNK } from './encode-forward.js';

/** Largest workgroup count WebGPU allows per dispatch dimension. */
const MAX_WORKGROUPS = 65_535;

/** Float offsets of the regions of the backward pass's `work` and `out` buffers. */
export interface BackwardLayout {
  dOutOff: number;
  dhOff: number;
  scrOff: number;
  dPreOff: number;
  auxOff: number;
  workFloats: number;
  oDx: number;
  /** Whether dx is computed (at oDx); else oDK is oDx. */
  inputGradients: boolean;
  oDK: number;
  oDR: number;
  oDB: number;
  outFloats: number;
}

/** Without `inputGradients` the gradients buffer has no dx (the input-gradient dispatch is skipped). */
export function backwardLayout(B: number, T: number, D: number, H: number, returnSequences: boolean, inputGradients = true): BackwardLayout {
  const G = 3 * H;
  const dOutOff = 0;
  const dhOff = dOutOff + (returnSequences ? B * T * H : 0);
  const scrOff = dhOff + 2 * B * H;
  const dPreOff = scrOff + 5 * B * H;
  const auxOff = dPreOff + B * T * G;
  const workFloats = auxOff + B * T * H;
  const oDx = 0;
  const oDK = oDx + (inputGradients ? B * T * D : 0);
  const oDR = oDK + D * G;
  const oDB = oDR + H * G;
  return { dOutOff, dhOff, scrOff, dPreOff, auxOff, workFloats, oDx, inputGradients, oDK, oDR, oDB, outFloats: oDB + 2 * G };
}

/** The uniform of one backward call (kernels/backward.ts's `BP`). */
export function backwardParams(saved: WebGpuSaved, D: number, H: number, l: BackwardLayout): Uint32Array<ArrayBuffer> {
  const { batch: B, timesteps: T } = saved;
  const words = new Uint32Array(BWD_PARAMS_WORDS);
  words.set([
    B,
    T,
    H,
    3 * H,
    D,
    saved.hasMask ? 1 : 0,
    saved.hasRecurrentDropout ? 1 : 0,
    saved.returnSequences ? 1 : 0,
    saved.seqOffset,
    l.dOutOff,
    l.dhOff,
    l.scrOff,
    l.dPreOff,
    l.auxOff,
    saved.xdropStride / 4,
    saved.hasInputDropout ? 1 : 0,
    l.oDx,
    l.oDK,
    l.oDR,
    l.oDB,
    saved.goBackwards ? 1 : 0,
  ]);
  return words;
}

export interface BackwardPipelines {
  /** Per-step kernels in dispatch order; `transposed` ones read the transposed recurrent kernel. */
  steps: Array<{ pipeline: GPUComputePipeline; transposed: boolean }>;
  /** The one-dispatch recurrence (instead of `steps`), where the state fits in workgroup memory. */
  fused?: GPUComputePipeline;
  transpose: GPUComputePipeline;
  kernelGrad: GPUComputePipeline;
  inputGrad: GPUComputePipeline;
  recurrentGrad: GPUComputePipeline;
  /** Absent without a bias. */
  biasGrad?: GPUComputePipeline;
}

export interface BackwardBuffers {
  saved: SavedBuffers;
  params: GPUBuffer;
  kernel: GPUBuffer;
  rkernel: GPUBuffer;
  bias: GPUBuffer;
  /** The transposed recurrent kernel [3H, H], f32. */
  rkernelT: GPUBuffer;
  work: GPUBuffer;
  out: GPUBuffer;
  staging: GPUBuffer;
  /** The step-index uniform buffer for `n` steps. */
  steps: (n: number) => GPUBuffer;
}

/**
 * Encodes and submits a whole backward pass: the recurrent kernel's transpose, every step in
 * reverse processing order (no readback in between), the weight and input gradients, and the copy
 * of all gradients plus the initial state's gradient into `staging`. Uniforms and the initial
 * state gradient are already written.
 */
export function encodeBackward(
  device: GPUDevice,
  layouts: Layouts,
  saved: WebGpuSaved,
  H: number,
  D: number,
  l: BackwardLayout,
  pipes: BackwardPipelines,
  bufs: BackwardBuffers,
): void {
  const { batch: B, timesteps: T } = saved;
  const G = 3 * H;
  const s = bufs.saved;
  const post = (out: GPUBuffer) =>
    device.createBindGroup({
      layout: layouts.backPostGroup,
      entries: [bufs.params, s.x, bufs.kernel, bufs.rkernel, s.states, s.rdrop, s.xdrop, bufs.work, out].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
  const stepGroup = (rk: GPUBuffer) =>
    device.createBindGroup({
      layout: layouts.backStepGroup,
      entries: [bufs.params, s.proj, rk, bufs.bias, s.states, s.mask, s.rdrop, bufs.work].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  const groupR = stepGroup(bufs.rkernel);
  const groupRT = stepGroup(bufs.rkernelT);
  const steps = bufs.steps(Math.min(T, STEP_CHUNK));
  const indexGroup = device.createBindGroup({ layout: layouts.stepIndexGroup, entries: [{ binding: 0, resource: { buffer: steps, size: 16 } }] });
  const unitGroups = Math.ceil(H / BWD_WG);

  let enc = device.createCommandEncoder({ label: 'gru-webgpu backward' });
  const first = enc.beginComputePass();
  first.setPipeline(pipes.transpose);
  first.setBindGroup(0, post(bufs.rkernelT));
  first.dispatchWorkgroups(unitGroups, G);
  first.end();
  if (pipes.fused) {
    const pass = enc.beginComputePass();
    pass.setPipeline(pipes.fused);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: layouts.backFusedGroup,
        entries: [bufs.params, s.proj, bufs.rkernel, bufs.rkernelT, bufs.bias, s.states, s.mask, s.rdrop, bufs.work].map((buffer, binding) => ({
          binding,
          resource: { buffer },
        })),
      }),
    );
    pass.dispatchWorkgroups(B);
    pass.end();
  } else {
    for (let i0 = 0; i0 < T; i0 += STEP_CHUNK) {
      const n = Math.min(STEP_CHUNK, T - i0);
      // Step i of the backward pass undoes forward step k = T-1-i, reading the state gradient from
      // slot i % 2 and writing the one before it to the other slot.
      const data = new Uint32Array((n * UNIFORM_ALIGN) / 4);
      for (let a = 0; a < n; a++) {
        const i = i0 + a;
        const k = T - 1 - i;
        data.set([k, saved.goBackwards ? T - 1 - k : k, i % 2, (i + 1) % 2], (a * UNIFORM_ALIGN) / 4);
      }
      if (i0 > 0) enc = device.createCommandEncoder({ label: 'gru-webgpu backward (steps)' });
      device.queue.writeBuffer(steps, 0, data);
      const pass = enc.beginComputePass();
      for (let a = 0; a < n; a++) {
        pass.setBindGroup(1, indexGroup, [a * UNIFORM_ALIGN]);
        for (const k of pipes.steps) {
          pass.setPipeline(k.pipeline);
          pass.setBindGroup(0, k.transposed ? groupRT : groupR);
          pass.dispatchWorkgroups(unitGroups, B);
        }
      }
      pass.end();
      // Submitted before the next chunk rewrites the step indices.
      if (i0 + n < T) device.queue.submit([enc.finish()]);
    }
  }
  const tail = enc.beginComputePass();
  tail.setBindGroup(0, post(bufs.out));
  tail.setPipeline(pipes.kernelGrad);
  tail.dispatchWorkgroups(Math.ceil(G / BWD_WG), D);
  if (l.inputGradients) {
    tail.setPipeline(pipes.inputGrad);
    tail.dispatchWorkgroups(Math.ceil(D / BWD_WG), Math.min(B * T, MAX_WORKGROUPS));
  }
  tail.setPipeline(pipes.recurrentGrad);
  tail.dispatchWorkgroups(Math.ceil(G / BWD_WG), H);
  if (pipes.biasGrad) {
    tail.setPipeline(pipes.biasGrad);
    tail.dispatchWorkgroups(Math.ceil((2 * G) / BWD_WG));
  }
  tail.end();
  enc.copyBufferToBuffer(bufs.out, 0, bufs.staging, 0, l.outFloats * 4);
  enc.copyBufferToBuffer(bufs.work, (l.dhOff + (T % 2) * B * H) * 4, bufs.staging, l.outFloats * 4, B * H * 4);
  device.queue.submit([enc.finish()]);
}
