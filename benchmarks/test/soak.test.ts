import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { growth, grew } from '../src/soak/samples.mjs';

const CLI = join(__dirname, '..', 'src', 'soak', 'cli.mjs');
const SAMPLES = pathToFileURL(join(__dirname, '..', 'src', 'soak', 'samples.mjs')).href;
const RULE = { minUnits: 100_000, maxPerUnit: { heapUsed: 1, memoryInUse: 0 } };
const values = (heapUsed: number, memoryInUse = 0) => ({ rss: 0, heapUsed, external: 0, arrayBuffers: 0, memoryInUse });

describe('soak growth', () => {
  it('flags a steady leak of a few hundred bytes per call, after warm-up', () => {
    // Warm-up grows a lot, then 460 B per call (the size of a leak once seen on webgpu).
    const samples = Array.from({ length: 51 }, (_, k) => ({ done: k * 4000, values: values(k < 10 ? k * 1e6 : 1e7 + (k * 4000 - 40000) * 460) }));
    const g = growth(samples);
    expect(g.heapUsed.perUnit).toBeCloseTo(460, 6);
    expect(grew(g, 160_000, RULE)).toEqual(['heapUsed grew 460.00 bytes per unit (allowed 1)']);
  });

  it('passes memory that only moves with the collector, and native memory that stays put', () => {
    const samples = Array.from({ length: 51 }, (_, k) => ({ done: k * 4000, values: values(5e6 + ((k * 7919) % 13) * 1000, 353408) }));
    expect(grew(growth(samples), 160_000, RULE)).toEqual([]);
  });

  it('flags native memory that grows by even one byte per unit', () => {
    const samples = Array.from({ length: 51 }, (_, k) => ({ done: k * 4000, values: values(5e6, 353408 + k * 4000) }));
    expect(grew(growth(samples), 160_000, RULE)).toEqual(['memoryInUse grew 1.00 bytes per unit (allowed 0)']);
  });

  it('does not judge too little work', () => {
    const samples = Array.from({ length: 11 }, (_, k) => ({ done: k * 100, values: values(k * 1e5) }));
    expect(grew(growth(samples), 800, RULE)).toBeNull();
  });
});

describe('soak samples', () => {
  it('count memory that finalizers release after a collection as released (webgpu external memory read as noise)', () => {
    // 16 MiB held until a FinalizationRegistry callback runs for a dropped object: the way native
    // memory behind a collected wrapper is freed. A sample taken right after gc() still counts it.
    const script = `
      const { sample } = await import(${JSON.stringify(SAMPLES)});
      const held = [];
      const registry = new FinalizationRegistry(() => held.pop());
      const backend = { memoryInUse: () => 0 };
      const base = await sample(backend);
      (() => { const wrapper = {}; held.push(new ArrayBuffer(16 * 2 ** 20)); registry.register(wrapper, 0); })();
      const after = await sample(backend);
      console.log(JSON.stringify({ extra: after.arrayBuffers - base.arrayBuffers, held: held.length }));`;
    const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout.trim()) as { extra: number; held: number };
    expect(r.held).toBe(0);
    expect(r.extra).toBeLessThan(2 ** 20);
  });
});

describe('a short soak of every backend (the full one: npm run soak)', () => {
  it('runs calls one at a time, concurrently, on workers terminated mid-call, workers terminated one after another, and model cycles, without a failure', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'gru-soak-')), 'soak.json');
    const run = spawnSync(
      process.execPath,
      [CLI, '--calls', '1500', '--cycles', '20', '--workers', '2', '--interruptions', '4', '--terminations', '6', '--json', json],
      {
        encoding: 'utf8',
        timeout: 540_000,
      },
    );
    expect(run.stdout).toMatch(/soak: \d+ backends passed, 0 failed/);
    expect(run.status).toBe(0);
    const { results } = JSON.parse(readFileSync(json, 'utf8')) as {
      results: { backend: string; skipped?: string; phases: { failures: number; units: number }[]; memoryInUseAfterDispose: number }[];
    };
    const ran = results.filter((r) => !r.skipped).map((r) => r.backend);
    expect(ran).toEqual(expect.arrayContaining(['reference', 'cpu', 'wasm']));
    // On CI the webgpu backend runs on lavapipe (turbo sets it up first); a skip would hide it.
    if (process.env.CI === 'true' && process.env.VK_ICD_FILENAMES) expect(ran).toContain('webgpu');
    for (const r of results.filter((x) => !x.skipped)) {
      expect(r.phases.map((p) => p.failures)).toEqual([0, 0, 0, 0, 0]);
      expect(r.phases.every((p) => p.units > 0)).toBe(true);
      expect(r.memoryInUseAfterDispose).toBe(0);
    }
  }, 600_000);
});
