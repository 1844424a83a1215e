import { listBackends, loadBackend, getBackend, registerBackend, GRU, UnsupportedCallError, type GruBackend } from '@gru/core';
import { runConfigCase, runErrorEntry } from './core-cases.js';
import { bundledCasesDir, findExpectations, loadExpectations, validateExpectations, type Expectations } from './expectations.js';
export { judge, type ResultStatus };
import { loadCaseFiles, type CaseJson } from './format.js';
import { runForwardCase, type CaseOutcome } from './run-case.js';
import { runGradientCase } from './run-gradient-case.js';
import { resolvePackageFrom } from './resolve-package.js';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isListed, judge, type ResultStatus } from './judge.js';
import { planAgainstReference, type SweepOptions } from './testing/against-reference.js';
import { CONTRACT_CHECKS } from './testing/contract.js';
import { checkActivationKinks } from './testing/activation-kinks.js';

/**
 * `forward`, `gradient`: Keras's cases; `reference`: seeded random calls against the reference
 * backend; `contract`: setWeights, fresh results, untouched inputs; `suite`: whole-run checks
 * (memory). `config` and `error` are core-only checks: they involve no backend and are reported
 * apart, so a backend that declines everything cannot pass on them.
 */
export type CaseKind = 'forward' | 'gradient' | 'reference' | 'contract' | 'config' | 'error' | 'suite';

/** Kinds whose checks run no code of the backend under test (their layer calls are pinned to the reference backend). */
export const CORE_ONLY_KINDS: readonly CaseKind[] = ['config', 'error'];

/**
 * Whether any check that runs the backend's code was carried out (passed or failed): declines and
 * core-only checks say nothing about the backend. What `strict` requires, in every front end.
 */
export function backendCheckRan(results: readonly Pick<CaseResult, 'kind' | 'status'>[]): boolean {
  return results.some((r) => !CORE_ONLY_KINDS.includes(r.kind) && (r.status === 'passed' || r.status === 'failed'));
}

/**
 * Why no backend check ran, for the message: `planned` (the checks the run selected) holds none, or
 * the backend declined or skipped every one (`filtered`: or a test filter left them out).
 */
export function noBackendCheckReason(planned: readonly Pick<CaseResult, 'kind'>[], filtered = false): string {
  if (!planned.some((r) => !CORE_ONLY_KINDS.includes(r.kind))) return 'the checks selected (--only) are all core-only';
  return filtered ? 'it declined or skipped every backend check, or the test filter left them out' : 'it declined or skipped every backend check';
}

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
  /** The seeded random sweep against the reference backend (default sizes and variants); false to leave it out. */
  sweep?: SweepOptions | false;
  /** Also run the backend-contract checks (setWeights, fresh results, untouched inputs); default true. */
  contractChecks?: boolean;
  /**
   * Fail the run when no backend case ran (only core-only checks or declines) and on every skip
   * the expectations do not list. What CI runs.
   */
  strict?: boolean;
}

