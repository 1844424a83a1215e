import { shareInstanceof } from '@gru/core';

/**
 * Every failure to load a file is a KerasFileError with a message that says which part of which
 * file was wrong, what was expected and what was found. Subclasses let callers tell apart a
 * model gru does not run (UnsupportedLayerError), one it will not run because it would mean
 * trusting the file (UnsafeModelError), and one that exceeds a configured bound (LimitError).
 * `instanceof` holds for errors made by the other build (ESM or CJS) of this package too.
 */
export class KerasFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KerasFileError';
  }
}
shareInstanceof(KerasFileError, '@gru/keras/KerasFileError');

/** The model uses a layer class or option that gru does not implement. */
export class UnsupportedLayerError extends KerasFileError {
  constructor(
    readonly className: string,
    readonly layerName: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnsupportedLayerError';
  }
}
shareInstanceof(UnsupportedLayerError, '@gru/keras/UnsupportedLayerError');

/** The file asks for code or custom objects (Lambda, registered functions); gru never runs them. */
export class UnsafeModelError extends KerasFileError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeModelError';
  }
}
shareInstanceof(UnsafeModelError, '@gru/keras/UnsafeModelError');

/** A size read from the file (or the file itself) is over one of the `LoadLimits`. */
export class LimitError extends KerasFileError {
  constructor(
    readonly limit: string,
    message: string,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}
shareInstanceof(LimitError, '@gru/keras/LimitError');

/** Any thrown value (third-party parsers throw strings) as a readable message. */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

/** A shape as Keras prints it: `(None, 5, 3)`, `(3,)`, `()`. */
export function kerasShape(s: readonly (number | null)[]): string {
  return s.length === 1 ? `(${s[0] ?? 'None'},)` : `(${s.map((d) => d ?? 'None').join(', ')})`;
}
