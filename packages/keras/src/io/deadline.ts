import { KerasFileError } from '../errors.js';

/** Default for `LoadOptions.timeoutMs`: how long a load's fetches, body reads and file reads may take. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * One load's cancellation: the caller's `signal` and a `timeoutMs` deadline, combined into one
 * AbortSignal that fetches take and that body and file reads check. `dispose()` clears the
 * timer; it never keeps a Node process alive.
 */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout> | undefined;
  private readonly unlink: (() => void) | undefined;
  private timedOut = false;

  constructor(
    readonly timeoutMs: number,
    private readonly given: AbortSignal | undefined,
  ) {
    this.signal = this.controller.signal;
    if (given?.aborted) this.controller.abort(given.reason);
    else if (given) {
      const onAbort = () => this.controller.abort(given.reason);
      given.addEventListener('abort', onAbort, { once: true });
      this.unlink = () => given.removeEventListener('abort', onAbort);
    }
    if (Number.isFinite(timeoutMs) && !this.signal.aborted) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
      }, timeoutMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Throws the load's abort error when the signal fired or the deadline passed. */
  check(doing: string): void {
    if (this.signal.aborted) throw this.error(doing);
  }

  /** The error for an aborted `doing`: which of the two stopped it and how to change that. */
  error(doing: string): KerasFileError {
    if (this.timedOut) {
      return new KerasFileError(
        `${doing} did not finish within ${this.timeoutMs} ms (options.timeoutMs); pass a larger timeoutMs, or Infinity for no deadline.`,
        { cause: this.signal.reason },
      );
    }
    return new KerasFileError(`${doing} was aborted by options.signal${reasonText(this.given?.reason)}.`, { cause: this.given?.reason });
  }

  /** `promise`, or the abort error for `doing` if the load is aborted or late first. */
  race<T>(promise: Promise<T>, doing: string): Promise<T> {
    this.check(doing);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.error(doing));
      this.signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => this.signal.removeEventListener('abort', onAbort));
    });
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.unlink?.();
  }
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error && reason.message) return ` (${reason.message})`;
  if (typeof reason === 'string' && reason) return ` (${reason})`;
  return '';
}

/** Checks `LoadOptions.timeoutMs` and `signal`, naming the option and what was received. */
export function checkDeadlineOptions(timeoutMs: unknown, signal: unknown): void {
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0)) {
    throw new KerasFileError(`Option \`timeoutMs\` must be a positive number of milliseconds (or Infinity), received ${String(timeoutMs)}.`);
  }
  if (
    signal !== undefined &&
    !(typeof signal === 'object' && signal !== null && 'aborted' in signal && typeof (signal as AbortSignal).addEventListener === 'function')
  ) {
    throw new KerasFileError(`Option \`signal\` must be an AbortSignal, received ${signal === null ? 'null' : typeof signal}.`);
  }
}
