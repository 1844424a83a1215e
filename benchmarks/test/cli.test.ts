import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JSON, PLANS, parseOptions } from '../src/cli.mjs';
import { DEFAULT_RUNNERS_DIR } from '../src/discover.mjs';

describe('parseOptions', () => {
  it('defaults to every shape and runner, child processes, the full plan and results/latest.json', () => {
    const o = parseOptions([]);
    expect(o.shapes).toBeUndefined();
    expect(o.runners).toBeUndefined();
    expect(o.inProcess).toBe(false);
    expect(o.skipSlow).toBe(false);
    expect(o.json).toBe(DEFAULT_JSON);
    expect(DEFAULT_JSON.endsWith('/benchmarks/results/latest.json')).toBe(true);
    expect(o.runnersDir).toBe(resolve(DEFAULT_RUNNERS_DIR));
    expect(o.plan).toEqual(PLANS.full);
  });

  it('uses the quick plan with --quick, and explicit flags override it', () => {
    expect(parseOptions(['--quick']).plan).toEqual(PLANS.quick);
    const o = parseOptions(['--quick', '--min-iters', '7', '--warmup-ms', '0', '--min-time-ms', '5', '--max-time-ms', '50', '--slow-iters', '2']);
    expect(o.plan).toEqual({ ...PLANS.quick, minIters: 7, warmupMs: 0, minTimeMs: 5, maxTimeMs: 50, slowIters: 2 });
  });

  it('reads the lists, paths and switches', () => {
    const o = parseOptions(['--shapes', 'S1,S2', '--runners', 'gru:reference', '--json', 'out/x.json', '--skip-slow', '--in-process', '--timeout-ms', '1000']);
    expect(o.shapes).toBe('S1,S2');
    expect(o.runners).toBe('gru:reference');
    expect(o.json).toBe(resolve('out/x.json'));
    expect(o.skipSlow).toBe(true);
    expect(o.inProcess).toBe(true);
    expect(o.timeoutMs).toBe(1000);
  });

  it('names the flag, the expectation and the received value for bad numbers', () => {
    expect(() => parseOptions(['--min-iters', '0'])).toThrow("--min-iters: expected an integer >= 1; received '0'.");
    expect(() => parseOptions(['--min-time-ms', '1.5'])).toThrow("--min-time-ms: expected an integer >= 0; received '1.5'.");
    expect(() => parseOptions(['--warmup-ms', 'many'])).toThrow("--warmup-ms: expected an integer >= 0; received 'many'.");
    expect(() => parseOptions(['--min-time-ms', '500', '--max-time-ms', '100'])).toThrow('--max-time-ms: expected at least --min-time-ms (500); received 100.');
  });

  it('rejects unknown flags and missing values, pointing at --help', () => {
    expect(() => parseOptions(['--fast'])).toThrow(/Unknown option '--fast'.*--help/);
    expect(() => parseOptions(['--shapes'])).toThrow(/--shapes.*--help/);
    expect(() => parseOptions(['extra'])).toThrow(
      "Unexpected argument 'extra'. This command does not take positional arguments. Run with --help for the flags.",
    );
  });

  it('accepts the leading -- that pnpm passes through from `pnpm bench -- --quick`', () => {
    expect(parseOptions(['--', '--quick']).quick).toBe(true);
  });
});
