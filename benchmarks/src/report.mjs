/**
 * What a run produces: the ratio column, the JSON document and the markdown table.
 *
 * @typedef {import('./shapes.mjs').Shape} Shape
 * @typedef {import('./job.mjs').Result} Result
 * @typedef {import('./cli.mjs').Options} Options
 *
 * @typedef {object} RunnerInfo
 * @property {string} name
 * @property {'gru' | 'peer'} kind
 * @property {string} [note]
 *
 * @typedef {object} Environment
 * @property {string} node
 * @property {string} v8
 * @property {string} platform
 * @property {string} arch
 * @property {string} cpuModel
 * @property {number | null} [cpuFamily]     x86 family number (/proc/cpuinfo; null where unknown): 25 is Zen 3/4, 26 Zen 5
 * @property {number | null} [cpuModelNumber]  x86 model number within the family
 * @property {number} cpus
 * @property {number} totalMemMiB
 * @property {number} loadavg1   1-minute load average when the run started (other work on the machine skews timings)
 *
 * @typedef {object} BenchDocument
 * @property {string} schema
 * @property {string} date
 * @property {Environment} environment
 * @property {Record<string, unknown>} method
 * @property {Shape[]} shapes
 * @property {RunnerInfo[]} runners
 * @property {Result[]} results
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export const SCHEMA = 'gru-benchmarks/1';
export const FLOPS_FORMULA = '2*B*T*3H*(D+H)';

/**
 * Sets `ratioToBestGru` and `bestGru` on every timed result: its median divided by the
 * fastest gru runner's median on the same shape, all from this one run. Null when no gru
 * runner was timed on that shape.
 * @param {Result[]} results
 */
export function addRatios(results) {
  /** @type {Map<string, Result>} */
  const best = new Map();
  for (const r of results) {
    if (r.status !== 'ok' || r.kind !== 'gru' || r.medianMs === undefined) continue;
    const b = best.get(r.shape.id);
    if (!b || /** @type {number} */ (b.medianMs) > r.medianMs) best.set(r.shape.id, r);
  }
  for (const r of results) {
    if (r.status !== 'ok' || r.medianMs === undefined) continue;
    const b = best.get(r.shape.id);
    r.ratioToBestGru = b ? r.medianMs / /** @type {number} */ (b.medianMs) : null;
    r.bestGru = b ? b.runner : null;
  }
  return results;
}

/** The runner whose rows are the machine's FMA rate (see runners/fma-peak.mjs). */
export const PEAK_RUNNER = 'fma-peak';

/**
 * fma-peak passes shorter than this measure waking the pool's threads more than arithmetic: no
 * fraction of peak is given against them.
 */
export const MIN_PEAK_PASS_MS = 1;

/**
 * Sets `fractionOfPeak` on every timed result of a shape that fma-peak also timed, with passes of
 * MIN_PEAK_PASS_MS or more: its GFLOP/s over fma-peak's, both from this run (null otherwise).
 * @param {Result[]} results
 */
export function addPeakFractions(results) {
  /** @type {Map<string, Result>} */
  const peak = new Map();
  for (const r of results) {
    if (r.status === 'ok' && r.runner === PEAK_RUNNER && /** @type {number} */ (r.medianMs) >= MIN_PEAK_PASS_MS) peak.set(r.shape.id, r);
  }
  for (const r of results) {
    if (r.status !== 'ok' || r.runner === PEAK_RUNNER || r.gflops === undefined) continue;
    const p = peak.get(r.shape.id);
    r.fractionOfPeak = p?.gflops ? r.gflops / p.gflops : null;
  }
  return results;
}

/**
 * x86 family and model numbers from /proc/cpuinfo (os.cpus() gives only the model name, which a
 * VM may reduce to "AMD EPYC"); null elsewhere.
 * @param {string} [text]  /proc/cpuinfo's contents (read when omitted)
 */
export function cpuIds(text) {
  try {
    const info = text ?? readFileSync('/proc/cpuinfo', 'utf8');
    const field = (/** @type {string} */ name) => {
      const m = new RegExp(`^${name}\\s*:\\s*(\\d+)`, 'm').exec(info);
      return m ? Number(m[1]) : null;
    };
    return { cpuFamily: field('cpu family'), cpuModelNumber: field('model') };
  } catch {
    return { cpuFamily: null, cpuModelNumber: null };
  }
}

