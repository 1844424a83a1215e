/**
 * The browser side of test/browser.test.ts, bundled by esbuild: runs @gru/conformance's checks
 * on the wasm backend inside the page. Conformance's loader and expectations read files with
 * node:fs, so the test serves the parsed cases and expectations as JSON, and this page uses the
 * fs-free parts of conformance (its case runners) and judges outcomes as conformance's runner does.
 */
import { runConfigCase, runErrorEntry } from '../../../../conformance/src/core-cases.js';
import type { CaseJson, ConfigCaseJson, ErrorEntryJson } from '../../../../conformance/src/format.js';
import { runForwardCase, type CaseOutcome } from '../../../../conformance/src/run-case.js';
import { runGradientCase } from '../../../../conformance/src/run-gradient-case.js';
import { judge } from '../../../../conformance/src/judge.js';
import { checkForeignArrays } from '../../../../conformance/src/testing/foreign-arrays.js';
import type { Expectations } from '../../../../conformance/src/expectations-types.js';
import { registerBackend } from '@gru/core';
import { backend as singleThread, createWasmBackend } from '../../src/index.js';

export interface PagePayload {
  cases: CaseJson[];
  configCases: ConfigCaseJson[];
  errorEntries: ErrorEntryJson[];
  expectations: Expectations;
}

export interface PageResult {
  name: string;
  status: 'passed' | 'failed' | 'unsupported' | 'expected-failure';
  detail?: string;
}

export interface PageReport {
  results: PageResult[];
  userAgent: string;
  simd: boolean;
  /** The build the backend loaded (relaxed SIMD where Chromium has it). */
  isa?: string;
  /**
   * WebAssembly.validate of the relaxed build's own bytes, fetched here: what `isa` must follow.
   * Undefined on the copied-only-plain page, where that file is missing.
   */
  relaxedValidates?: boolean;
  /** The backend's relaxedSimdFallback: why it loaded the plain build in an engine with relaxed SIMD. */
  relaxedSimdFallback?: string;
  /** Worker threads the backend ran on (0: single-threaded), and whether the page was isolated. */
  threads: number;
  crossOriginIsolated: boolean;
  /** On a page that is not isolated: how load() refused threads. */
  threadsRefusal?: string;
  /**
   * The iframes in the document before contract:foreign-arrays ran and after it, and how many it
   * added (its other realm): it must leave none behind.
   */
  foreignArraysIframes?: { before: number; made: number; after: number };
  error?: string;
}

/** Runs contract:foreign-arrays, counting the iframes it adds to the document and leaves there. */
async function foreignArraysCounted(
  backend: Parameters<typeof checkForeignArrays>[0],
): Promise<{ outcome: CaseOutcome; iframes: PageReport['foreignArraysIframes'] }> {
  const count = () => document.querySelectorAll('iframe').length;
  let made = 0;
  const iframesIn = (records: MutationRecord[]) => {
    for (const r of records) made += Array.from(r.addedNodes).filter((n) => n.nodeName === 'IFRAME').length;
  };
  const added = new MutationObserver(iframesIn);
  added.observe(document, { childList: true, subtree: true });
  const before = count();
  try {
    const outcome = await checkForeignArrays(backend);
    // Records not yet handed to the callback.
    iframesIn(added.takeRecords());
    return { outcome, iframes: { before, made, after: count() } };
  } finally {
    added.disconnect();
  }
}

const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/** Validates the relaxed build beside gru.wasm, as the default location finds it, independently of the backend's own probe. */
async function relaxedValidates(threads: boolean): Promise<boolean> {
  const url = new URL(threads ? '../dist/gru-threads-relaxed.wasm' : '../dist/gru-relaxed.wasm', import.meta.url);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url.href} answered HTTP ${response.status}`);
  return WebAssembly.validate(await response.arrayBuffer());
}

/**
 * The page served where only gru.wasm was copied beside the bundle (no relaxed builds): the
 * default backend must load the plain build, saying why, instead of failing on the 404. Also the
 * pages where no build was copied (404s) or a single-page app's server answers every path with its
 * page: load() must fail saying what came back and how to put the files where they are looked for;
 * and a page whose Content-Security-Policy forbids compiling WebAssembly.
 */
async function copiedOnlyPlain(): Promise<PageReport> {
  await singleThread.load();
  const report = { results: [], userAgent: navigator.userAgent, simd: WebAssembly.validate(SIMD_PROBE), threads: 0, crossOriginIsolated };
  return { ...report, isa: singleThread.isa, relaxedSimdFallback: singleThread.relaxedSimdFallback };
}

async function run(): Promise<PageReport> {
  if (/^\/(copied|missing|spa|csp)\//.test(location.pathname)) return copiedOnlyPlain();
  const payload = (await (await fetch('/payload.json')).json()) as PagePayload;
  // ?threads=N: every call split between N workers (gru-threads.wasm, which needs the page to be
  // cross-origin isolated); else the default backend. Both load their module from its default
  // location, new URL('../dist/gru[-threads].wasm', import.meta.url).
  const threads = Number(new URLSearchParams(location.search).get('threads') ?? '1');
  const backend = threads > 1 ? createWasmBackend({ name: 'wasm-threads', threads, syncBelowMacs: 0, minStepMacsPerThread: 0, priority: -1 }) : singleThread;
  if (threads > 1) registerBackend(backend);
  await backend.load();
  const planned: [string, () => Promise<CaseOutcome>][] = [];
  for (const c of payload.cases) {
    planned.push([c.name, () => runForwardCase(c, backend)]);
    if (c.grads) planned.push([`${c.name}:grads`, () => runGradientCase(c, backend)]);
  }
  for (const c of payload.configCases) planned.push([`config:${c.name}`, async () => runConfigCase(c)]);
  for (const e of payload.errorEntries) planned.push([`error:${e.name}`, async () => runErrorEntry(e)]);
  // The kit's contract check whose other realm is an iframe here (node:vm in Node).
  let foreignArraysIframes: PageReport['foreignArraysIframes'];
  planned.push([
    'contract:foreign-arrays',
    async () => {
      const { outcome, iframes } = await foreignArraysCounted(backend);
      foreignArraysIframes = iframes;
      return outcome;
    },
  ]);
  const results: PageResult[] = [];
  for (const [name, runCase] of planned) {
    let outcome: CaseOutcome;
    try {
      outcome = await runCase();
    } catch (err) {
      outcome = { status: 'failed', detail: `threw ${(err as Error).message}` };
    }
    results.push({ name, ...judge(name, outcome, payload.expectations) });
  }
  const simd = WebAssembly.validate(SIMD_PROBE);
  let threadsRefusal: string | undefined;
  if (!crossOriginIsolated) {
    threadsRefusal = await createWasmBackend({ name: 'wasm-threads-refused', threads: 2 })
      .load()
      .then(
        () => 'loaded',
        (err: Error) => err.message,
      );
  }
  return {
    results,
    userAgent: navigator.userAgent,
    simd,
    isa: backend.isa,
    relaxedValidates: await relaxedValidates(threads > 1),
    relaxedSimdFallback: backend.relaxedSimdFallback,
    threads: backend.threadCount(),
    crossOriginIsolated,
    threadsRefusal,
    foreignArraysIframes,
  };
}

(globalThis as { gruReport?: Promise<PageReport> }).gruReport = run().catch((err: unknown) => ({
  results: [],
  userAgent: navigator.userAgent,
  simd: false,
  threads: 0,
  crossOriginIsolated,
  error: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err),
}));
