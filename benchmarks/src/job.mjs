/**
 * One runner on one shape: availability, setup, timing, peak memory. The same code runs in a
 * child process (the default) and in-process (`--in-process`).
 *
 * @typedef {import('./shapes.mjs').Shape} Shape
 * @typedef {import('./discover.mjs').Runner} Runner
 * @typedef {import('./cli.mjs').Options['plan']} Plan
 *
 * @typedef {'ok' | 'unavailable' | 'declined' | 'skipped' | 'error'} Status
 *
 * @typedef {object} Result
 * @property {string} runner
 * @property {'gru' | 'peer'} kind
 * @property {Shape} shape
 * @property {Status} status
 * @property {string} [reason]            why not 'ok'
 * @property {number} flops               per pass, 2·B·T·3H·(D+H)
 * @property {boolean} slow               the runner marks this shape slow (iterations capped)
 * @property {number} [iterations]
 * @property {number} [warmupPasses]
 * @property {number} [medianMs]
 * @property {number} [p10Ms]
 * @property {number} [p90Ms]
 * @property {number} [meanMs]
 * @property {number} [minMs]
 * @property {number} [maxMs]
 * @property {number} [gflops]            flops / median
 * @property {number | null} [ratioToBestGru]  median / median of the fastest gru runner on the shape
 * @property {string | null} [bestGru]
 * @property {number} [baselineRssMiB]    RSS high-water before setup (runtime + imports)
 * @property {number} [peakRssMiB]        RSS high-water after the timed passes
 * @property {(number | null)[]} [roundMediansMs]  with --rounds: each round's median (null: not timed that round)
 * @property {string} [simd]              the instruction set the runner's kernels used (avx512, avx2, simd128...), when it says
 * @property {number} [usPerStep]         median ÷ timesteps per pass, for runners that step (stream runners), in µs
 * @property {Record<string, number>} [poolStats]  what the cpu backend's thread pool did during warm-up and timed passes
 *   (its poolStats() counters' growth: sharedJobs, wokeSleepers, busyAlone, crowdedAlone, crowdedWindows)
 * @property {number | null} [fractionOfPeak]  gflops ÷ the fma-peak runner's gflops on the same shape, same run
 */
import { measure } from './measure.mjs';
import { flops } from './shapes.mjs';

/** process.resourceUsage().maxRSS is in KiB on every platform Node supports. */
export function maxRssMiB() {
  return process.resourceUsage().maxRSS / 1024;
}

/** @param {unknown} err */
export function errorText(err) {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * @param {Runner} runner
 * @param {Shape} shape
 * @param {Status} status
 * @param {string} [reason]
 * @returns {Result}
 */
export function notRun(runner, shape, status, reason) {
  return { runner: runner.name, kind: runner.kind, shape, status, reason, flops: flops(shape), slow: isSlow(runner, shape) };
}

/** @param {Runner} runner @param {Shape} shape */
export function isSlow(runner, shape) {
  return runner.slow ? runner.slow(shape) === true : false;
}

/**
 * @param {Runner} runner
 * @returns {Promise<true | string>}
 */
export async function checkAvailable(runner) {
  const a = await runner.available();
  if (a !== true && (typeof a !== 'string' || !a)) {
    throw new Error(`runner '${runner.name}': available() must resolve to true or a non-empty reason string; received ${JSON.stringify(a)}.`);
  }
  return a;
}

/**
 * Never throws: whatever goes wrong becomes a result with status 'error' and the message, so
 * one broken runner does not end the run.
 * @param {Runner} runner
 * @param {Shape} shape
 * @param {Plan} plan
 * @param {{ skipAvailability?: boolean }} [opts]
 * @returns {Promise<Result>}
 */
export async function runJob(runner, shape, plan, opts = {}) {
  try {
    if (!opts.skipAvailability) {
      const a = await checkAvailable(runner);
      if (a !== true) return notRun(runner, shape, 'unavailable', a);
    }
    const baselineRssMiB = maxRssMiB();
    const prepared = await runner.setup(shape);
    if (typeof prepared === 'string') return notRun(runner, shape, 'declined', prepared);
    if (!prepared || typeof prepared.run !== 'function') {
      throw new Error(`runner '${runner.name}': setup() must resolve to { run, dispose? } or a reason string; received ${typeof prepared}.`);
    }
    const slow = isSlow(runner, shape);
    let stats;
    const poolBefore = prepared.poolStats?.();
    let poolDuring;
    try {
      stats = await measure(prepared.run, slow ? { ...plan, maxIters: Math.min(plan.maxIters, plan.slowIters) } : plan);
      poolDuring = poolBefore && countsSince(poolBefore, /** @type {() => Record<string, number>} */ (prepared.poolStats)());
    } finally {
      await prepared.dispose?.();
    }
    const f = flops(shape);
    return {
      runner: runner.name,
      kind: runner.kind,
      shape,
      status: 'ok',
      flops: f,
      slow,
      ...stats,
      gflops: f / (stats.medianMs * 1e6),
      ...(typeof prepared.simd === 'string' ? { simd: prepared.simd } : {}),
      ...(Number.isInteger(prepared.stepsPerPass) && /** @type {number} */ (prepared.stepsPerPass) > 0
        ? { usPerStep: (stats.medianMs * 1000) / /** @type {number} */ (prepared.stepsPerPass) }
        : {}),
      ...(poolDuring ? { poolStats: poolDuring } : {}),
      baselineRssMiB,
      peakRssMiB: maxRssMiB(),
    };
  } catch (err) {
    return notRun(runner, shape, 'error', errorText(err));
  }
}

/**
 * What counters grew by between two readings (warm-up and timed passes together).
 * @param {Record<string, number>} before
 * @param {Record<string, number>} after
 * @returns {Record<string, number>}
 */
export function countsSince(before, after) {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}
