#!/usr/bin/env node
// The soak: per backend, in a process of its own, many forward calls (one at a time, concurrent,
// and on a worker pool whose workers are terminated mid-call), and loadModel/predict/dispose
// cycles, with RSS, heap, external memory and the backend's memoryInUse sampled after GC.
// Fails (exit 1) on any failed call, a crashed process, or memory that keeps growing after
// warm-up. `npm run soak` runs the full soak; CI runs a short one (test/soak.test.ts).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SOAK_BACKENDS } from './backends.mjs';

const HELP = `Usage: node benchmarks/src/soak/cli.mjs [options]
  --backends a,b     backends to soak (default: ${SOAK_BACKENDS.join(',')})
  --calls N          forward calls per backend (default 1000000): 70% one at a time,
                     20% concurrent, 10% on the worker pool
  --cycles N         loadModel/predict/dispose cycles per backend (default 10000)
  --concurrency K    calls in flight in the concurrent phase (default 8)
  --workers W        worker threads in the pool (default 2; 0 skips the pool)
  --interruptions N  workers terminated in the middle of a large call, one after
                     another beside the pool (default 20)
  --terminations N   workers terminated mid-call in a phase of their own, memory
                     judged per terminated worker (default 400; 0 skips it)
  --json FILE        also write the results as JSON`;

/**
 * @typedef {import('./run-backend.mjs').Phase} Phase
 * @typedef {{ backend: string, phases: Phase[], skipped?: string, crashed?: string, memoryInUseAfterDispose?: number, memoryInUseAtEnd?: number }} Result
 * @typedef {{ backends: string[], calls: number, cycles: number, concurrency: number, workers: number, interruptions: number, terminations: number, json?: string }} Options
 */

/** @param {string[]} argv */
function parse(argv) {
  /** @type {Options} */
  const o = { backends: [...SOAK_BACKENDS], calls: 1_000_000, cycles: 10_000, concurrency: 8, workers: 2, interruptions: 20, terminations: 400 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      console.log(HELP);
      process.exit(0);
    }
    if (value === undefined) throw new Error(`soak: ${flag} needs a value\n${HELP}`);
    i++;
    if (flag === '--backends') {
      o.backends = value.split(',').filter(Boolean);
      const unknown = o.backends.filter((b) => !SOAK_BACKENDS.includes(b));
      if (unknown.length) throw new Error(`soak: --backends: unknown backend(s) ${unknown.join(', ')}; expected some of ${SOAK_BACKENDS.join(', ')}`);
    } else if (flag === '--json') o.json = value;
    else if (['--calls', '--cycles', '--concurrency', '--workers', '--interruptions', '--terminations'].includes(flag)) {
      const n = Number(value);
      const min = flag === '--concurrency' ? 1 : 0;
      if (!Number.isInteger(n) || n < min) throw new Error(`soak: ${flag} must be an integer >= ${min}, received '${value}'`);
      o[/** @type {'calls' | 'cycles' | 'concurrency' | 'workers' | 'interruptions' | 'terminations'} */ (flag.slice(2))] = n;
    } else throw new Error(`soak: unknown option ${flag}\n${HELP}`);
  }
  return o;
}

const mib = (/** @type {number} */ bytes) => (bytes / 2 ** 20).toFixed(1);

/** @param {Result} r */
function printResult(r) {
  if (r.skipped) {
    console.log(`${r.backend}: skipped, ${r.skipped}`);
    return;
  }
  console.log(`${r.backend}:`);
  for (const p of r.phases) {
    const head = `  ${p.phase}: ${p.units} units, ${p.failures} failed${p.firstError ? ` (first: ${p.firstError})` : ''}`;
    if (!p.growth) {
      console.log(p.before && p.after ? `${head}; rss ${mib(p.before.rss)} -> ${mib(p.after.rss)} MiB` : head);
      continue;
    }
    const g = p.growth;
    const per = (/** @type {'rss' | 'heapUsed' | 'external' | 'arrayBuffers'} */ k) =>
      `${k} ${mib(g[k].first)} -> ${mib(g[k].last)} MiB (${g[k].perUnit.toFixed(2)} B/unit)`;
    console.log(
      `${head}\n    after warm-up: ${/** @type {const} */ (['rss', 'heapUsed', 'external', 'arrayBuffers']).map(per).join(', ')}, memoryInUse ${g.memoryInUse.first} -> ${g.memoryInUse.last} B`,
    );
    console.log(
      !p.grew ? '    growth not judged: too few units for a rise to stand out of GC noise' : p.grew.length ? `    GREW: ${p.grew.join('; ')}` : '    flat',
    );
  }
  console.log(`  memoryInUse after dispose: ${r.memoryInUseAfterDispose} B, at the end: ${r.memoryInUseAtEnd} B`);
}

/**
 * Why a backend's soak failed, or [] when it passed.
 * @param {Result} r
 */
export function problems(r) {
  if (r.skipped) return [];
  const out = [];
  for (const p of r.phases) {
    if (p.failures) out.push(`${p.phase}: ${p.failures} failed (${p.firstError})`);
    if (p.grew?.length) out.push(`${p.phase}: ${p.grew.join('; ')}`);
  }
  if (r.memoryInUseAfterDispose !== 0) out.push(`memoryInUse is ${r.memoryInUseAfterDispose} B after every layer was disposed`);
  if (r.memoryInUseAtEnd !== 0) out.push(`memoryInUse is ${r.memoryInUseAtEnd} B after every model was disposed`);
  return out;
}

export function main(argv = process.argv.slice(2)) {
  const o = parse(argv);
  const child = fileURLToPath(new URL('./run-backend.mjs', import.meta.url));
  const results = [];
  let failed = 0;
  for (const name of o.backends) {
    const args = [
      '--expose-gc',
      child,
      name,
      String(o.calls),
      String(o.cycles),
      String(o.concurrency),
      String(o.workers),
      String(o.interruptions),
      String(o.terminations),
    ];
    // GRU_SOAK_PROGRESS: the child's progress lines (stderr) go straight to ours as it runs.
    /** @type {import('node:child_process').StdioOptions} */
    const stdio = ['ignore', 'pipe', process.env.GRU_SOAK_PROGRESS ? 'inherit' : 'pipe'];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20, stdio });
    const stderr = (run.stderr ?? '').trim().split('\n').slice(-5).join(' | ');
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    /** @type {Result} */
    let r;
    try {
      r = JSON.parse(line);
    } catch {
      const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.status}`;
      r = { backend: name, phases: [], crashed: `the soak process ${how}: ${stderr}` };
    }
    if (run.status !== 0 && !r.crashed) r.crashed = `the soak process exited with code ${run.status}: ${stderr}`;
    results.push(r);
    if (r.crashed) {
      console.log(`${name}: CRASHED, ${r.crashed}`);
      failed++;
      continue;
    }
    printResult(r);
    const bad = problems(r);
    if (bad.length) {
      console.log(`  FAILED: ${bad.join('; ')}`);
      failed++;
    }
  }
  if (o.json) writeFileSync(o.json, `${JSON.stringify({ options: o, results }, null, 2)}\n`);
  console.log(`soak: ${results.length - failed} backends passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main();
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 2;
  }
}
