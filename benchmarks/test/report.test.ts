import { describe, expect, it } from 'vitest';
import { parseOptions } from '../src/cli.mjs';
import type { Result } from '../src/job.mjs';
import {
  SCHEMA,
  addPeakFractions,
  addRatios,
  buildDocument,
  cpuIds,
  escapeMarkdown,
  formatMarkdown,
  formatMs,
  formatPercent,
  formatRate,
  formatRatio,
  machineLine,
  poolSummary,
} from '../src/report.mjs';
import { SHAPES, flops } from '../src/shapes.mjs';
import { combineRounds } from '../src/bench.mjs';

const [S1, S2] = SHAPES;
const env = { node: 'v20.0.0', v8: '11', platform: 'linux', arch: 'x64', cpuModel: 'Test CPU', cpus: 2, totalMemMiB: 1024, loadavg1: 0.5 };

function ok(runner: string, kind: 'gru' | 'peer', shape: (typeof SHAPES)[number], medianMs: number, extra: Partial<Result> = {}): Result {
  return {
    runner,
    kind,
    shape,
    status: 'ok',
    flops: flops(shape),
    slow: false,
    iterations: 10,
    warmupPasses: 3,
    medianMs,
    p10Ms: medianMs * 0.9,
    p90Ms: medianMs * 1.1,
    meanMs: medianMs,
    minMs: medianMs,
    maxMs: medianMs,
    gflops: flops(shape) / (medianMs * 1e6),
    peakRssMiB: 64.4,
    baselineRssMiB: 50,
    ...extra,
  };
}

function sample(): Result[] {
  return addRatios([
    ok('gru:reference', 'gru', S1, 200),
    ok('gru:cpu', 'gru', S1, 2),
    ok('tfjs-cpu', 'peer', S1, 5),
    ok('ort-node', 'peer', S2, 40),
    { runner: 'gru:cpu', kind: 'gru', shape: S2, status: 'unavailable', reason: 'no addon | built', flops: flops(S2), slow: false },
    { runner: 'gru:reference', kind: 'gru', shape: S2, status: 'skipped', reason: 'slow on this shape (--skip-slow)', flops: flops(S2), slow: true },
  ]);
}

describe('addRatios', () => {
  it('divides each median by the fastest gru median on the same shape', () => {
    const r = sample();
    expect(r[0].ratioToBestGru).toBe(100);
    expect(r[1].ratioToBestGru).toBe(1);
    expect(r[2].ratioToBestGru).toBe(2.5);
    expect(r.slice(0, 3).every((x) => x.bestGru === 'gru:cpu')).toBe(true);
  });

  it('leaves the ratio null where no gru runner was timed on the shape, and untimed rows alone', () => {
    const r = sample();
    expect(r[3].ratioToBestGru).toBeNull();
    expect(r[3].bestGru).toBeNull();
    expect('ratioToBestGru' in r[4]).toBe(false);
  });
});

describe('number formats', () => {
  it('keeps about three significant digits', () => {
    expect([formatMs(1592.4), formatMs(18.34), formatMs(1.234), formatMs(0.17612)]).toEqual(['1592', '18.3', '1.23', '0.176']);
    expect([formatRate(123.4), formatRate(12.34), formatRate(0.0812)]).toEqual(['123', '12.3', '0.08']);
    expect([formatRatio(100), formatRatio(2.5), formatRatio(null), formatRatio(undefined)]).toEqual(['100.0', '2.50', '—', '—']);
  });

  it('escapes pipes and newlines so a reason cannot break a table', () => {
    expect(escapeMarkdown('a | b\nc')).toBe('a \\| b c');
  });
});

