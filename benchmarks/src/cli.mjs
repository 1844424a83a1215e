/**
 * Command-line flags of run.mjs, their defaults, and the timing plan they amount to.
 *
 * @typedef {object} Options
 * @property {string | undefined} shapes
 * @property {string | undefined} runners
 * @property {string} runnersDir
 * @property {string} json
 * @property {boolean} quick
 * @property {boolean} skipSlow
 * @property {boolean} inProcess
 * @property {boolean} list
 * @property {boolean} help
 * @property {string | undefined} child   the job of a child process (internal)
 * @property {number} timeoutMs          per runner and shape, child process only
 * @property {number} rounds             whole runs, combined per runner and shape by their median
 * @property {import('./measure.mjs').MeasurePlan & { slowIters: number }} plan
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RUNNERS_DIR } from './discover.mjs';

export const DEFAULT_JSON = fileURLToPath(new URL('../results/latest.json', import.meta.url));

/** Timing defaults; `--quick` trades precision for a run of seconds (CI smoke test). */
export const PLANS = Object.freeze({
  full: Object.freeze({ warmupMs: 1000, minIters: 10, minTimeMs: 1000, maxTimeMs: 10000, maxIters: 100000, slowIters: 2 }),
  quick: Object.freeze({ warmupMs: 300, minIters: 3, minTimeMs: 100, maxTimeMs: 1000, maxIters: 100000, slowIters: 1 }),
});

export const USAGE = `Usage: node benchmarks/src/run.mjs [flags]   (or: pnpm bench -- [flags])

Times one GRU forward pass per shape for every available runner, prints a markdown table and
writes a JSON file.

  --shapes LIST        S1,S2,S3,S4 (default: all) or custom BxTxDxH, e.g. --shapes S1,8x20x32x64
  --runners LIST       runner names (default: every runner in --runners-dir), e.g. gru:reference
  --quick              shorter: warm-up 300 ms, then >= 3 passes and >= 100 ms, <= 1 s per shape
  --skip-slow          skip shapes a runner marks slow (the reference backend on S2 and S3)
  --warmup-ms N        untimed passes before timing, for this long; one at least (default 1000; quick 300)
  --min-iters N        timed passes at least (default 10; quick 3)
  --min-time-ms N      timed for at least this long (default 1000; quick 100)
  --max-time-ms N      stop timing after this long, whatever --min-iters says (default 10000; quick 1000)
  --slow-iters N       timed passes on a shape the runner marks slow (default 2; quick 1)
  --rounds N           repeat the whole run N times; each row is the round with the median median (default 1)
  --json PATH          where the JSON goes (default benchmarks/results/latest.json)
  --in-process         run every runner in this process (peak RSS is then the whole run's)
  --timeout-ms N       kill a runner's child process after this long per shape (default 600000)
  --runners-dir DIR    discover runners in DIR instead of benchmarks/src/runners
  --list               list the runners and shapes, with availability, and exit
  --help               this text`;

/** @param {string} flag @param {string | undefined} raw @param {number} fallback @param {number} [min] */
export function intFlag(flag, raw, fallback, min = 1) {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new Error(`${flag}: expected an integer >= ${min}; received '${raw}'.`);
  }
  return n;
}

/**
 * node:util parseArgs, strict, no positionals, with its error said in one line that points to
 * --help (every bench script's flags read the same way).
 * @param {readonly string[]} argv
 * @param {import('node:util').ParseArgsConfig['options']} options
 * @returns {Record<string, string | boolean | undefined>}
 */
export function parseFlags(argv, options) {
  try {
    // pnpm 10 passes the `--` of `pnpm bench -- --quick` through.
    const args = argv[0] === '--' ? argv.slice(1) : [...argv];
    return /** @type {Record<string, string | boolean | undefined>} */ (parseArgs({ args, strict: true, allowPositionals: false, options }).values);
  } catch (err) {
    const msg = /** @type {Error} */ (err).message.replace(/\. To specify.*$/s, '').replace(/\.?$/, '.');
    throw new Error(`${msg} Run with --help for the flags.`);
  }
}

/**
 * @param {readonly string[]} argv
 * @returns {Options}
 */
export function parseOptions(argv) {
  const s = /** @type {const} */ ({ type: 'string' });
  const b = /** @type {const} */ ({ type: 'boolean' });
  const values = parseFlags(argv, {
    shapes: s,
    runners: s,
    json: s,
    'runners-dir': s,
    child: s,
    'warmup-ms': s,
    'min-iters': s,
    'min-time-ms': s,
    'max-time-ms': s,
    'slow-iters': s,
    'timeout-ms': s,
    rounds: s,
    quick: b,
    'skip-slow': b,
    'in-process': b,
    list: b,
    help: b,
  });
  const str = (/** @type {string} */ k) => /** @type {string | undefined} */ (values[k]);
  const quick = values.quick === true;
  const base = quick ? PLANS.quick : PLANS.full;
  const plan = {
    warmupMs: intFlag('--warmup-ms', str('warmup-ms'), base.warmupMs, 0),
    minIters: intFlag('--min-iters', str('min-iters'), base.minIters),
    minTimeMs: intFlag('--min-time-ms', str('min-time-ms'), base.minTimeMs, 0),
    maxTimeMs: intFlag('--max-time-ms', str('max-time-ms'), base.maxTimeMs, 0),
    maxIters: base.maxIters,
    slowIters: intFlag('--slow-iters', str('slow-iters'), base.slowIters),
  };
  if (plan.maxTimeMs < plan.minTimeMs) {
    throw new Error(`--max-time-ms: expected at least --min-time-ms (${plan.minTimeMs}); received ${plan.maxTimeMs}.`);
  }
  return {
    shapes: str('shapes'),
    runners: str('runners'),
    runnersDir: resolve(str('runners-dir') ?? DEFAULT_RUNNERS_DIR),
    json: resolve(str('json') ?? DEFAULT_JSON),
    quick,
    skipSlow: values['skip-slow'] === true,
    inProcess: values['in-process'] === true,
    list: values.list === true,
    help: values.help === true,
    child: str('child'),
    timeoutMs: intFlag('--timeout-ms', str('timeout-ms'), 600000),
    rounds: intFlag('--rounds', str('rounds'), 1),
    plan,
  };
}
