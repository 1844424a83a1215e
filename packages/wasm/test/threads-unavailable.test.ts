import { afterEach, describe, expect, it, vi } from 'vitest';
import { threadsUnavailable } from '../src/thread-pool.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

// What a page's contexts offer, set up synchronously around one call (no Node process there).
function inContext(globals: { Worker?: unknown; SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean }): string | undefined {
  vi.stubGlobal('process', undefined);
  vi.stubGlobal('Worker', globals.Worker);
  vi.stubGlobal('SharedArrayBuffer', globals.SharedArrayBuffer);
  vi.stubGlobal('crossOriginIsolated', globals.crossOriginIsolated);
  try {
    return threadsUnavailable();
  } finally {
    vi.unstubAllGlobals();
  }
}

describe('why a browser context cannot run worker threads', () => {
  it('a SharedWorker (no Worker constructor, not isolated) is told it cannot start workers, not to send headers the page already sends', () => {
    expect(inContext({ crossOriginIsolated: false })).toBe(
      'this context cannot start workers (it has no Worker constructor, as in a SharedWorker, a service worker or an edge runtime); use threads: 1',
    );
  });

  it('a page that is not cross-origin isolated is told which headers to send', () => {
    const Worker = class {};
    expect(inContext({ Worker, crossOriginIsolated: false })).toMatch(
      /^SharedArrayBuffer is not available \(in a browser, the page must be cross-origin isolated/,
    );
    expect(inContext({ Worker, SharedArrayBuffer, crossOriginIsolated: false })).toMatch(
      /^the page is not cross-origin isolated \(serve it with Cross-Origin-Opener-Policy/,
    );
    expect(inContext({ Worker, SharedArrayBuffer, crossOriginIsolated: true })).toBeUndefined();
  });
});
