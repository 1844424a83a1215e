// A whole Keras model on gru against Keras itself: Conv1D(64, 3, same, relu) -> GRU(128) -> Dense(10),
// batch 32, 100 steps, 16 features (issue 14's typical model). Keras (jax backend, CPU) builds,
// saves and times the model in a child process (keras_side.py); then gru loads the same .keras
// file on a backend and times `predictSync`, each predict timing its own GRU layer calls. Reports
// minimums over many repetitions (a shared machine only ever adds time), the share of predict
// outside the GRU layers, and Keras's time over gru's.
//
//   node benchmarks/src/keras-model/run.mjs [--reps 40] [--backend cpu] [--batch 32] [--steps 100]
//        [--features 16] [--python PATH] [--json benchmarks/results/keras-model.json]
// Needs the packages built (pnpm turbo run build --filter=@gru/benchmarks...) and the Keras venv
// (bash scripts/keras-venv.sh, its python is the default).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const { values: opts } = parseArgs({
  options: {
    reps: { type: 'string', default: '40' },
    backend: { type: 'string', default: 'cpu' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '100' },
    features: { type: 'string', default: '16' },
    python: { type: 'string' },
    json: { type: 'string', default: join(repo, 'benchmarks', 'results', 'keras-model.json') },
  },
});
/** @param {'reps' | 'batch' | 'steps' | 'features'} name */
const int = (name) => {
  const v = Number(opts[name]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} expected a positive integer, received '${opts[name]}'`);
  return v;
};
const reps = int('reps');
const [batch, steps, features] = [int('batch'), int('steps'), int('features')];
const python = opts.python ?? execFileSync('bash', [join(repo, 'scripts', 'keras-venv.sh')], { encoding: 'utf8' }).trim();

const dir = mkdtempSync(join(tmpdir(), 'gru-keras-model-'));
try {
  process.stderr.write(`keras-model: Keras builds and times the model (${python})\n`);
  const py = spawnSync(python, [join(here, 'keras_side.py'), dir, String(batch), String(steps), String(features), String(reps)], {
    env: { ...process.env, KERAS_BACKEND: 'jax', JAX_PLATFORMS: 'cpu', TF_CPP_MIN_LOG_LEVEL: '3' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (py.status !== 0) throw new Error(`keras_side.py failed (exit ${py.status ?? py.signal})`);
  const keras = JSON.parse(readFileSync(join(dir, 'keras.json'), 'utf8'));

  const { loadBackend } = await import('@gru/core');
  const { loadModel, GruLayer } = await import('@gru/keras');
  if (opts.backend !== 'reference') await import(`@gru/${opts.backend}`);
  await loadBackend(opts.backend);
  const model = await loadModel(join(dir, 'model.keras'), { backend: opts.backend });
  const x = { shape: keras.shape, data: Float32Array.from(keras.input) };

  // Each predict times its own GRU layer calls: the rest of that predict is the time outside them.
  let gruInside = 0;
  for (const g of model.layers.filter((l) => l instanceof GruLayer)) {
    const call = g.call.bind(g);
    /** @type {typeof g.call} */
    g.call = (c, mask, ctx) => {
      const t = performance.now();
      const out = call(c, mask, ctx);
      gruInside += performance.now() - t;
      return out;
    };
  }
  const y = model.predictSync(x).data;
  let maxDiff = 0;
  for (let i = 0; i < y.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y[i] - keras.output[i]));
  if (!(maxDiff < 1e-4)) throw new Error(`gru's output differs from Keras's by ${maxDiff}`);

  /** @type {number[]} */
  const total = [];
  /** @type {number[]} */
  const gru = [];
  /** @type {number[]} */
  const outside = [];
  for (let i = 0; i < reps; i++) {
    gruInside = 0;
    const t = performance.now();
    model.predictSync(x);
    const dt = performance.now() - t;
    total.push(dt);
    gru.push(gruInside);
    outside.push(dt - gruInside);
  }
  model.dispose();

  /** @param {number[]} a */
  const min = (a) => Math.min(...a);
  /** @param {number[]} a */
  const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const totalMin = min(total);
  const result = {
    model: 'Conv1D(64,3,same,relu) -> GRU(128) -> Dense(10)',
    shape: keras.shape,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    keras: `${keras.keras} (${keras.backend}, CPU)`,
    backend: opts.backend,
    reps,
    gruPredictMs: { min: +totalMin.toFixed(2), median: +median(total).toFixed(2) },
    gruLayersMs: { min: +min(gru).toFixed(2), median: +median(gru).toFixed(2) },
    outsideGruMs: { min: +min(outside).toFixed(2), median: +median(outside).toFixed(2) },
    // Each part at its best (a loaded machine only adds time), and the median of each predict's share.
    outsideGruShare: +(min(outside) / (min(outside) + min(gru))).toFixed(3),
    outsideGruShareMedian: +median(outside.map((o, i) => o / total[i])).toFixed(3),
    kerasPredictMs: { min: +min(keras.timesMs).toFixed(2), median: +median(keras.timesMs).toFixed(2) },
    kerasOverGru: +(min(keras.timesMs) / totalMin).toFixed(2),
    maxAbsDiffFromKeras: maxDiff,
  };
  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
  /** @param {{min: number, median: number}} m */
  const ms = (m) => `${m.min} (median ${m.median})`;
  console.log(`### ${result.model}, input ${keras.shape.join('x')}, ${result.cpu} (${result.cores} cores), min of ${reps}
| | ms |
|---|--:|
| gru predict (${opts.backend}) | ${ms(result.gruPredictMs)} |
| of which GRU layers | ${ms(result.gruLayersMs)} |
| of which the other layers and the graph | ${ms(result.outsideGruMs)} |
| share outside GRU layers (by min; median of each predict's) | ${(result.outsideGruShare * 100).toFixed(1)}% (${(result.outsideGruShareMedian * 100).toFixed(1)}%) |
| Keras ${result.keras} model.predict | ${ms(result.kerasPredictMs)} |
| Keras / gru (by min) | ${result.kerasOverGru}x |
max |gru - Keras| = ${maxDiff.toExponential(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
