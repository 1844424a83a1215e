/** The GPU buffers a forward call with keepForBackward leaves for backward. */
export interface SavedBuffers {
  /** The call's input [B, T, D]. */
  x: GPUBuffer;
  /** The input projection [B, T, 3H] (input bias and per-gate input dropout included). */
  proj: GPUBuffer;
  /** Initial state [B, H] (padded to `seqOffset` floats), then the output sequence [B, T, H]. */
  states: GPUBuffer;
  mask: GPUBuffer;
  rdrop: GPUBuffer;
  /** Per-gate input dropout masks, `xdropStride` bytes apart (a 16-byte placeholder without). */
  xdrop: GPUBuffer;
}

/**
 * What a saved call holds. The prepared layer keeps these records (never the handles), so a
 * handle that nobody references can be collected, and its buffers freed, while the layer lives.
 */
export interface SavedRecord {
  buffers: SavedBuffers | undefined;
  /** Why the buffers are gone (undefined while they are held). */
  released?: string;
}

/**
 * The `saved` of a webgpu forward call: opaque to callers, handed back to `backward`. Its GPU
 * buffers are freed when the handle is garbage-collected, when the layer is disposed, or when
 * more than the backend's `savedCalls` newer calls of the same layer have kept theirs.
 */
export class WebGpuSaved {
  constructor(
    /** The prepared layer whose forward call made it. */
    readonly owner: object,
    readonly record: SavedRecord,
    readonly batch: number,
    readonly timesteps: number,
    readonly returnSequences: boolean,
    readonly goBackwards: boolean,
    readonly hasMask: boolean,
    readonly hasRecurrentDropout: boolean,
    readonly hasInputDropout: boolean,
    /** Bytes between the per-gate input dropout masks in `xdrop`. */
    readonly xdropStride: number,
    /** Float offset of the output sequence in `states`. */
    readonly seqOffset: number,
    /** The layer's weights version at the call (setWeights bumps it). */
    readonly weightsVersion: number,
  ) {}
}
