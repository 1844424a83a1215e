#!/usr/bin/env node
/**
 * Everything that needs a real GPU, in one run (scripts/device-run.sh calls it on the device
 * machine; it also runs anywhere else and then stops at load() with the reason):
 *   1. load(): the device and the library paths found;
 *   2. conformance: every Keras reference case cuDNN runs (the rest are listed in
 *      packages/cudnn/conformance.expectations.json), forward and gradients;
 *   3. semantics against the reference backend on the GPU: masks, goBackwards, fully masked
 *      rows, initial state, both output modes, forward and backward, float32 and float64;
 *   4. the error of the fp32 / tf32 / fp16 precisions against a float64 reference;
 *   5. device memory back to where it was after prepare/forward/backward/dispose cycles;
 *   6. the event loop keeps running during a long call; concurrent calls match sequential ones.
 * Prints a log and writes every number to --json. Exit code 1 when a check fails.
 *
 * Flags: --json FILE, --cases DIR, --expectations FILE (defaults: the repository's), --small
 * (shrinks the shapes of steps 4 and 6, for a dry run on the fake libraries of test/fake-gpu).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

/** The repository root: this script lives in packages/cudnn/scripts or in the device bundle's scripts/. */
function findRepo() {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'conformance', 'cases', 'keras-3.15.1'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}
const repo = findRepo();
const jsonPath = flag('json', undefined);
const casesDir = resolve(flag('cases', join(repo, 'conformance', 'cases', 'keras-3.15.1')));
const small = args.includes('--small');
const expectationsPath = resolve(flag('expectations', join(repo, 'packages', 'cudnn', 'conformance.expectations.json')));

const core = await import('@gru/core');
const cudnn = await import('@gru/cudnn');
const conformance = await import('@gru/conformance');

const report = {
  startedAt: new Date().toISOString(),
  node: process.version,
  device: null,
  load: null,
  conformance: null,
  semantics: [],
  precision: [],
  memory: null,
  eventLoop: null,
  concurrency: null,
  failures: [],
};
const log = (line) => console.log(line);
const fail = (what) => {
  report.failures.push(what);
  log(`FAIL ${what}`);
};
const finish = () => {
  report.finishedAt = new Date().toISOString();
  if (jsonPath) writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  log(report.failures.length ? `device-check: ${report.failures.length} failure(s)` : 'device-check: all checks passed');
  process.exit(report.failures.length ? 1 : 0);
};

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const uniform = (n, scale, r, dtype) => {
  const a = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * r() - 1) * scale;
  return a;
};
const maxAbs = (a, b) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : Infinity;
};
const spec = (D, H, dtype) => ({ units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype });
const weights = (D, H, seed, dtype) => {
  const r = rng(seed);
  return {
    kernel: uniform(D * 3 * H, Math.sqrt(6 / (D + 3 * H)), r, dtype),
    recurrentKernel: uniform(H * 3 * H, Math.sqrt(6 / (4 * H)), r, dtype),
    bias: uniform(6 * H, 0.1, r, dtype),
  };
};

// 1. load
const backend = cudnn.backend;
try {
  const t0 = performance.now();
  await backend.load();
  report.load = { ok: true, ms: performance.now() - t0 };
  report.device = backend.deviceInfo();
  log(`loaded in ${report.load.ms.toFixed(0)} ms: ${JSON.stringify(report.device)}`);
} catch (err) {
  report.load = { ok: false, error: err.message };
  fail(`load(): ${err.message}`);
  finish();
}

// 2. conformance
{
  const expectations = conformance.loadExpectations(expectationsPath);
  const names = conformance
    .planConformance(backend, { casesDir, coreChecks: false })
    .planned.filter((p) => p.kind === 'forward' || p.kind === 'gradient')
    .map((p) => p.name.replace(/:grads$/, ''));
  // `only` also leaves out the runner's suite:no-leak (it picks a case cuDNN declines); step 5 checks leaks.
  const rep = await conformance.runConformance(backend, {
    casesDir,
    expectations,
    only: [...new Set(names)],
    coreChecks: false,
    onResult: (r) => log(conformance.formatResult(r)),
  });
  report.conformance = {
    passed: rep.passed,
    failed: rep.failed,
    skipped: rep.skipped,
    maxAbsDiff: Math.max(0, ...rep.results.filter((r) => r.status === 'passed' && r.kind === 'forward').map((r) => r.maxAbsDiff ?? 0)),
    failures: rep.results.filter((r) => r.status === 'failed'),
  };
  log(conformance.formatSummary(rep));
  if (rep.unavailable !== undefined) fail(`conformance: the backend could not be loaded: ${rep.unavailable}`);
  if (rep.failed) fail(`conformance: ${rep.failed} case(s) failed`);
}