describe('buildDocument', () => {
  it('records the environment, the method and every result', () => {
    const opts = parseOptions(['--quick']);
    const doc = buildDocument(
      opts,
      [S1, S2],
      [
        { name: 'gru:cpu', kind: 'gru' },
        { name: 'ort-node', kind: 'peer', note: 'n' },
      ],
      sample(),
      env,
    );
    expect(doc.schema).toBe(SCHEMA);
    expect(new Date(doc.date).toString()).not.toBe('Invalid Date');
    expect(doc.environment).toEqual(env);
    expect(doc.method).toMatchObject({
      isolation: 'child-process',
      quick: true,
      warmupMs: 300,
      minIters: 3,
      minTimeMs: 100,
      maxTimeMs: 1000,
      slowIters: 1,
      flops: '2*B*T*3H*(D+H)',
    });
    expect(doc.runners).toEqual([
      { name: 'gru:cpu', kind: 'gru' },
      { name: 'ort-node', kind: 'peer', note: 'n' },
    ]);
    expect(doc.results).toHaveLength(6);
    expect(buildDocument(parseOptions(['--in-process']), [], [], [], env).method.isolation).toBe('in-process');
  });
});

describe('machineLine', () => {
  it('names the CPU with its family and model numbers where known, the cores and the load', () => {
    expect(machineLine({ ...env, cpuFamily: 6, cpuModelNumber: 167 })).toBe('v20.0.0, linux x64, Test CPU (family 6 model 167) ×2, load 0.50');
    expect(machineLine({ ...env, cpuFamily: null, cpuModelNumber: null })).toBe('v20.0.0, linux x64, Test CPU ×2, load 0.50');
  });
});

describe('formatMarkdown', () => {
  const doc = buildDocument(
    parseOptions([]),
    [S1, S2],
    [
      { name: 'gru:cpu', kind: 'gru' },
      { name: 'tfjs-cpu', kind: 'peer', note: 'float32 | WebGL off' },
    ],
    sample(),
    env,
  );
  const md = formatMarkdown(doc);
  const lines = md.split('\n');

  it('prints one header, an alignment row and one row per timed result, fastest first within a shape', () => {
    const head = lines.findIndex((l) => l.startsWith('| shape |'));
    expect(lines[head]).toBe('| shape | B·T·D·H | runner | passes | median ms | GFLOP/s | × fastest gru | peak RSS MiB |');
    expect(lines[head + 1]).toBe('|:--|:--|:--|--:|--:|--:|--:|--:|');
    expect(lines.slice(head + 2, head + 6)).toEqual([
      '| S1 | 1·100·64·128 | gru:cpu | 10 | 2.00 | 7.37 | 1.00 | 64 |',
      '| S1 | 1·100·64·128 | tfjs-cpu | 10 | 5.00 | 2.95 | 2.50 | 64 |',
      '| S1 | 1·100·64·128 | gru:reference | 10 | 200 | 0.07 | 100.0 | 64 |',
      '| S2 | 32·100·128·256 | ort-node | 10 | 40.0 | 47.2 | — | 64 |',
    ]);
    expect(lines[head + 6]).toBe('');
  });

  it('has a well-formed table: the same number of cells on every row', () => {
    const rows = lines.filter((l) => l.startsWith('|'));
    const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    expect(new Set(rows.map(cells)).size).toBe(1);
  });

  it('lists what was not timed and why, and the runner notes, escaped', () => {
    expect(md).toContain('- gru:cpu on S2: unavailable — no addon \\| built');
    expect(md).toContain('- gru:reference on S2: skipped — slow on this shape (--skip-slow)');
    expect(md).toContain('- tfjs-cpu: float32 \\| WebGL off');
    expect(md).toContain('FLOPs per pass = 2·B·T·3H·(D+H)');
  });

  it('shows the machine and the isolation mode', () => {
    expect(md).toContain('v20.0.0, linux x64, Test CPU ×2, load 0.50 · one child process per runner and shape');
  });

  it('marks capped slow passes and groups a runner unavailable everywhere into one line', () => {
    const results = addRatios([
      ok('gru:reference', 'gru', S2, 1600, { slow: true, iterations: 2 }),
      ...[S1, S2].map(
        (shape): Result => ({ runner: 'gru:webgpu', kind: 'gru', shape, status: 'unavailable', reason: 'no adapter', flops: flops(shape), slow: false }),
      ),
    ]);
    const text = formatMarkdown(buildDocument(parseOptions(['--in-process', '--quick']), [S1, S2], [], results, env));
    expect(text).toContain('| S2 | 32·100·128·256 | gru:reference | 2 (capped) | 1600 | 1.18 | 1.00 | 64 |');
    expect(text).toContain('- gru:webgpu on all shapes: unavailable — no adapter');
    expect(text).toContain('process peak RSS MiB');
    expect(text).toContain('all runners in one process · quick');
  });

  it('says so when nothing was timed', () => {
    const text = formatMarkdown(buildDocument(parseOptions([]), [S1], [], [], env));
    expect(text).toContain('| — | — | nothing was timed | | | | | |');
  });
});

