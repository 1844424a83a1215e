/**
 * The timing loop and the statistics reported from it.
 *
 * @typedef {object} MeasurePlan
 * @property {number} warmupMs    untimed passes first, until they took this long (one at least); then timed passes until
 * @property {number} minIters    at least this many were timed and
 * @property {number} minTimeMs   at least this long passed,
 * @property {number} maxTimeMs   or until this long passed (after one timed pass at least),
 * @property {number} maxIters    or this many were timed.
 *
 * @typedef {object} Stats
 * @property {number} iterations
 * @property {number} warmupPasses untimed passes that ran
 * @property {number} medianMs
 * @property {number} p10Ms
 * @property {number} p90Ms
 * @property {number} meanMs
 * @property {number} minMs
 * @property {number} maxMs
 * @property {number} totalMs      time spent in timed passes
 */

/**
 * The q-quantile (0..1) of ascending `sorted`, interpolating linearly between neighbours
 * (numpy's default), so p10/p90 of few samples are still defined.
 * @param {readonly number[]} sorted
 * @param {number} q
 */
export function quantile(sorted, q) {
  if (!sorted.length) throw new Error('quantile: no samples.');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1]; received ${q}.`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * @param {readonly number[]} samplesMs
 * @param {number} warmupPasses
 * @returns {Stats}
 */
export function summarize(samplesMs, warmupPasses) {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const total = sorted.reduce((s, v) => s + v, 0);
  return {
    iterations: sorted.length,
    warmupPasses,
    medianMs: quantile(sorted, 0.5),
    p10Ms: quantile(sorted, 0.1),
    p90Ms: quantile(sorted, 0.9),
    meanMs: total / sorted.length,
    minMs: sorted[0],
    maxMs: sorted[sorted.length - 1],
    totalMs: total,
  };
}

/**
 * Runs `run` per the plan and returns its statistics. Each pass is timed on its own (not
 * a batch divided by its count), so p10/p90 show jitter and a slow first pass cannot hide.
 * A pass that returns no promise is not awaited: awaiting costs microtask turns of about a
 * microsecond, as much as a streamed step itself, and a synchronous user's loop never pays it.
 * `now` is injectable so the stopping rules can be tested without real time.
 * @param {() => unknown} run
 * @param {MeasurePlan} plan
 * @param {() => number} [now]
 * @returns {Promise<Stats>}
 */
export async function measure(run, plan, now = () => performance.now()) {
  let warmup = 0;
  const warmStart = now();
  // By time, not count: V8 tiers a short pass up only after hundreds of calls, while a pass of
  // seconds is warm after one and repeating it would only cost time.
  do {
    await settle(run());
    warmup++;
  } while (now() - warmStart < plan.warmupMs);
  /** @type {number[]} */
  const samples = [];
  const start = now();
  for (;;) {
    const t0 = now();
    const pending = run();
    if (isThenable(pending)) await pending;
    const t1 = now();
    samples.push(t1 - t0);
    const elapsed = t1 - start;
    if (samples.length >= plan.maxIters || elapsed >= plan.maxTimeMs) break;
    if (samples.length >= plan.minIters && elapsed >= plan.minTimeMs) break;
  }
  return summarize(samples, warmup);
}

/** @param {unknown} value */
function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (/** @type {{ then?: unknown }} */ (value).then) === 'function';
}

/** @param {unknown} value */
async function settle(value) {
  if (isThenable(value)) await value;
}