// 3. semantics against the reference backend
for (const dtype of ['float32', 'float64']) {
  const [B, T, D, H] = [5, 9, 6, 8];
  const mask = new Uint8Array(B * T);
  [9, 4, 0, 1, 7].forEach((L, b) => mask.fill(1, b * T, b * T + L));
  for (const masked of [false, true]) {
    for (const goBackwards of [false, true]) {
      for (const returnSequences of [false, true]) {
        const r = rng(17);
        const s = spec(D, H, dtype);
        const w = weights(D, H, 3, dtype);
        const req = {
          x: uniform(B * T * D, 1, r, dtype),
          batch: B,
          timesteps: T,
          mask: masked ? mask : undefined,
          goBackwards,
          returnSequences,
          initialState: uniform(B * H, 0.5, r, dtype),
          keepForBackward: true,
        };
        const mine = await backend.prepare(s, w);
        const ref = await core.referenceBackend.prepare(s, w);
        const a = await mine.forward(req);
        const b = await ref.forward(req);
        const dOutput = uniform(a.output.length, 1, r, dtype);
        const dLastState = uniform(B * H, 1, r, dtype);
        const ga = await mine.backward(a.saved, { dOutput, dLastState });
        const gb = await ref.backward(b.saved, { dOutput, dLastState });
        mine.dispose();
        const row = {
          dtype,
          masked,
          goBackwards,
          returnSequences,
          output: maxAbs(a.output, b.output),
          lastState: maxAbs(a.lastState, b.lastState),
          dx: maxAbs(ga.dx, gb.dx),
          dInitialState: maxAbs(ga.dInitialState, gb.dInitialState),
          dKernel: maxAbs(ga.dKernel, gb.dKernel),
          dRecurrentKernel: maxAbs(ga.dRecurrentKernel, gb.dRecurrentKernel),
          dBias: maxAbs(ga.dBias, gb.dBias),
        };
        report.semantics.push(row);
        const fwdTol = dtype === 'float64' ? 1e-12 : 5e-6;
        const bwdTol = dtype === 'float64' ? 1e-10 : 1e-4;
        const worstF = Math.max(row.output, row.lastState);
        const worstB = Math.max(row.dx, row.dInitialState, row.dKernel, row.dRecurrentKernel, row.dBias);
        log(
          `semantics ${dtype} mask=${masked} back=${goBackwards} seq=${returnSequences}: forward ${worstF.toExponential(2)}, backward ${worstB.toExponential(2)}`,
        );
        if (!(worstF <= fwdTol)) fail(`semantics ${JSON.stringify(row)}: forward differs by ${worstF}`);
        if (!(worstB <= bwdTol)) fail(`semantics ${JSON.stringify(row)}: backward differs by ${worstB}`);
      }
    }
  }
}

// 4. precision modes against a float64 reference (GPU float64 layer; checked against core in step 3)
const precisionShapes = small
  ? [[2, 10, 8, 16]]
  : [
      [32, 100, 128, 256],
      [8, 400, 64, 128],
      [64, 50, 256, 512],
    ];
