import type { DType, FloatArray } from '@gru/core';

/**
 * The contract between the TypeScript half (Keras semantics, weight layout) and whatever runs
 * cuDNN's RNN: the native addon on a GPU, or a test double. Data here is already in cuDNN's
 * terms: gate order r, z, n in the packed weights, per-row sequence lengths (right padding),
 * outputs past a row's length set to 0 by cuDNN.
 */

/** 'fp32': plain float math (no TF32). 'tf32': cuDNN may use TF32 tensor cores. 'fp16': half storage, float accumulation. */
export type Precision = 'fp32' | 'tf32' | 'fp16';

export interface DeviceLayerDims {
  inputDim: number;
  units: number;
  dtype: DType;
  precision: Precision;
}

export interface DeviceForwardArgs {
  batch: number;
  timesteps: number;
  /** Steps per row, each 1..timesteps (cuDNN rejects 0). */
  seqLengths: Int32Array;
  /** [batch, timesteps, inputDim]; steps past a row's length are ignored. */
  x: FloatArray;
  /** [batch, units], or null for zeros. */
  hx: FloatArray | null;
  /** Receives [batch, timesteps, units] (0 past each row's length), or null when not needed. */
  y: FloatArray | null;
  /** Receives [batch, units]: each row's state after its last step. */
  hy: FloatArray;
  /** Keep what backward needs (cuDNN's training mode). */
  training: boolean;
}

export interface DeviceBackwardArgs {
  /** [batch, timesteps, units]; ignored past each row's length. */
  dy: FloatArray;
  dhy: FloatArray;
  /** Receive [batch, timesteps, inputDim], [batch, units] and the packed weight gradients. */
  dx: FloatArray;
  dhx: FloatArray;
  dw: FloatArray;
}

/** A training forward pass kept on the device. */
export interface DeviceSaved {
  dispose(): void;
  bytes(): number;
}

export interface DeviceLayer {
  /** Packed weights in cuDNN's order (see weights.ts), converted and uploaded off the main thread. */
  setWeights(packed: FloatArray): Promise<void>;
  forward(args: DeviceForwardArgs): Promise<DeviceSaved | undefined>;
  backward(saved: DeviceSaved, args: DeviceBackwardArgs): Promise<void>;
  dispose(): void;
  bytes(): number;
}

export interface DeviceInfo {
  deviceName: string;
  device: number;
  computeCapability: string;
  driverVersion: number;
  driverPath: string;
  cudnnVersion: number;
  cudnnCudartVersion: number;
  cudnnPath: string;
  cublasLtPath: string;
  totalMemory: number;
}

export interface DeviceRuntime {
  /** A layer's cuDNN handle, descriptors and weight space, made off the main thread. */
  createLayer(dims: DeviceLayerDims): Promise<DeviceLayer>;
  memoryInUse(): { device: number; host: number };
  info(): DeviceInfo;
}
