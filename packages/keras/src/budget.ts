import { LimitError } from './errors.js';

/**
 * Counts the bytes one load allocates for what it reads and decodes (file and shard bytes,
 * inflated archive entries, weight arrays) against `limits.maxBytes`, and refuses an allocation
 * before it is made. Counts are cumulative for the load (nothing is credited back when the
 * garbage collector frees a buffer), so the bound holds whatever the collector does.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes counted so far. */
  get allocated(): number {
    return this.used;
  }

  /** Bytes that may still be allocated. */
  get remaining(): number {
    return Math.max(0, this.limit - this.used);
  }

  /** Throws unless `bytes` more fit in the budget (without counting them). */
  check(bytes: number, what: string): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > this.limit - this.used) {
      throw new LimitError(
        'maxBytes',
        `${what} needs ${bytes} bytes, and this load has already allocated ${this.used} of the ${this.limit} bytes allowed by limits.maxBytes. ` +
          `If the file is trusted, raise the bound: loadModel(source, { limits: { maxBytes: ${suggest(this.used + bytes)} } }).`,
      );
    }
  }

  /** Counts `bytes` about to be allocated for `what`, or throws a LimitError naming limits.maxBytes. */
  take(bytes: number, what: string): void {
    this.check(bytes, what);
    this.used += bytes;
  }
}

/** A round figure (a multiple of 64 MiB) at or above `bytes`, for the message. */
function suggest(bytes: number): number {
  const step = 64 << 20;
  return Number.isFinite(bytes) ? Math.ceil(bytes / step) * step : 2 ** 31;
}