describe('--rounds', () => {
  it('parses the flag (default 1) and refuses non-positive counts', () => {
    expect(parseOptions([]).rounds).toBe(1);
    expect(parseOptions(['--rounds', '3']).rounds).toBe(3);
    expect(() => parseOptions(['--rounds', '0'])).toThrow(/--rounds: expected an integer >= 1; received '0'/);
  });

  it('keeps, per runner and shape, the round with the median median and lists every round', () => {
    const round = (a: number, b: number): Result[] => [ok('gru:cpu', 'gru', S1, a), ok('ort-node', 'peer', S1, b)];
    const combined = combineRounds([round(3, 10), round(1, 30), round(2, 20)]);
    expect(combined.map((r) => r.medianMs)).toEqual([2, 20]);
    expect(combined.map((r) => r.roundMediansMs)).toEqual([
      [3, 1, 2],
      [10, 30, 20],
    ]);
    // An even count takes the lower of the two middle rounds.
    expect(combineRounds([round(4, 1), round(1, 1)])[0].medianMs).toBe(1);
  });

  it('reports an error of any round, and keeps untimed rounds out of the median', () => {
    const error: Result = { runner: 'gru:cpu', kind: 'gru', shape: S1, status: 'error', reason: 'threw', flops: flops(S1), slow: false };
    expect(combineRounds([[ok('gru:cpu', 'gru', S1, 1)], [error]])[0]).toBe(error);
    const skipped: Result = { runner: 'gru:cpu', kind: 'gru', shape: S1, status: 'declined', reason: 'no', flops: flops(S1), slow: false };
    const mixed = combineRounds([[skipped], [ok('gru:cpu', 'gru', S1, 5)], [ok('gru:cpu', 'gru', S1, 7)]])[0];
    expect(mixed.medianMs).toBe(5);
    expect(mixed.roundMediansMs).toEqual([null, 5, 7]);
    expect(combineRounds([[skipped], [skipped]])[0]).toBe(skipped);
  });

  it('says so in the method and the table header', () => {
    const doc = buildDocument(parseOptions(['--rounds', '3']), [S1], [], [], env);
    expect(doc.method).toMatchObject({ rounds: 3 });
    expect(formatMarkdown(doc)).toContain('3 rounds, each row the round with the median median');
    expect(formatMarkdown(buildDocument(parseOptions([]), [S1], [], [], env))).not.toContain('rounds');
  });
});

