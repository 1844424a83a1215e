/**
 * Errors carry Keras's exception class name (`ValueError`, `TypeError`, ...) in `kerasType`, so a
 * user porting Python code can branch on the same kinds, and messages use Keras's wording where
 * Keras has one. Where Keras fails deep inside numpy (a matmul shape clash), we raise our own
 * message instead, naming the argument, what was expected and what was received.
 */
import { shareInstanceof } from './shared-instanceof.js';

export type KerasErrorType = 'ValueError' | 'TypeError' | 'IndexError' | 'OverflowError' | 'NotImplementedError';

// `instanceof` of these classes holds for an error thrown by another copy of @gru/core (the ESM
// and CJS builds side by side, or two installed versions): see shareInstanceof.
export class GruError extends Error {
  readonly kerasType: KerasErrorType;
  constructor(kerasType: KerasErrorType, message: string) {
    super(message);
    this.kerasType = kerasType;
    this.name = `GruError(${kerasType})`;
  }
}
shareInstanceof(GruError, '@gru/core/GruError');

/** A named backend cannot run a call; `reason` is the backend's own explanation from `supports()`. */
export class UnsupportedCallError extends GruError {
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super('ValueError', `Backend '${backend}' cannot run this call: ${asSentence(reason)}`);
    this.name = 'UnsupportedCallError';
  }
}
shareInstanceof(UnsupportedCallError, '@gru/core/UnsupportedCallError');

/** Ends `text` with a full stop unless it already ends a sentence (reasons often do). */
export function asSentence(text: string): string {
  const trimmed = text.trimEnd();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

export function valueError(message: string): GruError {
  return new GruError('ValueError', message);
}

export function typeError(message: string): GruError {
  return new GruError('TypeError', message);
}

/** Formats a received value the way Python's `str()` would show it in a Keras message. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(pyReprNested).join(', ')}]`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length})`;
  if (typeof value === 'function') return `<function ${value.name || 'anonymous'}>`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function pyReprNested(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : pyRepr(value);
}

/** Python's name for a JS value's type, for TypeError messages mirroring Keras's. */
export function pyTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? ((value as object).constructor?.name ?? 'object') : typeof value;
}

export function formatShape(shape: readonly (number | null)[]): string {
  const items = shape.map((d) => (d === null ? 'None' : String(d)));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}
