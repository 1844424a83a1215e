import { listBackends, loadBackend, getBackend, registerBackend, GRU, UnsupportedCallError, type GruBackend } from '@gru/core';
import { runConfigCase, runErrorEntry } from './core-cases.js';
import { bundledCasesDir, bundledExpectations, loadExpectations, type Expectations } from './expectations.js';
export { judge, type ResultStatus };
import { loadCaseFiles, type CaseJson } from './format.js';
import { runForwardCase, type CaseOutcome } from './run-case.js';
import { runGradientCase } from './run-gradient-case.js';
import { resolvePackageFrom } from './resolve-package.js';
import { judge, type ResultStatus } from './judge.js';

export type CaseKind = 'forward' | 'gradient' | 'config' | 'error' | 'suite';

export interface CaseResult {
  name: string;
  kind: CaseKind;
  status: ResultStatus;
  detail?: string;
  maxAbsDiff?: number;
  ms: number;
}

export interface ConformanceOptions {
  /** A directory of case files in the reference format (default: the Keras 3.15.1 cases shipped here). */
  casesDir?: string;
  /** The backend's expectations (object or path); default: the file shipped for a known backend name. */
  expectations?: Expectations | string;
  /** Run only cases whose names are listed. */
  only?: string[];
  /** Also run the backend-independent config and error checks (default true). */
  coreChecks?: boolean;
  /** Called after each case. */
  onResult?: (result: CaseResult) => void;
}

export interface ConformanceReport {
  backend: string;
  casesDir: string;
  results: CaseResult[];
  passed: number;
  failed: number;
  /** Unsupported and expected failures: never counted as passed. */
  skipped: number;
  ignoredFiles: { file: string; reason: string }[];
  /**
   * Set when the backend could not be loaded here (no GPU, no addon...): the reason, once. No case
   * ran; `notRun` says how many would have.
   */
  unavailable?: string;
  notRun?: number;
}

/** One runnable check, so the CLI and the vitest helper share the same list. */
export interface PlannedCase {
  name: string;
  kind: CaseKind;
  run: () => Promise<CaseOutcome>;
}

/**
 * Finds a backend by name (registered, the bundled reference, `@gru/<name>`, or a package `<name>`), by package name,
 * or by module path. Package names resolve from the current working directory first (the project
 * that runs the CLI depends on the backend; under pnpm, @gru/conformance itself cannot see it),
 * then from @gru/conformance's own location.
 */
export async function resolveBackend(spec: string | GruBackend): Promise<GruBackend> {
  if (typeof spec !== 'string') {
    // Cases run through the public layer, which finds backends by name: the object under test
    // must be the one registered under its name (replacing any other).
    if (getBackend(spec.name) !== spec) registerBackend(spec);
    return spec;
  }
  const known = getBackend(spec);
  if (known) return known;
  const isPath = spec.startsWith('.') || spec.startsWith('/');
  const isModule = isPath || spec.includes('/');
  let mod: Record<string, unknown>;
  let target: string;
  if (isPath) {
    target = new URL(spec, `file://${process.cwd()}/`).href;
    try {
      mod = (await import(target)) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`Cannot load backend '${spec}': importing '${target}' failed: ${(err as Error).message}`);
    }
  } else {
    // A bare name is a gru backend (`cpu` -> @gru/cpu) or, failing that, a package of that name.
    const candidates = isModule ? [spec] : [`@gru/${spec}`, spec];
    const cwd = process.cwd();
    const lookups = candidates.map((pkg) => ({ pkg, ...resolvePackageFrom(pkg, cwd) }));
    const hit = lookups.find((l) => l.url);
    if (hit?.url) {
      target = hit.url;
      try {
        mod = (await import(target)) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`Cannot load backend '${spec}': importing '${hit.pkg}' (resolved from ${cwd} to ${target}) failed: ${(err as Error).message}`);
      }
    } else {
      // The previous behaviour: resolve from @gru/conformance's own location (npm's flat node_modules).
      const pkg = candidates[0];
      target = pkg;
      try {
        mod = (await import(pkg)) as Record<string, unknown>;
      } catch (err) {
        const lookup = lookups[0];
        const where = lookup.problem
          ? `found at ${lookup.root} from ${cwd}, but ${lookup.problem}`
          : `not found from the current directory ${cwd} (looked at ${lookup.looked[0]}, then in node_modules/${pkg} from there up to the root)`;
        throw new Error(
          `Cannot load backend '${spec}': package '${pkg}' was ${where}; importing it from @gru/conformance failed too: ${(err as Error).message}. ` +
            `Run the command in a project that depends on '${pkg}', or pass a module path.`,
        );
      }
    }
  }
  const exported = [mod.backend, mod.default, (mod.default as Record<string, unknown> | undefined)?.backend].find(
    (b): b is GruBackend => typeof b === 'object' && b !== null && typeof (b as GruBackend).prepare === 'function',
  );
  if (exported) {
    if (getBackend(exported.name) !== exported) registerBackend(exported);
    return exported;
  }
  const registered = isModule ? undefined : getBackend(spec);
  if (registered) return registered;
  throw new Error(
    `Module '${target}' exports no GRU backend (expected an export named 'backend' or a default export). Registered: ${listBackends()
      .map((b) => b.name)
      .join(', ')}`,
  );
}

