// The ESM and CJS builds (or two installed versions) of @gru/core in one process each have their
// own copy of every class, so plain `instanceof` fails for an object made by the other copy: an
// error it threw, a SeedGenerator or a GRU it made. Each shared class is branded under a
// Symbol.for key, the same in every copy; `instanceof` accepts an object carrying the brand of the
// class asked about (so a subclass still matches only its own kind).
const BRAND = Symbol.for('@gru/core:class-brand');

type AnyClass = abstract new (...args: never[]) => unknown;

// `this` is the class on the right of `instanceof` (a subclass included: they inherit it).
function hasInstance(this: AnyClass, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
  // Only a class's own brand: an unbranded subclass keeps plain instanceof.
  if (!Object.hasOwn(this, BRAND) || typeof value !== 'object' || value === null) return false;
  const key = (this as unknown as Record<symbol, symbol>)[BRAND] as symbol;
  return (value as Record<symbol, unknown>)[key] === true;
}

/**
 * Makes `instanceof cls` hold for an object made by another copy of the package that defines
 * `cls` (ESM and CJS builds, or two installed versions): `id` names the class the same way in
 * every copy (e.g. '@gru/keras/KerasFileError'). For the classes of gru's packages whose objects
 * may cross copies (errors, SeedGenerator, GRU, GRUCell); the copies must agree on the class's
 * fields and methods, since the other copy's object is then used as one of its own.
 */
export function shareInstanceof(cls: AnyClass, id: string): void {
  // Set as a property rather than a static method, so the class keeps the ordinary `instanceof`
  // typing; a subclass of a class that has it inherits it.
  if ((cls as unknown as Record<symbol, unknown>)[Symbol.hasInstance] !== hasInstance) {
    Object.defineProperty(cls, Symbol.hasInstance, { value: hasInstance });
  }
  const key = Symbol.for(`gru class: ${id}`);
  Object.defineProperty(cls, BRAND, { value: key });
  Object.defineProperty(cls.prototype, key, { value: true });
}
