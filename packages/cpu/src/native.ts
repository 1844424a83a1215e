/** The addon's JavaScript surface (native/addon.cc). */

export interface NativeLayerSpec {
  units: number;
  inputDim: number;
  resetAfter: boolean;
  /** Whether the layer has a bias (the bias argument must be given exactly then). */
  useBias: boolean;
  activation: number;
  recurrentActivation: number;
  /** Instruction set to pack for (`avx512`, `avx2`, `sse`, `neon`, `generic`); default: the fastest available. */
  isa?: string;
}

/**
 * A forward request as the addon takes it (addon interface 6): its fields as arguments, in this
 * order, not one object the addon reads key by key (each property read through Node-API cost more
 * than a small call's own arithmetic). An absent array is undefined (or null); the booleans other
 * than keepForBackward are required. The addon checks every one of them again.
 */
export type NativeRequestArgs = [
  x: Float32Array,
  batch: number,
  timesteps: number,
  goBackwards: boolean,
  returnSequences: boolean,
  initialState: Float32Array | undefined,
  mask: Uint8Array | undefined,
  inputDropoutMasks: readonly Float32Array[] | undefined,
  recurrentDropoutMasks: readonly Float32Array[] | undefined,
  /** Keep (natively) what backward needs; the result then has `saved`. */
  keepForBackward: boolean | undefined,
];

/** What a forward call with keepForBackward kept: a handle to native memory (freed by the garbage collector). */
export interface NativeSaved {
  readonly batch: number;
  readonly timesteps: number;
  /** Native bytes it holds. */
  readonly bytes: number;
}

/** An async forward call's result: [output, lastState], and `saved` third for a call made with keepForBackward. */
export type NativeResult = [output: Float32Array, lastState: Float32Array, saved?: NativeSaved];

export interface NativeGradients {
  dx: Float32Array;
  dInitialState: Float32Array;
  dKernel: Float32Array;
  dRecurrentKernel: Float32Array;
  dBias: Float32Array | null;
}

export interface NativeLayer {
  readonly isa: string;
  /** Bytes of packed weights held (0 once disposed). */
  readonly bytes: number;
  readonly disposed: boolean;
  /** `minStepMacs`: the fewest multiply-adds per recurrence step worth a thread. */
  /**
   * Runs the call on this thread, filling `output` and `lastState` (arrays the caller made, sharing
   * no memory with the inputs or each other); returns `saved` where keepForBackward, else undefined.
   */
  forwardSync(
    ...args: [...request: NativeRequestArgs, output: Float32Array, lastState: Float32Array, threads: number, minStepMacs: number]
  ): NativeSaved | undefined;
  /** Runs the call on a libuv worker thread, into native memory handed over when it is done. */
  forward(...args: [...request: NativeRequestArgs, threads: number, minStepMacs: number]): Promise<NativeResult>;
  /** inputGradients false: dx is skipped and comes back empty (absent: true). */
  backwardSync(
    saved: NativeSaved,
    dOutput: Float32Array,
    dLastState: Float32Array | undefined,
    threads: number,
    minStepMacs: number,
    inputGradients?: boolean,
  ): NativeGradients;
  backward(
    saved: NativeSaved,
    dOutput: Float32Array,
    dLastState: Float32Array | undefined,
    threads: number,
    minStepMacs: number,
    inputGradients?: boolean,
  ): Promise<NativeGradients>;
  setWeights(kernel: Float32Array, recurrentKernel: Float32Array, bias: Float32Array | null): void;
  dispose(): void;
  /** Threads a call with this batch would use, given the requested count (small steps use fewer). */
  threadsFor(batch: number, threads: number, minStepMacs: number): number;
}

/**
 * A forward call checked once (`new Bound(layer, ...request, output, lastState, threads,
 * minStepMacs)`), run again without checks or allocation.
 */
export interface NativeBound {
  /** Runs the bound call on the current contents of its arrays, filling its output and lastState. */
  run(): void;
  /** Sets the threading of the runs that follow. */
  configure(threads: number, minStepMacs: number): void;
  /** Lets go of the arrays and the layer; run() then throws. */
  dispose(): void;
}

export interface NativeBinding {
  /** The JavaScript <-> native contract version (ADDON_ABI in loader.ts must match). */
  abi: number;
  Layer: new (spec: NativeLayerSpec, kernel: Float32Array, recurrentKernel: Float32Array, bias: Float32Array | null) => NativeLayer;
  /** `output` and `lastState`: the arrays each run fills (keepForBackward must be false or absent). */
  Bound: new (
    ...args: [layer: NativeLayer, ...request: NativeRequestArgs, output: Float32Array, lastState: Float32Array, threads: number, minStepMacs: number]
  ) => NativeBound;
  /** Instruction sets this CPU can run (fastest first) and its hardware threads. */
  info(): { isas: string[]; cores: number };
  /**
   * Runs at least `flops` FLOPs as register-only FMA chains of `isa` on `threads` threads of the
   * pool; returns the FLOPs run.
   */
  fmaChains(flops: number, threads: number, isa: string): number;
  /** Bytes of native memory held by packed weights and calls in flight, process-wide. */
  bytesInUse(): number;
  /** What the process-wide thread pool did so far (see CpuPoolStats). */
  poolStats(): CpuPoolStats;
}

/**
 * What the process-wide thread pool did since the process started: whether calls that asked for
 * several threads got them, and if not, why. Counts only grow; compare two readings.
 */
export interface CpuPoolStats {
  /** Jobs (a forward or backward call, a streamed step, an FMA probe) shared with pool threads. */
  sharedJobs: number;
  /**
   * Of those, jobs that first had to wake sleeping pool threads (a thread sleeps after about 0.1 ms
   * without work; a woken one joins late, so such a job runs mostly on its caller's thread).
   */
  wokeSleepers: number;
  /** Jobs that asked for several threads but ran on one: another call held the pool (or no thread could start). */
  busyAlone: number;
  /**
   * Calls of small steps that asked for several threads but ran on one because the pool was
   * crowded: lately their threads were kept waiting for one another (more runnable threads than
   * cores), so each such spell runs them alone for 20 ms.
   */
  crowdedAlone: number;
  /** Crowded spells started. */
  crowdedWindows: number;
}
