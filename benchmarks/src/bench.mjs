/**
 * The parent's side of a run: every selected runner on every selected shape, one after
 * another (runs in parallel would share cores and skew each other).
 *
 * @typedef {import('./cli.mjs').Options} Options
 * @typedef {import('./job.mjs').Result} Result
 * @typedef {import('./shapes.mjs').Shape} Shape
 * @typedef {import('./discover.mjs').DiscoveredRunner} DiscoveredRunner
 */
import { runInChild } from './isolate.mjs';
import { checkAvailable, errorText, isSlow, notRun, runJob } from './job.mjs';
import { formatMs } from './report.mjs';

/**
 * @param {DiscoveredRunner[]} runners
 * @param {Shape[]} shapes
 * @param {Options} opts
 * @param {(line: string) => void} log   progress, one line per job
 * @returns {Promise<Result[]>}
 */
export async function runAll(runners, shapes, opts, log) {
  /** @type {Result[]} */
  const results = [];
  for (const runner of runners) {
    /** @type {Result | undefined} */
    let unavailable;
    /** @type {true | string | undefined} */
    let inProcessAvailability;
    for (const shape of shapes) {
      /** @type {Result} */
      let r;
      if (unavailable) {
        r = notRun(runner, shape, 'unavailable', unavailable.reason);
      } else if (opts.skipSlow && isSlow(runner, shape)) {
        r = notRun(runner, shape, 'skipped', 'slow on this shape (--skip-slow)');
      } else if (opts.inProcess) {
        try {
          inProcessAvailability ??= await checkAvailable(runner);
          r =
            inProcessAvailability === true
              ? await runJob(runner, shape, opts.plan, { skipAvailability: true })
              : notRun(runner, shape, 'unavailable', inProcessAvailability);
        } catch (err) {
          r = notRun(runner, shape, 'error', errorText(err));
        }
      } else {
        r = await runInChild(runner, shape, opts.plan, opts.timeoutMs);
      }
      // Availability does not depend on the shape; asking again per shape would only cost startup time.
      if (r.status === 'unavailable') unavailable = r;
      results.push(r);
      log(progressLine(r));
    }
  }
  return results;
}

/**
 * `opts.rounds` runs of runAll, one after another, combined by combineRounds: a slow spell of
 * the machine (other work, a throttled core) then hits one round of every runner rather than
 * every pass of one runner.
 * @param {DiscoveredRunner[]} runners
 * @param {Shape[]} shapes
 * @param {Options} opts
 * @param {(line: string) => void} log
 * @returns {Promise<Result[]>}
 */
export async function runRounds(runners, shapes, opts, log) {
  /** @type {Result[][]} */
  const rounds = [];
  for (let i = 0; i < opts.rounds; i++) {
    if (opts.rounds > 1) log(`round ${i + 1} of ${opts.rounds}`);
    rounds.push(await runAll(runners, shapes, opts, log));
  }
  return combineRounds(rounds);
}

/**
 * One result per runner and shape from several rounds (same runners and shapes, same order):
 * the round whose median is the median of the rounds' medians (the lower one of an even count),
 * with every round's median in `roundMediansMs`. An error in any round is the result; a runner
 * timed in no round keeps the first round's reason.
 * @param {Result[][]} rounds
 * @returns {Result[]}
 */
export function combineRounds(rounds) {
  if (rounds.length === 1) return rounds[0];
  return rounds[0].map((first, i) => {
    const same = rounds.map((round) => round[i]);
    const error = same.find((r) => r.status === 'error');
    if (error) return error;
    const timed = same.filter((r) => r.status === 'ok').sort((a, b) => /** @type {number} */ (a.medianMs) - /** @type {number} */ (b.medianMs));
    if (!timed.length) return first;
    return { ...timed[(timed.length - 1) >> 1], roundMediansMs: same.map((r) => (r.status === 'ok' ? /** @type {number} */ (r.medianMs) : null)) };
  });
}

/** @param {Result} r */
export function progressLine(r) {
  const head = `${r.runner} ${r.shape.id}:`;
  if (r.status !== 'ok') return `${head} ${r.status}${r.reason ? ` (${r.reason})` : ''}`;
  return `${head} ${formatMs(/** @type {number} */ (r.medianMs))} ms median over ${r.iterations} pass${r.iterations === 1 ? '' : 'es'}`;
}