describe('what every performance figure is measured against', () => {
  const [, , , S4] = SHAPES;
  const results = () =>
    addPeakFractions(
      addRatios([
        ok('fma-peak', 'peer', S2, 10, { simd: 'avx2' }),
        ok('gru:cpu', 'gru', S2, 12.5, { simd: 'avx2' }),
        ok('gru:cpu', 'gru', S4, 0.02, { simd: 'avx2' }),
        ok('gru:cpu:stream', 'gru', S4, 0.003, { simd: 'avx2', usPerStep: 3 }),
        ok('gru:wasm', 'gru', S4, 0.01, { simd: 'simd128' }),
        ok('fma-peak', 'peer', S4, 0.02, { simd: 'avx2' }),
      ]),
    );

  it('gives each row its fraction of the fma-peak rate on the same shape, null where fma-peak did not run or its passes were too short to mean anything', () => {
    const r = results();
    expect(r[1].fractionOfPeak).toBeCloseTo(0.8, 12);
    expect(r[2].fractionOfPeak).toBeNull(); // S4's fma-peak pass is 0.02 ms: wakeups, not arithmetic
    expect(r[0].fractionOfPeak).toBeUndefined();
    expect(formatPercent(0.8)).toBe('80%');
    expect(formatPercent(0.034)).toBe('3.4%');
    expect(formatPercent(null)).toBe('—');
  });

  it('prints the % FMA peak column, steps in µs and the SIMD level of each runner, with the CPU family and model', () => {
    const doc = buildDocument(parseOptions([]), [S2, S4], [], results(), { ...env, cpuModel: 'AMD EPYC', cpuFamily: 25, cpuModelNumber: 17 });
    const md = formatMarkdown(doc);
    const lines = md.split('\n');
    expect(md).toContain('AMD EPYC (family 25 model 17) ×2');
    expect(lines.find((l) => l.startsWith('| shape'))).toContain('| % FMA peak |');
    expect(lines.find((l) => l.startsWith('| S2') && l.includes('gru:cpu'))).toContain('| 80% |');
    const rows = lines.filter((l) => l.startsWith('|'));
    const cells = (l: string) => l.split('|').length;
    expect(new Set(rows.map(cells)).size).toBe(1);
    expect(md).toContain('- gru:cpu:stream on S4: 3.00 µs per step');
    expect(md).toContain('SIMD: fma-peak avx2, gru:cpu avx2, gru:cpu:stream avx2, gru:wasm simd128');
    expect(doc.method.fractionOfPeak).toMatch(/fma-peak/);
    // Without an fma-peak row the table keeps its usual columns.
    const plain = formatMarkdown(buildDocument(parseOptions([]), [S4], [], addRatios([ok('gru:cpu', 'gru', S4, 0.02)]), env));
    expect(plain).not.toContain('FMA peak');
  });

  it("says how a cpu runner's calls used the thread pool, and nothing for runners that never asked for threads", () => {
    const stats = { sharedJobs: 3, wokeSleepers: 2, busyAlone: 1, crowdedAlone: 96, crowdedWindows: 4 };
    expect(poolSummary(stats)).toBe('100 calls: 3.0% shared (2 woke sleeping threads), 96.0% alone in crowded windows (4), 1.0% alone with the pool held');
    expect(poolSummary({ sharedJobs: 0, wokeSleepers: 0, busyAlone: 0, crowdedAlone: 0, crowdedWindows: 0 })).toBe('');
    expect(poolSummary(undefined)).toBe('');
    const doc = buildDocument(
      parseOptions([]),
      [S4],
      [],
      addRatios([
        ok('gru:cpu:stream', 'gru', S4, 0.003, { usPerStep: 3, poolStats: stats }),
        ok('gru:cpu:stream:1t', 'gru', S4, 0.003, { usPerStep: 3, poolStats: { sharedJobs: 0 } }),
      ]),
      env,
    );
    const md = formatMarkdown(doc);
    expect(md).toContain('- gru:cpu:stream on S4: 100 calls: 3.0% shared');
    expect(md).not.toContain('- gru:cpu:stream:1t on S4: 0 calls');
  });

  it("reads the CPU's family and model numbers from /proc/cpuinfo, not the model name's digits", () => {
    const text = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n';
    expect(cpuIds(text)).toEqual({ cpuFamily: 25, cpuModelNumber: 17 });
    expect(cpuIds('model name\t: Apple M2\n')).toEqual({ cpuFamily: null, cpuModelNumber: null });
  });
});
