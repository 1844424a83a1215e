/**
 * Errors carry Keras's exception class name (`ValueError`, `TypeError`, ...) in `kerasType`, so a
 * user porting Python code can branch on the same kinds, and messages use Keras's wording where
 * Keras has one. Where Keras fails deep inside numpy (a matmul shape clash), we raise our own
 * message instead, naming the argument, what was expected and what was received.
 */
export type KerasErrorType = 'ValueError' | 'TypeError' | 'IndexError' | 'OverflowError' | 'NotImplementedError';

// The ESM and CJS builds (or two installed versions) of @gru/core in one process each have their
// own GruError class, so plain `instanceof` fails for an error thrown by the other copy. Each
// class is branded under a Symbol.for key, the same in every copy; `instanceof` accepts an error
// carrying the brand of the class asked about (so a subclass still matches only its own kind).
const BRAND = Symbol.for('@gru/core:error-brand');

// `this` is the class on the right of `instanceof` (a subclass included: they inherit it).
function hasInstance(this: abstract new (...args: never[]) => unknown, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
  // Only a class's own brand: an unbranded subclass keeps plain instanceof.
  if (!Object.hasOwn(this, BRAND) || typeof value !== 'object' || value === null) return false;
  const key = (this as unknown as Record<symbol, symbol>)[BRAND] as symbol;
  return (value as Record<symbol, unknown>)[key] === true;
}

/**
 * Makes `instanceof cls` hold for an error made by another copy of the package that defines
 * `cls` (ESM and CJS builds, or two installed versions): `id` names the class the same way in
 * every copy (e.g. '@gru/keras/KerasFileError'). For error classes of gru's packages.
 */
export function shareInstanceof(cls: abstract new (...args: never[]) => Error, id: string): void {
  // Set as a property rather than a static method, so the class keeps the ordinary `instanceof`
  // typing; a subclass of a class that has it inherits it.
  if ((cls as unknown as Record<symbol, unknown>)[Symbol.hasInstance] !== hasInstance) {
    Object.defineProperty(cls, Symbol.hasInstance, { value: hasInstance });
  }
  const key = Symbol.for(`gru error class: ${id}`);
  Object.defineProperty(cls, BRAND, { value: key });
  Object.defineProperty(cls.prototype, key, { value: true });
}

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