/**
 * The machine a run was on, as every report names it: Node, platform, CPU model with its x86
 * family/model numbers, logical cores and the load when the run started.
 * @param {Environment} env
 */
export function machineLine(env) {
  const ids = env.cpuFamily != null ? ` (family ${env.cpuFamily} model ${env.cpuModelNumber})` : '';
  return `${env.node}, ${env.platform} ${env.arch}, ${env.cpuModel}${ids} ×${env.cpus}, load ${env.loadavg1.toFixed(2)}`;
}

/** @returns {Environment} */
export function environment() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    ...cpuIds(),
    cpus: cpus.length,
    totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
    loadavg1: os.loadavg()[0],
  };
}

/**
 * @param {Options} opts
 * @param {Shape[]} shapes
 * @param {RunnerInfo[]} runners
 * @param {Result[]} results
 * @param {Environment} env
 * @returns {BenchDocument}
 */
export function buildDocument(opts, shapes, runners, results, env) {
  const { maxIters: _unused, ...plan } = opts.plan;
  return {
    schema: SCHEMA,
    date: new Date().toISOString(),
    environment: env,
    method: {
      isolation: opts.inProcess ? 'in-process' : 'child-process',
      quick: opts.quick,
      skipSlow: opts.skipSlow,
      ...plan,
      timer: 'performance.now() around each awaited pass',
      rounds: opts.rounds,
      statistic:
        opts.rounds > 1
          ? `median of timed passes, from the round (of ${opts.rounds} whole runs) with the median median; p10/p90 interpolated`
          : 'median of timed passes; p10/p90 interpolated',
      flops: FLOPS_FORMULA,
      ratio: 'median / median of the fastest gru runner on the same shape, same run',
      fractionOfPeak: `gflops / the ${PEAK_RUNNER} runner's gflops on the same shape, same run (register-only FMA chains on every core), where its passes take ${MIN_PEAK_PASS_MS} ms or more`,
      peakRss: opts.inProcess ? 'process.resourceUsage().maxRSS of the whole run so far' : 'process.resourceUsage().maxRSS of the child process',
    },
    shapes,
    runners: runners.map((r) => ({ name: r.name, kind: r.kind, ...(r.note ? { note: r.note } : {}) })),
    results,
  };
}

