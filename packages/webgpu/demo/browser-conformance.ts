/**
 * The conformance suite in a browser: the same case files and the same case runners as
 * @gru/conformance's Node runner (run-case.ts, run-gradient-case.ts, core-cases.ts are imported
 * from its source: they need no Node APIs), with the files fetched from the demo server instead
 * of read from disk. The plan and the judging mirror conformance/src/runner.ts, which cannot be
 * bundled for a browser because it reads files with node:fs.
 */
import { GRU, loadBackend, type GruBackend } from '@gru/core';
import { runConfigCase, runErrorEntry } from '../../../conformance/src/core-cases.js';
import type { CaseJson, ConfigCaseJson, ErrorEntryJson } from '../../../conformance/src/format.js';
import { runForwardCase, type CaseOutcome } from '../../../conformance/src/run-case.js';
import { runGradientCase } from '../../../conformance/src/run-gradient-case.js';
// The runner's own judging (expectation groups included), not a copy of it.
import { judge } from '../../../conformance/src/judge.js';
import type { Expectations } from '../../../conformance/src/expectations-types.js';

export interface BrowserCaseResult {
  name: string;
  status: 'passed' | 'failed' | 'unsupported' | 'expected-failure';
  detail?: string;
  maxAbsDiff?: number;
  ms: number;
}

interface Planned {
  name: string;
  run: () => Promise<CaseOutcome>;
}

async function fetchJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

/** Sorts files into cases by content, as format.ts's loadCaseFiles does. */
async function loadCases(base: string) {
  const files = await fetchJson<string[]>(`${base}cases/`);
  const cases: CaseJson[] = [];
  const errors: ErrorEntryJson[] = [];
  const configs: ConfigCaseJson[] = [];
  for (const f of files) {
    const obj = await fetchJson<Record<string, unknown>>(`${base}cases/${f}`);
    if (typeof obj.layer === 'string' && obj.weights && obj.inputs && Array.isArray(obj.outputs)) cases.push(obj as unknown as CaseJson);
    else if (Array.isArray(obj.entries) && obj.entries.every((e: Record<string, unknown>) => typeof e.raises === 'boolean'))
      errors.push(...(obj.entries as ErrorEntryJson[]));
    else if (Array.isArray(obj.cases) && obj.cases.length && obj.cases.every((c: Record<string, unknown>) => c.config && c.layer))
      configs.push(...(obj.cases as ConfigCaseJson[]));
  }
  cases.sort((a, b) => a.name.localeCompare(b.name));
  return { cases, errors, configs };
}

/** Repeated prepare/forward/dispose cycles must leave the backend's GPU memory where it was. */
async function noLeak(backend: GruBackend, c: CaseJson): Promise<CaseOutcome> {
  if (!backend.memoryInUse) return { status: 'unsupported', detail: 'memoryInUse() is not implemented' };
  const w = c.weights;
  const once = async () => {
    const layer = GRU.fromConfig(c.config);
    layer.setWeights(w.bias ? [w.kernel, w.recurrent_kernel, w.bias] : [w.kernel, w.recurrent_kernel]);
    await layer.forward(c.inputs, { backend: backend.name, mask: c.mask ?? undefined });
    layer.dispose();
  };
  await once();
  const before = backend.memoryInUse();
  for (let i = 0; i < 20; i++) await once();
  const after = backend.memoryInUse();
  return after <= before ? { status: 'passed' } : { status: 'failed', detail: `GPU memory grew from ${before} to ${after} bytes over 20 cycles` };
}

/** Runs every case on `backend`, reporting each result as it comes. */
export async function runBrowserConformance(backend: GruBackend, base: string, onResult: (r: BrowserCaseResult) => void): Promise<BrowserCaseResult[]> {
  const [{ cases, errors, configs }, expectations] = await Promise.all([loadCases(base), fetchJson<Expectations>(`${base}expectations.json`)]);
  const planned: Planned[] = [];
  for (const c of cases) {
    planned.push({ name: c.name, run: () => runForwardCase(c, backend) });
    if (c.grads) planned.push({ name: `${c.name}:grads`, run: () => runGradientCase(c, backend) });
  }
  for (const c of configs) planned.push({ name: `config:${c.name}`, run: async () => runConfigCase(c) });
  for (const e of errors) planned.push({ name: `error:${e.name}`, run: async () => runErrorEntry(e) });
  const first = cases.find((c) => c.layer === 'GRU' && !c.steps && !c.grads && c.dtype === 'float32');
  if (first) planned.push({ name: 'suite:no-leak', run: () => noLeak(backend, first) });

  await loadBackend(backend);
  const results: BrowserCaseResult[] = [];
  for (const p of planned) {
    const start = performance.now();
    let outcome: CaseOutcome;
    try {
      outcome = await p.run();
    } catch (err) {
      outcome = { status: 'failed', detail: `threw ${(err as Error).message}` };
    }
    const r = { name: p.name, ...judge(p.name, outcome, expectations), maxAbsDiff: outcome.maxAbsDiff, ms: performance.now() - start };
    results.push(r);
    onResult(r);
  }
  return results;
}
