/**
 * Memory samples over a soak phase and their growth after warm-up. Samples are taken after a full
 * garbage collection (the soak runs with --expose-gc), so what grows is what is still referenced.
 */

/** @typedef {'rss' | 'heapUsed' | 'external' | 'arrayBuffers' | 'memoryInUse'} Metric */
/** @typedef {Record<Metric, number>} Sample */
/** @typedef {Record<Metric, { perUnit: number, first: number, last: number }>} Growth */

/** @type {readonly Metric[]} */
export const METRICS = Object.freeze(['rss', 'heapUsed', 'external', 'arrayBuffers', 'memoryInUse']);

/**
 * @param {{ memoryInUse?: () => number }} backend
 * @returns {Sample}
 */
export function sample(backend) {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, memoryInUse: backend.memoryInUse?.() ?? 0 };
}

/**
 * Least-squares slope of y over x.
 * @param {number[]} xs
 * @param {number[]} ys
 */
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Growth per unit of work (bytes per call, per cycle) of each metric over the samples after the
 * first `warmupFraction` of the work, and the first/last values of that stretch.
 * @param {{ done: number, values: Sample }[]} samples  in order of `done`
 * @returns {Growth}
 */
export function growth(samples, warmupFraction = 0.2) {
  const total = samples.at(-1)?.done ?? 0;
  const after = samples.filter((s) => s.done >= total * warmupFraction);
  const out = /** @type {Growth} */ ({});
  for (const key of METRICS) {
    const xs = after.map((s) => s.done);
    const ys = after.map((s) => s.values[key]);
    out[key] = { perUnit: after.length >= 3 ? slope(xs, ys) : 0, first: ys[0] ?? 0, last: ys.at(-1) ?? 0 };
  }
  return out;
}

/**
 * Which metrics grew: a leak of `perUnit` bytes per call shows as a steady slope. Judged only over
 * enough work (`minUnits`) for a slope of `maxPerUnit` to stand out of the noise of a collector
 * (hundreds of KiB); below that the figures are reported, not judged.
 * @param {Growth} g
 * @param {number} units  work done after warm-up
 * @param {{ minUnits: number, maxPerUnit: Partial<Record<Metric, number>> }} rule
 * @returns {string[] | null}  the metrics that grew, or null when not judged
 */
export function grew(g, units, rule) {
  if (units < rule.minUnits) return null;
  return /** @type {[Metric, number][]} */ (Object.entries(rule.maxPerUnit))
    .filter(([key, max]) => g[key].perUnit > max)
    .map(([key, max]) => `${key} grew ${g[key].perUnit.toFixed(2)} bytes per unit (allowed ${max})`);
}
