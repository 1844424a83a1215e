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
 * Memory after full collections. A collection frees what is unreferenced, but native memory behind
 * collected objects (Dawn's mapped buffers, N-API wraps) is released by finalizers and weak
 * callbacks that run afterwards, on the event loop: sampled at once, it reads as megabytes of noise
 * (webgpu's external memory swung 1.9 to 6.5 MiB) that can lift a floor. Rounds of yield and GC let
 * them run, so a sample holds only what is still referenced.
 * @param {{ memoryInUse?: () => number }} backend
 * @param {number} [rounds]
 * @returns {Promise<Sample>}
 */
export async function sample(backend, rounds = 3) {
  for (let i = 0; i < rounds; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, memoryInUse: backend.memoryInUse?.() ?? 0 };
}

/**
 * Growth per unit of work (bytes per call, per cycle) of each metric after the first
 * `warmupFraction` of the work: the rise of its floor, the least value in the last third of the
 * samples against the least in the first third, over the work between them. A collector's
 * sawtooth (and memory it returns later, off the main thread) leaves the floor where it is; a
 * leak lifts it steadily.
 * @param {{ done: number, values: Sample }[]} samples  in order of `done`
 * @returns {Growth}
 */
export function growth(samples, warmupFraction = 0.2) {
  const total = samples.at(-1)?.done ?? 0;
  const after = samples.filter((s) => s.done >= total * warmupFraction);
  const third = Math.floor(after.length / 3);
  const first = after.slice(0, third);
  const last = after.slice(after.length - third);
  const mid = (/** @type {typeof after} */ part) => part.reduce((a, s) => a + s.done, 0) / part.length;
  const out = /** @type {Growth} */ ({});
  for (const key of METRICS) {
    const floor = (/** @type {typeof after} */ part) => Math.min(...part.map((s) => s.values[key]));
    const span = third > 0 ? mid(last) - mid(first) : 0;
    out[key] = {
      perUnit: span > 0 ? (floor(last) - floor(first)) / span : 0,
      first: after[0]?.values[key] ?? 0,
      last: after.at(-1)?.values[key] ?? 0,
    };
  }
  return out;
}

/**
 * Which metrics grew: a leak of `perUnit` bytes per call lifts the floor steadily. Judged only over
 * enough work (`minUnits`) for a rise of `maxPerUnit` to stand out of the noise of a collector
 * (hundreds of KiB); below that the figures are reported, not judged.
 * @param {Growth} g
 * @param {number} units  work done after warm-up
 * @param {{ minUnits: number, maxPerUnit: Partial<Record<Metric, number>>, minUnitsFor?: Partial<Record<Metric, number>> }} rule
 *   `minUnitsFor`: more work before a metric is judged (RSS keeps rising to the allocator's plateau
 *   for a few hundred thousand calls)
 * @returns {string[] | null}  the metrics that grew, or null when not judged
 */
export function grew(g, units, rule) {
  if (units < rule.minUnits) return null;
  return /** @type {[Metric, number][]} */ (Object.entries(rule.maxPerUnit))
    .filter(([key]) => units >= (rule.minUnitsFor?.[key] ?? 0))
    .filter(([key, max]) => g[key].perUnit > max)
    .map(([key, max]) => `${key} grew ${g[key].perUnit.toFixed(2)} bytes per unit (allowed ${max})`);
}
