/**
 * The bound on what one predict may allocate (`limits.maxPredictBytes`). Every layer output and
 * scratch array of a call is made through `arrayLength`, which asks the guard of the call running
 * now: the check happens before the allocation, at no per-element cost. Calls run synchronously
 * inside `withArrayGuard`, so concurrent predicts never see each other's guard.
 */
import { GruError, shareInstanceof } from '@gru/core';

/** An array a predict would allocate beyond `limits.maxPredictBytes`; the graph runner adds the layer's name. */
export class PredictLimitError extends GruError {
  constructor(message: string) {
    super('ValueError', message);
  }
}
shareInstanceof(PredictLimitError, '@gru/keras/PredictLimitError');

/** `bytes` as MiB for messages. */
export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The limit that would allow `bytes` for one sample, as a round figure, and how to set it. */
export function raiseHint(bytes: number): string {
  const step = 64 << 20;
  const next = Number.isFinite(bytes) ? Math.max(step, Math.ceil(bytes / step) * step) : 2 ** 31;
  return `If the model is trusted, raise the bound: loadModel(source, { limits: { maxPredictBytes: ${next} } }) (or parseModel / modelFromParsed with the same limits).`;
}

/**
 * Counts one predict's intermediate arrays against `limit`: `live` is what the graph holds between
 * calls (outputs not yet read for the last time, the running call's inputs among them), `call` what
 * the running call has allocated so far (its scratch is counted until it returns, which only errs
 * on the safe side).
 */
export class ArrayGuard {
  live = 0;
  private call = 0;
  /** The bytes this predict may hold: `perSample` for each sample of its batch. */
  readonly limit: number;

  /**
   * The bound scales with the batch the caller chose (a predict of many samples holds that many
   * rows, as it would in Keras); what a file's config can blow up is each sample's share.
   */
  constructor(
    readonly perSample: number,
    readonly samples = 1,
  ) {
    this.limit = perSample * Math.max(1, samples);
  }

  /** The limit and where it comes from, for messages. */
  describe(): string {
    const per = this.samples > 1 ? `: ${this.perSample} bytes per sample x ${this.samples} samples` : '';
    return `the ${this.limit} bytes (${mib(this.limit)}) allowed by limits.maxPredictBytes${per}`;
  }

  /** How to allow `held` bytes. */
  hint(held: number): string {
    return raiseHint(held / Math.max(1, this.samples));
  }

  /** Starts a call: nothing allocated by it yet. */
  startCall(): void {
    this.call = 0;
  }

  /** Counts an array of `bytes` about to be allocated, or throws a PredictLimitError. */
  take(length: number, bytes: number): void {
    const held = this.live + this.call;
    if (bytes > this.limit - held) {
      throw new PredictLimitError(
        `an array of ${length} values (${mib(bytes)}) would bring this predict's intermediate arrays to ${mib(held + bytes)}, ` +
          `over ${this.describe()}. ${this.hint(held + bytes)}`,
      );
    }
    this.call += bytes;
  }
}

let current: ArrayGuard | null = null;

/** Runs the synchronous `f` with `guard` counting the arrays it allocates. */
export function withArrayGuard<T>(guard: ArrayGuard, f: () => T): T {
  const outer = current;
  current = guard;
  try {
    return f();
  } finally {
    current = outer;
  }
}

/** Counts an array about to be allocated against the running call's guard, if any. */
export function guardArray(length: number, bytesPer: number): void {
  current?.take(length, length * bytesPer);
}
