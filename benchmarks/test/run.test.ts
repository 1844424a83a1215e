import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchDocument } from '../src/report.mjs';

const RUN = fileURLToPath(new URL('../src/run.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/runners/', import.meta.url));
const CRASH = fileURLToPath(new URL('./fixtures/crash-runners/', import.meta.url));
const FLAGS = fileURLToPath(new URL('./fixtures/flag-runners/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gru-bench-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bench(args: string[]) {
  const p = spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: p.status, stdout: p.stdout, stderr: p.stderr };
}

function readDoc(path: string): BenchDocument {
  return JSON.parse(readFileSync(path, 'utf8'));
}

describe('run.mjs --quick on S4 with the reference runner', () => {
  const json = join(dir, 'ref.json');
  let p: ReturnType<typeof bench>;
  beforeAll(() => {
    p = bench(['--quick', '--shapes', 'S4', '--runners', 'gru:reference', '--json', json]);
  });

  it('exits 0 and prints the table on stdout, progress on stderr', () => {
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^\| S4 \| 1·1·64·128 \| gru:reference \| \d+ \| [\d.]+ \| [\d.]+ \| 1\.00 \| \d+ \|$/m);
    expect(p.stderr).toMatch(/gru:reference S4: [\d.]+ ms median over \d+ passes/);
    expect(p.stderr).toContain(`wrote`);
  });

  it('writes a JSON document with the expected fields', () => {
    const doc = readDoc(json);
    expect(doc.schema).toBe('gru-benchmarks/1');
    expect(Object.keys(doc.environment).sort()).toEqual([
      'arch',
      'cpuFamily',
      'cpuModel',
      'cpuModelNumber',
      'cpus',
      'loadavg1',
      'node',
      'platform',
      'totalMemMiB',
      'v8',
    ]);
    expect(doc.method).toMatchObject({
      isolation: 'child-process',
      quick: true,
      skipSlow: false,
      warmupMs: 300,
      minIters: 3,
      minTimeMs: 100,
      maxTimeMs: 1000,
      slowIters: 1,
    });
    expect(doc.shapes.map((s) => s.id)).toEqual(['S4']);
    expect(doc.runners).toEqual([expect.objectContaining({ name: 'gru:reference', kind: 'gru' })]);
    expect(doc.results).toHaveLength(1);
    const r = doc.results[0];
    expect(r).toMatchObject({ runner: 'gru:reference', kind: 'gru', status: 'ok', slow: false, flops: 147456, ratioToBestGru: 1, bestGru: 'gru:reference' });
    expect(r.shape).toMatchObject({ id: 'S4', B: 1, T: 1, D: 64, H: 128 });
    expect(r.iterations).toBeGreaterThanOrEqual(3);
    expect(r.warmupPasses).toBeGreaterThanOrEqual(1);
    for (const k of ['medianMs', 'p10Ms', 'p90Ms', 'meanMs', 'minMs', 'maxMs', 'gflops', 'peakRssMiB', 'baselineRssMiB'] as const) {
      expect(r[k], k).toBeGreaterThan(0);
    }
    const n = (v: number | undefined | null) => v as number;
    expect(n(r.minMs) <= n(r.p10Ms) && n(r.p10Ms) <= n(r.medianMs) && n(r.medianMs) <= n(r.p90Ms) && n(r.p90Ms) <= n(r.maxMs)).toBe(true);
    expect(r.gflops).toBeCloseTo(147456 / (n(r.medianMs) * 1e6), 9);
    expect(n(r.peakRssMiB)).toBeGreaterThanOrEqual(n(r.baselineRssMiB));
  });
});

