import { valueError } from '../errors.js';

/** The options `backward()` knows, each a boolean when given. */
const KNOWN = ['includeRegularization', 'inputGradients'] as const;

/** How a received value reads in an error (never throws: no JSON of a cyclic object). */
function received(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
  if (value === null || typeof value !== 'object') return `${typeof value === 'function' ? 'a function' : String(value)}`;
  return Array.isArray(value) ? `an array of ${value.length} values` : `an object (${(value as object).constructor?.name ?? 'no prototype'})`;
}

/**
 * `backward()`'s options checked at run time, as the types check them at compile time: an object,
 * no key it does not know (a misspelt `includeRegularisation` would silently leave the penalty
 * out), and booleans (`null` is not `true`).
 */
export function checkBackwardOptions(options: unknown): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw valueError(`Argument \`options\` of backward() must be an object such as {inputGradients: false}, received ${received(options)}.`);
  }
  const unknown = Object.keys(options).filter((k) => !(KNOWN as readonly string[]).includes(k));
  if (unknown.length) {
    throw valueError(
      `Unrecognized option${unknown.length > 1 ? 's' : ''} passed to backward(): ${unknown.map((k) => `'${k}'`).join(', ')}; it knows ${KNOWN.map((k) => `'${k}'`).join(', ')}.`,
    );
  }
  for (const key of KNOWN) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined && typeof value !== 'boolean') {
      throw valueError(`Argument \`options.${key}\` of backward() must be a boolean, received ${received(value)}.`);
    }
  }
}
