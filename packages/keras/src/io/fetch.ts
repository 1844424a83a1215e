import type { ByteBudget } from '../budget.js';
import { describeThrown, KerasFileError, LimitError } from '../errors.js';
import type { LoadLimits } from '../limits.js';
import type { Deadline } from './deadline.js';

/** A URL as messages show it: a data: URL can be megabytes long. */
export function shownUrl(url: string): string {
  return url.length > 200 ? `${url.slice(0, 60)}... (a URL of ${url.length} characters)` : url;
}

/** Redirects followed for one URL; more means a loop or a server not worth trusting. */
export const MAX_REDIRECTS = 5;

/** Where a fetch may be redirected: `undefined` allows any http(s) URL; otherwise a check that throws. */
export type RedirectCheck = ((url: string) => void) | undefined;

/** What reading a URL needs: limits and the byte budget, the load's deadline. */
export interface FetchContext {
  limits: LoadLimits;
  budget: ByteBudget;
  deadline: Deadline;
}

/**
 * Fetches `url` following at most MAX_REDIRECTS redirects, each checked by `allowed` before it is
 * requested (so a shard redirected out of model.json's folder is never fetched from there). Where
 * redirects are opaque (browsers' `redirect: 'manual'`), the request is made again following them
 * and the final `response.url` is checked before its body is read.
 */
export async function fetchChecked(url: string, ctx: FetchContext, allowed: RedirectCheck): Promise<Response> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const response = await request(current, 'manual', ctx, url);
    if (response.type === 'opaqueredirect') {
      const followed = await request(current, 'follow', ctx, url);
      try {
        if (followed.url && followed.url !== current) checkTarget(followed.url, url, allowed);
      } catch (err) {
        await followed.body?.cancel().catch(() => {});
        throw err;
      }
      return ok(followed, url);
    }
    if (response.status < 300 || response.status > 399 || response.status === 304) return ok(response, url);
    await response.body?.cancel().catch(() => {});
    const location = response.headers.get('location');
    if (!location) throw new KerasFileError(`Cannot fetch ${url}: HTTP ${response.status} redirect without a Location.`);
    if (hop >= MAX_REDIRECTS) throw new KerasFileError(`Cannot fetch ${url}: more than ${MAX_REDIRECTS} redirects.`);
    let next: string;
    try {
      next = new URL(location, current).href;
    } catch {
      throw new KerasFileError(`Cannot fetch ${url}: it redirects to an invalid URL ${JSON.stringify(location.slice(0, 200))}.`);
    }
    checkTarget(next, url, allowed);
    current = next;
  }
}

function checkTarget(target: string, url: string, allowed: RedirectCheck): void {
  const protocol = new URL(target).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new KerasFileError(`Cannot fetch ${url}: it redirects to ${target.slice(0, 200)}, which is not an http(s) URL; refusing to follow.`);
  }
  allowed?.(target);
}

async function request(url: string, redirect: 'manual' | 'follow', ctx: FetchContext, original: string): Promise<Response> {
  ctx.deadline.check(`Fetching ${shownUrl(original)}`);
  try {
    return await fetch(url, { redirect, signal: ctx.deadline.signal });
  } catch (err) {
    if (ctx.deadline.signal.aborted) throw ctx.deadline.error(`Fetching ${shownUrl(original)}`);
    throw new KerasFileError(`Cannot fetch ${shownUrl(url)}: ${describeThrown(err)}`, { cause: err });
  }
}

async function ok(response: Response, url: string): Promise<Response> {
  if (response.ok) return response;
  await response.body?.cancel().catch(() => {});
  throw new KerasFileError(`Cannot fetch ${shownUrl(url)}: HTTP ${response.status} ${response.statusText}`.trim() + '.');
}

/**
 * Reads a response body, stopping as soon as it passes `limits.maxFileBytes` (a lying or absent
 * Content-Length is not trusted) or the load is aborted. The body goes into one buffer sized from
 * Content-Length when there is one, grown by doubling otherwise; every allocation is counted
 * against `limits.maxBytes` before it is made.
 */
export async function readResponse(response: Response, label: string, ctx: FetchContext): Promise<Uint8Array> {
  const { limits, budget, deadline } = ctx;
  if (response.bodyUsed) throw new KerasFileError(`${label}: the Response body was already read; pass a fresh Response.`);
  const declared = Number(response.headers.get('content-length'));
  const sized = Number.isSafeInteger(declared) && declared > 0 && !response.headers.get('content-encoding');
  if (sized) checkFileSize(declared, label, limits);
  const doing = `Reading ${label}`;
  deadline.check(doing);
  if (!response.body) {
    budget.take(sized ? declared : 0, label);
    const bytes = new Uint8Array(await response.arrayBuffer());
    checkFileSize(bytes.byteLength, label, limits);
    budget.take(sized ? Math.max(0, bytes.byteLength - declared) : bytes.byteLength, label);
    return bytes;
  }
  const reader = response.body.getReader();
  const onAbort = () => void reader.cancel(deadline.signal.reason).catch(() => {});
  deadline.signal.addEventListener('abort', onAbort, { once: true });
  try {
    let out = new Uint8Array(0);
    let total = 0;
    const grow = (need: number) => {
      const size = Math.min(Math.max(need, sized && out.length === 0 ? declared : 2 * out.length, 1 << 16), limits.maxFileBytes);
      budget.take(size, label);
      const next = new Uint8Array(size);
      next.set(out.subarray(0, total));
      out = next;
    };
    for (;;) {
      let chunk: { done: true; value?: undefined } | { done: false; value: Uint8Array };
      try {
        chunk = await reader.read();
      } catch (err) {
        if (deadline.signal.aborted) throw deadline.error(doing);
        throw new KerasFileError(`Cannot read ${label}: ${describeThrown(err)}`, { cause: err });
      }
      deadline.check(doing);
      if (chunk.done) break;
      const value = chunk.value;
      if (total + value.byteLength > limits.maxFileBytes) {
        await reader.cancel().catch(() => {});
        checkFileSize(total + value.byteLength, label, limits);
      }
      if (total + value.byteLength > out.length) grow(total + value.byteLength);
      out.set(value, total);
      total += value.byteLength;
    }
    return total === out.length ? out : out.subarray(0, total);
  } finally {
    deadline.signal.removeEventListener('abort', onAbort);
  }
}

export function checkFileSize(size: number, label: string, limits: LoadLimits): void {
  if (size > limits.maxFileBytes) {
    throw new LimitError('maxFileBytes', `${label} is ${size} bytes, over the limit of ${limits.maxFileBytes} bytes (limits.maxFileBytes).`);
  }
}