describe('run.mjs with fixture runners', () => {
  it('reports every outcome per runner and shape, and exits 1 because one runner failed', () => {
    const json = join(dir, 'fixtures.json');
    const p = bench(['--quick', '--warmup-ms', '0', '--min-time-ms', '0', '--shapes', 'S1,S2,S4', '--skip-slow', '--runners-dir', FIXTURES, '--json', json]);
    expect(p.code, p.stderr).toBe(1);
    const doc = readDoc(json);
    const status = Object.fromEntries(doc.results.map((r) => [`${r.runner} ${r.shape.id}`, r.status]));
    expect(status).toEqual({
      'fake:broken S1': 'error',
      'fake:broken S2': 'error',
      'fake:broken S4': 'error',
      'fake:gru S1': 'ok',
      'fake:gru S2': 'skipped',
      'fake:gru S4': 'ok',
      'fake:peer S1': 'declined',
      'fake:peer S2': 'ok',
      'fake:peer S4': 'ok',
      'fake:unavailable S1': 'unavailable',
      'fake:unavailable S2': 'unavailable',
      'fake:unavailable S4': 'unavailable',
    });
    const find = (runner: string, shape: string) => doc.results.find((r) => r.runner === runner && r.shape.id === shape);
    expect(find('fake:broken', 'S1')?.reason).toBe('setup exploded');
    expect(find('fake:peer', 'S1')?.reason).toBe('declines S1 on purpose');
    expect(find('fake:unavailable', 'S4')?.reason).toBe('no such device here');
    expect(find('fake:gru', 'S2')?.reason).toBe('slow on this shape (--skip-slow)');
    // The only gru runner timed on S2 was skipped, so the peer has nothing to be compared with there.
    expect(find('fake:peer', 'S2')?.ratioToBestGru).toBeNull();
    const peerS4 = find('fake:peer', 'S4');
    expect(peerS4?.bestGru).toBe('fake:gru');
    expect(peerS4?.ratioToBestGru).toBeCloseTo((peerS4?.medianMs as number) / (find('fake:gru', 'S4')?.medianMs as number), 12);
    expect(p.stdout).toContain('- fake:unavailable on all shapes: unavailable — no such device here');
    expect(p.stdout).toContain('- fake:peer: resetAfter=false \\| test only');
  });

  it('marks capped passes when slow shapes are not skipped', () => {
    const json = join(dir, 'slow.json');
    const p = bench([
      '--quick',
      '--warmup-ms',
      '0',
      '--shapes',
      'S2',
      '--runners',
      'fake:gru',
      '--slow-iters',
      '2',
      '--min-iters',
      '5',
      '--runners-dir',
      FIXTURES,
      '--json',
      json,
    ]);
    expect(p.code, p.stderr).toBe(0);
    const [r] = readDoc(json).results;
    expect(r).toMatchObject({ status: 'ok', slow: true, iterations: 2 });
    expect(p.stdout).toContain('| fake:gru | 2 (capped) |');
  });

  it('runs in-process with --in-process and says so', () => {
    const json = join(dir, 'inproc.json');
    const p = bench([
      '--quick',
      '--warmup-ms',
      '0',
      '--in-process',
      '--shapes',
      'S4',
      '--runners',
      'fake:gru,fake:unavailable',
      '--runners-dir',
      FIXTURES,
      '--json',
      json,
    ]);
    expect(p.code, p.stderr).toBe(0);
    const doc = readDoc(json);
    expect(doc.method.isolation).toBe('in-process');
    expect(doc.results.map((r) => r.status)).toEqual(['ok', 'unavailable']);
    expect(p.stdout).toContain('all runners in one process');
  });

  it('turns a child process that dies mid-run into an error row with its exit code and last output', () => {
    const json = join(dir, 'crash.json');
    const p = bench(['--quick', '--shapes', 'S4', '--runners', 'fake:crash', '--runners-dir', CRASH, '--json', json]);
    expect(p.code).toBe(1);
    const [r] = readDoc(json).results;
    expect(r.status).toBe('error');
    expect(r.reason).toBe('child process exited with code 3 before reporting: about to abort');
  });

  it("starts a runner's child process with its nodeFlags, and only that runner's", () => {
    const json = join(dir, 'flags.json');
    const p = bench(['--quick', '--shapes', 'S4', '--runners', 'fake:needs-gc', '--runners-dir', FLAGS, '--json', json]);
    expect(p.code, p.stderr).toBe(0);
    expect(readDoc(json).results[0].status).toBe('ok');
    // In one process the runner gets no flags, and says so.
    const inProcess = bench(['--quick', '--in-process', '--shapes', 'S4', '--runners', 'fake:needs-gc', '--runners-dir', FLAGS, '--json', json]);
    const [r] = readDoc(json).results;
    expect([inProcess.code, r.status, r.reason]).toEqual([0, 'unavailable', 'no gc(): started with []']);
  });

  it('runs gru:wasm:relaxed on the relaxed-SIMD build (its child gets the flag Node 20 needs) and gru:wasm on the plain one', () => {
    const json = join(dir, 'relaxed.json');
    const p = bench(['--quick', '--shapes', 'S4', '--runners', 'gru:wasm:relaxed,gru:wasm,gru:wasm:stream:relaxed', '--json', json]);
    expect(p.code, p.stderr).toBe(0);
    const rows = readDoc(json).results.map((r) => [r.runner, r.status, r.simd]);
    expect(rows).toEqual([
      ['gru:wasm:relaxed', 'ok', 'relaxed-simd128'],
      ['gru:wasm', 'ok', 'simd128'],
      ['gru:wasm:stream:relaxed', 'ok', 'relaxed-simd128'],
    ]);
  });

  it('kills a child process that runs past --timeout-ms', () => {
    const json = join(dir, 'timeout.json');
    const p = bench(['--shapes', 'S4', '--runners', 'fake:hang', '--timeout-ms', '1500', '--runners-dir', CRASH, '--json', json]);
    expect(p.code).toBe(1);
    expect(readDoc(json).results[0].reason).toBe('timed out after 1500 ms (--timeout-ms)');
  });
});

describe('run.mjs arguments', () => {
  it('exits 2 with the reason on a bad flag, shape or runner', () => {
    const flag = bench(['--min-iters', '-1']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('bench: ');
    expect(bench(['--shapes', 'S7']).stderr).toContain("--shapes: unknown shape 'S7'");
    const runner = bench(['--runners', 'gru:nope']);
    expect(runner.code).toBe(2);
    expect(runner.stderr).toMatch(/--runners: no runner named 'gru:nope'; discovered: .*gru:reference/);
  });

  it('prints the usage with --help and lists runners with --list', () => {
    const help = bench(['--help']);
    expect(help.code).toBe(0);
    for (const flag of [
      '--shapes',
      '--runners',
      '--warmup-ms',
      '--min-iters',
      '--min-time-ms',
      '--max-time-ms',
      '--slow-iters',
      '--json',
      '--quick',
      '--skip-slow',
      '--in-process',
    ])
      expect(help.stdout).toContain(flag);
    const list = bench(['--list', '--runners-dir', FIXTURES]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('S3  B=64 T=50 D=256 H=512');
    expect(list.stdout).toMatch(/fake:unavailable {2}\(peer, .*fake-unavailable\.mjs\) {2}unavailable: no such device here/);
    expect(list.stdout).toMatch(/fake:gru {2}\(gru, .*\) {2}available/);
  });
});
