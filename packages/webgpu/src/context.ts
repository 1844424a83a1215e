import type { Layouts } from './layouts.js';
import type { GpuMemory } from './memory.js';

/** What a prepared layer needs from its backend: the device and what is shared per device. */
export interface GpuContext {
  readonly device: GPUDevice;
  readonly memory: GpuMemory;
  readonly layouts: Layouts;
  /** Weights stored as f16 (the backend's `precision: 'f16'`). */
  readonly f16: boolean;
  readonly recurrence: 'auto' | 'fused' | 'stepwise';
  /** A compute pipeline for this WGSL (compiled once per device, shared by layers). */
  pipeline(code: string, layout: GPUPipelineLayout): Promise<GPUComputePipeline>;
  /** Why the device was lost, or undefined while it is alive. */
  lostReason(): string | undefined;
  /** `work`, rejected with the reason if the device is lost first (a lost device must not hang a call). */
  whileAlive<T>(work: Promise<T>): Promise<T>;
  /** Called by a prepared layer's dispose(). */
  forget(prepared: object): void;
}
