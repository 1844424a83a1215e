import { describeThrown, KerasFileError, LimitError } from '../errors.js';
import type { LoadLimits } from '../limits.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes to text, refusing invalid UTF-8 with the file's name rather than decoding garbage. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new KerasFileError(`${what} is not valid UTF-8 text.`);
  }
}

/** Nesting depth of a JSON text, counted without parsing (so a deep document cannot exhaust the stack). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** JSON.parse with the size and depth bounds checked first, and errors that name the document. */
export function parseJson(input: Uint8Array | string, what: string, limits: LoadLimits): unknown {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > limits.maxJsonBytes) {
    throw new LimitError('maxJsonBytes', `${what} is ${size} bytes, over the limit of ${limits.maxJsonBytes} bytes (limits.maxJsonBytes).`);
  }
  const text = typeof input === 'string' ? input : decodeUtf8(input, what);
  const depth = jsonDepth(text);
  if (depth > limits.maxJsonDepth) {
    throw new LimitError('maxJsonDepth', `${what} nests ${depth} levels deep, over the limit of ${limits.maxJsonDepth} (limits.maxJsonDepth).`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new KerasFileError(`${what} is not valid JSON: ${describeThrown(err)}`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Short JSON of a value for error messages. */
export function preview(value: unknown, max = 120): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