/** The list of checks for a backend and a cases directory. */
export function planConformance(
  backend: GruBackend,
  options: ConformanceOptions = {},
): { planned: PlannedCase[]; ignored: { file: string; reason: string }[]; casesDir: string } {
  const casesDir = options.casesDir ?? bundledCasesDir();
  const files = loadCaseFiles(casesDir);
  const wanted = (name: string) => !options.only || options.only.includes(name);
  const planned: PlannedCase[] = [];
  for (const r of files.refused) {
    planned.push({ name: r.file, kind: 'forward', run: async () => ({ status: 'failed', detail: r.reason }) });
  }
  for (const c of files.cases.filter((c) => wanted(c.name))) {
    planned.push({ name: c.name, kind: 'forward', run: () => runForwardCase(c, backend) });
    if (c.grads) planned.push({ name: `${c.name}:grads`, kind: 'gradient', run: () => runGradientCase(c, backend) });
  }
  if (options.coreChecks !== false) {
    for (const c of files.configCases.filter((c) => wanted(`config:${c.name}`) || wanted(c.name))) {
      planned.push({ name: `config:${c.name}`, kind: 'config', run: async () => runConfigCase(c) });
    }
    for (const e of files.errorEntries.filter((e) => wanted(`error:${e.name}`) || wanted(e.name))) {
      planned.push({
        name: `error:${e.name}`,
        kind: 'error',
        run: async () => {
          const r = runErrorEntry(e);
          return r.deviation ? { ...r, detail: `documented deviation: ${r.deviation}` } : r;
        },
      });
    }
  }
  const leakCandidates = files.cases.filter((c) => c.layer === 'GRU' && !c.steps && !c.grads && c.dtype === 'float32');
  if (leakCandidates.length && !options.only) {
    planned.push({ name: 'suite:no-leak', kind: 'suite', run: () => checkNoLeak(backend, leakCandidates) });
  }
  return { planned, ignored: files.ignored, casesDir };
}

/**
 * Repeated prepare/forward/dispose cycles must leave the backend's native memory where it was.
 * Uses the first float32 case the backend can run.
 */
async function checkNoLeak(backend: GruBackend, candidates: CaseJson[]): Promise<CaseOutcome> {
  if (!backend.memoryInUse) {
    return { status: 'unsupported', detail: 'the backend reports no native memory (memoryInUse() is not implemented), so there is nothing to check' };
  }
  const once = async (c: CaseJson) => {
    const w = c.weights;
    const layer = GRU.fromConfig(c.config);
    layer.setWeights(w.bias ? [w.kernel, w.recurrent_kernel, w.bias] : [w.kernel, w.recurrent_kernel]);
    try {
      await layer.forward(c.inputs, { backend: backend.name, mask: c.mask ?? undefined, initialState: c.initial_state ?? undefined });
    } finally {
      layer.dispose();
    }
  };
  for (const c of candidates) {
    try {
      await once(c);
    } catch (err) {
      if (err instanceof UnsupportedCallError) continue;
      return { status: 'failed', detail: `${c.name} threw ${(err as Error).message}` };
    }
    const before = backend.memoryInUse();
    for (let i = 0; i < 20; i++) await once(c);
    const after = backend.memoryInUse();
    return after <= before
      ? { status: 'passed', detail: `${c.name}: ${before} bytes before, ${after} after 20 cycles` }
      : { status: 'failed', detail: `${c.name}: native memory grew from ${before} to ${after} bytes over 20 prepare/forward/dispose cycles` };
  }
  return { status: 'unsupported', detail: 'the backend declines every float32 GRU case, so no call could be repeated' };
}

/** Runs every case in a directory on a backend and returns the report (see the CLI for printing). */
export async function runConformance(backendSpec: GruBackend | string, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const backend = await resolveBackend(backendSpec);
  const expectations =
    typeof options.expectations === 'string' ? loadExpectations(options.expectations) : (options.expectations ?? bundledExpectations(backend.name));
  const { planned, ignored, casesDir } = planConformance(backend, options);
  const results: CaseResult[] = [];
  const record = (r: CaseResult) => {
    results.push(r);
    options.onResult?.(r);
  };
  try {
    await loadBackend(backend);
  } catch (err) {
    // Said once, not once per case: an unavailable backend is not a backend that fails the cases.
    return { ...summarize(backend.name, casesDir, results, ignored), unavailable: err instanceof Error ? err.message : String(err), notRun: planned.length };
  }
  for (const p of planned) {
    const start = performance.now();
    const outcome = await p.run();
    const judged = judge(p.name, outcome, expectations);
    record({ name: p.name, kind: p.kind, ...judged, maxAbsDiff: outcome.maxAbsDiff, ms: performance.now() - start });
  }
  return summarize(backend.name, casesDir, results, ignored);
}

function summarize(backend: string, casesDir: string, results: CaseResult[], ignoredFiles: ConformanceReport['ignoredFiles']): ConformanceReport {
  const count = (s: ResultStatus) => results.filter((r) => r.status === s).length;
  return {
    backend,
    casesDir,
    results,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('unsupported') + count('expected-failure'),
    ignoredFiles,
  };
}
