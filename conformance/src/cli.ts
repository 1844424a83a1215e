import { writeFileSync } from 'node:fs';
import { formatResult, formatSummary } from './report.js';
import { runConformance } from './runner.js';

const USAGE = `Usage: gru-conformance --backend <name|module> [--cases <dir>] [--json <file>] [--expectations <file>] [--only a,b] [--strict] [--quiet]

  --backend       a registered backend name (reference, cpu, wasm, webgpu, cudnn: imports @gru/<name>),
                  or a module path/package exporting \`backend\` (or a default export); package names
                  resolve from the current directory (run it in the project that depends on the backend)
  --cases         a directory of case files in the reference format (default: the Keras 3.15.1 cases shipped here)
  --json          also write the full report as JSON
  --expectations  the backend's expectations file (default: conformance.expectations.json at the root of
                  the package the backend was loaded from, or of @gru/<name>; the run says which it used)
  --only          run only these check names (comma-separated; an unknown name is a usage error)
  --strict        also fail when no backend case ran (only core-only checks passed) and on every skip
                  the expectations do not list (what CI runs)
  --quiet         print only failures and the summary

Exit codes: 0 every case passed or was declined with a reason; 1 a case failed, no case ran, or
(--strict) no backend case ran or a skip is not in the expectations;
2 a usage error; 3 the backend could not be loaded here (the reason is printed once).`;

const KNOWN = ['backend', 'cases', 'json', 'expectations', 'only', 'quiet', 'help', 'strict'];

function parseArgs(argv: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument '${arg}'.\n${USAGE}`);
    const [key, inline] = arg.slice(2).split('=', 2);
    // Before reading a value: an unknown flag last on the line is unknown, not short of a value.
    if (!KNOWN.includes(key)) throw new Error(`Unknown option --${key}.\n${USAGE}`);
    if (key === 'quiet' || key === 'help' || key === 'strict') out[key] = true;
    else {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new Error(`Option --${key} needs a value.\n${USAGE}`);
      out[key] = value;
    }
  }
  return out;
}

/** The exit code when the backend cannot be loaded on this machine. */
export const EXIT_UNAVAILABLE = 3;

/** The CLI; returns the exit code (0 when nothing failed). */
export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (typeof args.backend !== 'string') throw new Error(`--backend is required.\n${USAGE}`);
  const quiet = args.quiet === true;
  const report = await runConformance(args.backend, {
    casesDir: typeof args.cases === 'string' ? args.cases : undefined,
    expectations: typeof args.expectations === 'string' ? args.expectations : undefined,
    only: typeof args.only === 'string' ? args.only.split(',').map((s) => s.trim()) : undefined,
    strict: args.strict === true,
    onResult: (r) => {
      if (!quiet || r.status === 'failed') console.log(formatResult(r));
    },
  });
  if (!quiet) console.log(`backend: ${report.backend}; cases: ${report.casesDir}`);
  // Always said: a file that was not found explains nothing, and a run that read none should say so.
  console.log(`expectations: ${report.expectationsSource ?? 'none'}`);
  for (const p of report.expectationProblems ?? []) console.log(`WARNING expectations: ${p}`);
  if (typeof args.json === 'string') writeFileSync(args.json, JSON.stringify(report, null, 2));
  console.log(formatSummary(report));
  if (report.unavailable !== undefined) return EXIT_UNAVAILABLE;
  return report.failed > 0 || report.results.length === 0 || (report.strictProblems?.length ?? 0) > 0 ? 1 : 0;
}