/** @param {number} v */
export function formatMs(v) {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

/** @param {number} v */
export function formatRate(v) {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** @param {number | null | undefined} v */
export function formatPercent(v) {
  if (v === null || v === undefined) return '—';
  return `${(v * 100).toFixed(v >= 0.1 ? 0 : 1)}%`;
}

/** @param {number | null | undefined} v */
export function formatRatio(v) {
  if (v === null || v === undefined) return '—';
  return v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A reason or note inside a table cell or list item must not break the markdown. @param {string} s */
export function escapeMarkdown(s) {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** @param {Shape} s */
function dims(s) {
  return `${s.B}·${s.T}·${s.D}·${s.H}`;
}

/**
 * @param {BenchDocument} doc
 * @returns {string}
 */
export function formatMarkdown(doc) {
  const { environment: env, method, shapes } = doc;
  const inProcess = method.isolation === 'in-process';
  const peakColumn = doc.results.some((r) => r.status === 'ok' && r.runner === PEAK_RUNNER);
  const lines = [
    '## gru forward pass (float32, returnSequences false)',
    '',
    `${machineLine(env)} · ` +
      `${inProcess ? 'all runners in one process' : 'one child process per runner and shape'}${method.quick ? ' · quick' : ''}` +
      `${Number(method.rounds ?? 1) > 1 ? ` · ${method.rounds} rounds, each row the round with the median median` : ''}`,
    '',
    `| shape | B·T·D·H | runner | passes | median ms | GFLOP/s | ${peakColumn ? '% FMA peak | ' : ''}× fastest gru | ${inProcess ? 'process peak' : 'peak'} RSS MiB |`,
    `|:--|:--|:--|--:|--:|--:|${peakColumn ? '--:|' : ''}--:|--:|`,
  ];
  const order = new Map(shapes.map((s, i) => [s.id, i]));
  const timed = doc.results
    .filter((r) => r.status === 'ok')
    .sort((a, b) => (order.get(a.shape.id) ?? 0) - (order.get(b.shape.id) ?? 0) || /** @type {number} */ (a.medianMs) - /** @type {number} */ (b.medianMs));
  for (const r of timed) {
    const passes = `${r.iterations}${r.slow ? ' (capped)' : ''}`;
    lines.push(
      `| ${r.shape.id} | ${dims(r.shape)} | ${escapeMarkdown(r.runner)} | ${passes} | ${formatMs(/** @type {number} */ (r.medianMs))} | ` +
        `${formatRate(/** @type {number} */ (r.gflops))} | ${peakColumn ? `${formatPercent(r.fractionOfPeak)} | ` : ''}${formatRatio(r.ratioToBestGru)} | ` +
        `${r.peakRssMiB === undefined ? '—' : r.peakRssMiB.toFixed(0)} |`,
    );
  }
  if (!timed.length) lines.push(`| — | — | nothing was timed | | | | |${peakColumn ? ' |' : ''} |`);

  const stepped = timed.filter((r) => r.usPerStep !== undefined);
  if (stepped.length) {
    lines.push(
      '',
      'Per step (runners that feed one timestep at a time):',
      ...stepped.map((r) => `- ${escapeMarkdown(r.runner)} on ${r.shape.id}: ${formatRate(/** @type {number} */ (r.usPerStep))} µs per step`),
    );
  }
  const pooled = timed.map((r) => [r, poolSummary(r.poolStats)]).filter(([, line]) => line);
  if (pooled.length) {
    lines.push(
      '',
      'Threads (what the pool did with the calls that asked for several threads, warm-up included):',
      ...pooled.map(([r, line]) => `- ${escapeMarkdown(/** @type {Result} */ (r).runner)} on ${/** @type {Result} */ (r).shape.id}: ${line}`),
    );
  }
  const simd = [...new Map(timed.filter((r) => r.simd).map((r) => [r.runner, r.simd])).entries()];
  if (simd.length) lines.push('', `SIMD: ${simd.map(([name, level]) => `${escapeMarkdown(name)} ${level}`).join(', ')}`);

  const notTimed = groupNotTimed(doc.results, shapes);
  if (notTimed.length) lines.push('', 'Not timed:', ...notTimed.map((l) => `- ${l}`));

  const notes = doc.runners.filter((r) => r.note).map((r) => `- ${escapeMarkdown(r.name)}: ${escapeMarkdown(/** @type {string} */ (r.note))}`);
  lines.push(
    '',
    'Notes:',
    ...notes,
    `- FLOPs per pass = 2·B·T·3H·(D+H) (the input and recurrent GEMMs); GFLOP/s = FLOPs ÷ median.`,
    '- × fastest gru = median ÷ the median of the fastest gru backend on the same shape in this run (below 1: faster than every gru backend).',
    '- (capped): the runner marks the shape slow; timed passes are limited to --slow-iters.',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * One line per runner and outcome, listing the shapes it applies to, so an unavailable
 * runner takes one line rather than one per shape.
 * @param {Result[]} results
 * @param {Shape[]} shapes
 */
function groupNotTimed(results, shapes) {
  /** @type {Map<string, { runner: string, status: string, reason: string, ids: string[] }>} */
  const groups = new Map();
  for (const r of results) {
    if (r.status === 'ok') continue;
    const reason = r.reason ?? '';
    const key = `${r.runner}\0${r.status}\0${reason}`;
    const g = groups.get(key) ?? { runner: r.runner, status: r.status, reason, ids: [] };
    g.ids.push(r.shape.id);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const where = g.ids.length === shapes.length && shapes.length > 1 ? 'all shapes' : g.ids.join(', ');
    return `${escapeMarkdown(g.runner)} on ${where}: ${g.status}${g.reason ? ` — ${escapeMarkdown(g.reason)}` : ''}`;
  });
}

/**
 * One line on how a cpu runner's calls used the pool, or '' when none asked for several threads.
 * @param {Record<string, number> | undefined} stats
 */
export function poolSummary(stats) {
  if (!stats) return '';
  const shared = stats.sharedJobs ?? 0;
  const busy = stats.busyAlone ?? 0;
  const crowded = stats.crowdedAlone ?? 0;
  const asked = shared + busy + crowded;
  if (asked <= 0) return '';
  const pct = (/** @type {number} */ n) => `${((100 * n) / asked).toFixed(n === 0 || n === asked ? 0 : 1)}%`;
  return `${asked} calls: ${pct(shared)} shared (${stats.wokeSleepers ?? 0} woke sleeping threads), ${pct(crowded)} alone in crowded windows (${stats.crowdedWindows ?? 0}), ${pct(busy)} alone with the pool held`;
}