export interface ConformanceReport {
  backend: string;
  casesDir: string;
  results: CaseResult[];
  passed: number;
  failed: number;
  /** Unsupported and expected failures: never counted as passed. */
  skipped: number;
  /** Backend checks (Keras cases, reference sweep, contract, suite) that ran and passed. */
  backendPassed: number;
  /** Core-only checks (config, error) that passed: no backend code ran in them. */
  corePassed: number;
  /** Under `strict`: why the run fails though no case failed (no backend case ran; unlisted skips). */
  strictProblems?: string[];
  ignoredFiles: { file: string; reason: string }[];
  /** The expectations file used, or why none was ("none (no expectations file at …)"). */
  expectationsSource?: string;
  /** Expectations entries that name no check of the run (stale or misspelt); refused under `strict`. */
  expectationProblems?: string[];
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
      // Then as @gru/conformance itself sees it (npm's flat node_modules), through the same
      // resolver, so the backend's URL (hence its package's expectations) is still known.
      const pkg = candidates[0];
      const own = resolvePackageFrom(pkg, ownDir);
      target = own.url ?? pkg;
      try {
        mod = (await import(target)) as Record<string, unknown>;
      } catch (err) {
        const lookup = lookups[0];
        const where = lookup.problem
          ? `found at ${lookup.root} from ${cwd}, but ${lookup.problem}`
          : `not found from the current directory ${cwd} (${lookup.error ?? 'Node could not resolve it'}; looked at ${lookup.looked.join(', ')})`;
        throw new Error(
          `Cannot load backend '${spec}': package '${pkg}' was ${where}; importing it from @gru/conformance (${ownDir}) failed too: ${(err as Error).message}. ` +
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
    if (target.startsWith('file:')) loadedFrom.set(exported, target);
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

/** Where @gru/conformance's own code is: the last place a backend package is looked for. */
const ownDir = dirname(fileURLToPath(import.meta.url));

/** The module a backend was imported from by resolveBackend: its package holds its expectations. */
const loadedFrom = new WeakMap<GruBackend, string>();

/**
 * The expectations for a run and where they came from: `options.expectations` (a path or an
 * object), else the file found for the backend (see findExpectations). A found file naming
 * another backend is refused: its reasons would explain checks of a backend they were not written for.
 */
export function resolveExpectations(backend: GruBackend, given?: Expectations | string): { expectations: Expectations; source: string } {
  const found =
    typeof given === 'string'
      ? { expectations: loadExpectations(given), source: given }
      : given
        ? { expectations: validateExpectations(given), source: 'the expectations object given' }
        : findExpectations(backend.name, loadedFrom.get(backend));
  const named = found.expectations.backend;
  // Refused only where the kit found the file: one given explicitly was chosen for this backend
  // (a package's own file for another instance of its backend, registered under another name).
  if (given === undefined && named !== undefined && named !== backend.name) {
    throw new Error(`Expectations ${found.source} are for backend '${named}', not '${backend.name}': pass the backend's own file with --expectations.`);
  }
  return found;
}

/**
 * Expectations entries that name no planned check: a misspelt or stale case name, or a `match`
 * that matches nothing. Each would otherwise explain nothing, silently.
 */
export function unmatchedExpectations(expectations: Expectations, names: readonly string[]): string[] {
  const problems: string[] = [];
  for (const key of ['unsupported', 'failing'] as const) {
    const table = expectations[key];
    if (!table) continue;
    const groups = Array.isArray(table) ? table : Object.entries(table).map(([name, reason]) => ({ reason, cases: [name], match: undefined }));
    for (const g of groups) {
      for (const c of g.cases ?? []) if (!names.includes(c)) problems.push(`'${key}' lists '${c}', which is no check of this run`);
      if (g.match !== undefined) {
        const re = new RegExp(g.match);
        if (!names.some((n) => re.test(n))) problems.push(`'${key}' match ${JSON.stringify(g.match)} matches no check of this run`);
      }
    }
  }
  return problems;
}

/**
 * Expectations entries naming no check a run could have: not this run's checks alone, but every
 * check of a full run too (no `only`, core and contract checks on, the default sweep), since a
 * run that leaves some out (a package's second instance without contract checks, a custom sweep)
 * shares its file with runs that have them. With cases of one's own, the backend's expectations
 * name the bundled cases, which such a run does not have: nothing can be told stale.
 */
export function staleExpectations(backend: GruBackend, options: ConformanceOptions, expectations: Expectations, planned: readonly PlannedCase[]): string[] {
  const trim = (dir: string) => dir.replace(/[\\/]+$/, '');
  if (options.casesDir !== undefined && trim(options.casesDir) !== trim(bundledCasesDir())) return [];
  // A run that leaves nothing out is the full run: its case files need not be read again.
  const leavesOut = options.only !== undefined || options.coreChecks === false || options.contractChecks === false || options.sweep !== undefined;
  const full = leavesOut ? planConformance(backend, { casesDir: options.casesDir }).planned : [];
  const allNames = [...new Set([...planned, ...full].map((p) => p.name))];
  return unmatchedExpectations(expectations, allNames);
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
  // Checks that disturb the backend (contract:backend-reload disposes it and loads it again) run after every other.
  const contract = options.contractChecks !== false ? CONTRACT_CHECKS.filter((c) => wanted(c.name)) : [];
  const contractCase = (check: (typeof CONTRACT_CHECKS)[number]): PlannedCase => ({ name: check.name, kind: 'contract', run: () => check.run(backend) });
  for (const check of contract.filter((c) => !c.last)) planned.push(contractCase(check));
  if (options.sweep !== false) {
    for (const c of planAgainstReference(backend, options.sweep ?? {}).filter((c) => wanted(`reference:${c.name}`))) {
      planned.push({ name: `reference:${c.name}`, kind: 'reference', run: c.run });
    }
  }
  if (options.sweep !== false && wanted('reference:activation-kinks')) {
    planned.push({ name: 'reference:activation-kinks', kind: 'reference', run: () => checkActivationKinks(backend) });
  }
  const leakCandidates = files.cases.filter((c) => c.layer === 'GRU' && !c.steps && !c.grads && c.dtype === 'float32');
  if (leakCandidates.length && !options.only) {
    planned.push({ name: 'suite:no-leak', kind: 'suite', run: () => checkNoLeak(backend, leakCandidates) });
  }
  for (const check of contract.filter((c) => c.last)) planned.push(contractCase(check));
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
  const { expectations, source } = resolveExpectations(backend, options.expectations);
  const { planned, ignored, casesDir } = planConformance(backend, options);
  const unknownOnly = unknownNames(options.only, planned);
  if (unknownOnly.length) throw new Error(`--only names no check: ${unknownOnly.map((n) => `'${n}'`).join(', ')}.`);
  const expectationProblems = staleExpectations(backend, options, expectations, planned);
  const extra = { expectationsSource: source, expectationProblems };
  const results: CaseResult[] = [];
  const record = (r: CaseResult) => {
    results.push(r);
    options.onResult?.(r);
  };
  try {
    await loadBackend(backend);
  } catch (err) {
    // Said once, not once per case: an unavailable backend is not a backend that fails the cases.
    return {
      ...summarize(backend.name, casesDir, results, ignored, expectations, false),
      ...extra,
      unavailable: err instanceof Error ? err.message : String(err),
      notRun: planned.length,
    };
  }
  for (const p of planned) {
    const start = performance.now();
    const outcome = await p.run();
    const judged = judge(p.name, outcome, expectations);
    record({ name: p.name, kind: p.kind, ...judged, maxAbsDiff: outcome.maxAbsDiff, ms: performance.now() - start });
  }
  const report = { ...summarize(backend.name, casesDir, results, ignored, expectations, options.strict === true), ...extra };
  if (report.strictProblems) report.strictProblems.push(...expectationProblems.map((p) => `expectations ${source}: ${p}`));
  return report;
}

/** Names in `only` that no planned check answers to (`error:x` and `x` both name an error check). */
function unknownNames(only: readonly string[] | undefined, planned: readonly PlannedCase[]): string[] {
  if (!only) return [];
  const names = new Set(planned.map((p) => p.name));
  const bare = new Set(planned.map((p) => p.name.replace(/^(config|error|reference):/, '')));
  return only.filter((n) => !names.has(n) && !bare.has(n) && !names.has(`${n}:grads`));
}

function summarize(
  backend: string,
  casesDir: string,
  results: CaseResult[],
  ignoredFiles: ConformanceReport['ignoredFiles'],
  expectations: Expectations,
  strict: boolean,
): ConformanceReport {
  const count = (s: ResultStatus) => results.filter((r) => r.status === s).length;
  const coreOnly = (r: CaseResult) => CORE_ONLY_KINDS.includes(r.kind);
  const report: ConformanceReport = {
    backend,
    casesDir,
    results,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('unsupported') + count('expected-failure'),
    backendPassed: results.filter((r) => r.status === 'passed' && !coreOnly(r)).length,
    corePassed: results.filter((r) => r.status === 'passed' && coreOnly(r)).length,
    ignoredFiles,
  };
  if (strict) report.strictProblems = strictProblems(report, expectations);
  return report;
}

/** What `strict` refuses though nothing failed: no backend code checked, or skips nobody declared. */
export function strictProblems(report: Pick<ConformanceReport, 'results' | 'backend'>, expectations: Expectations): string[] {
  const problems: string[] = [];
  if (!backendCheckRan(report.results)) {
    problems.push(`no backend case ran on '${report.backend}' (${noBackendCheckReason(report.results)}): nothing about the backend was checked`);
  }
  for (const r of report.results) {
    if ((r.status === 'unsupported' || r.status === 'expected-failure') && !isListed(r.name, expectations)) {
      problems.push(`${r.name} was skipped but is not listed in the expectations: ${r.detail ?? ''}`);
    }
  }
  return problems;
}