for (const [B, T, D, H] of precisionShapes) {
  const r = rng(5);
  const x64 = uniform(B * T * D, 1, r, 'float64');
  const w64 = weights(D, H, 9, 'float64');
  const exact = await backend.prepare(spec(D, H, 'float64'), w64);
  const truth = await exact.forward({ x: x64, batch: B, timesteps: T, goBackwards: false, returnSequences: true });
  exact.dispose();
  const to32 = (a) => Float32Array.from(a);
  const w32 = { kernel: to32(w64.kernel), recurrentKernel: to32(w64.recurrentKernel), bias: to32(w64.bias) };
  let fp32Out;
  for (const precision of ['fp32', 'tf32', 'fp16']) {
    const b = precision === 'fp32' ? backend : cudnn.createCudnnBackend({ precision, name: `cudnn-${precision}` });
    const prepared = await b.prepare(spec(D, H, 'float32'), w32);
    const out = await prepared.forward({ x: to32(x64), batch: B, timesteps: T, goBackwards: false, returnSequences: true });
    prepared.dispose();
    if (precision === 'fp32') fp32Out = out.output;
    const row = {
      shape: `B=${B} T=${T} D=${D} H=${H}`,
      precision,
      maxAbsErrorVsFloat64: maxAbs(out.output, truth.output),
      maxAbsDiffVsFp32: maxAbs(out.output, fp32Out),
    };
    report.precision.push(row);
    log(
      `precision ${row.shape} ${precision}: max |err| vs float64 ${row.maxAbsErrorVsFloat64.toExponential(2)}, vs fp32 ${row.maxAbsDiffVsFp32.toExponential(2)}`,
    );
  }
}

// 5. memory
{
  const before = backend.memoryInUse();
  for (let i = 0; i < 20; i++) {
    const r = rng(i);
    const p = await backend.prepare(spec(16, 32, 'float32'), weights(16, 32, i, 'float32'));
    const out = await p.forward({
      x: uniform(4 * 20 * 16, 1, r, 'float32'),
      batch: 4,
      timesteps: 20,
      goBackwards: false,
      returnSequences: true,
      keepForBackward: true,
    });
    await p.backward(out.saved, { dOutput: uniform(out.output.length, 1, r, 'float32') });
    p.dispose();
  }
  const after = backend.memoryInUse();
  report.memory = { before, after };
  log(`memory: ${before} bytes before, ${after} after 20 prepare/forward/backward/dispose cycles`);
  if (after > before) fail(`memory grew from ${before} to ${after} bytes`);
}

// 6. event loop and concurrency
{
  const [B, T, D, H] = small ? [4, 50, 16, 32] : [64, 2000, 256, 1024];
  const p = await backend.prepare(spec(D, H, 'float32'), weights(D, H, 1, 'float32'));
  const x = uniform(B * T * D, 1, rng(2), 'float32');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const t0 = performance.now();
  await p.forward({ x, batch: B, timesteps: T, goBackwards: false, returnSequences: false });
  const ms = performance.now() - t0;
  clearInterval(timer);
  p.dispose();
  report.eventLoop = { callMs: ms, intervalTicks: ticks };
  log(`event loop: ${ticks} 1-ms timer ticks during a ${ms.toFixed(1)} ms call`);
  if (ms > 20 && ticks < ms / 10) fail(`the event loop was blocked: ${ticks} ticks in ${ms} ms`);

  const s = spec(32, 64, 'float32');
  const layers = await Promise.all([1, 2, 3, 4].map((seed) => backend.prepare(s, weights(32, 64, seed, 'float32'))));
  const reqs = [1, 2, 3, 4].map((seed) => ({
    x: uniform(8 * 50 * 32, 1, rng(seed), 'float32'),
    batch: 8,
    timesteps: 50,
    goBackwards: false,
    returnSequences: true,
  }));
  const sequential = [];
  for (const l of layers) for (const q of reqs) sequential.push((await l.forward(q)).output);
  const concurrent = await Promise.all(layers.flatMap((l) => reqs.map((q) => l.forward(q))));
  const worst = Math.max(...concurrent.map((c, i) => maxAbs(c.output, sequential[i])));
  report.concurrency = { calls: concurrent.length, maxAbsDiff: worst };
  log(`concurrency: ${concurrent.length} concurrent calls on 4 layers, max |diff| vs sequential ${worst}`);
  // Exact with CUBLAS_WORKSPACE_CONFIG set (device-run.sh does); cuBLAS may reorder sums otherwise.
  if (!(worst <= 1e-6)) fail(`concurrent calls differ from sequential ones by ${worst}`);
  for (const l of layers) l.dispose();
}

finish();
