#!/usr/bin/env node
/**
 * Training-step timings, side by side in one process: a GRU's forward pass (inference) and a
 * training step (forward with training: true, then backward of sum(output * cotangent),
 * returnSequences false) on @gru/wasm (one thread and two worker threads, resetAfter true and
 * false), and TensorFlow.js's GRU training step on tfjs-backend-wasm (reset_after=False, its only
 * mode: compare it with gru:wasm:reset-before).
 *
 * GFLOP/s: a forward pass counts flops(shape) (shapes.mjs); a training step counts 3 x flops(shape):
 * backward runs two GEMM families the size of forward's (the weight gradients, and dx / dh).
 * The gru runners also time the step with backward(..., {inputGradients: false}) (no dx: what a
 * first layer fed by the model's inputs needs; tf.variableGrads differentiates only the weights too).
 *
 *   node benchmarks/src/train.mjs [--shapes S2,S3] [--runners gru:wasm,tfjs-wasm] [--min-time-ms 2000]
 *
 * @typedef {import('./shapes.mjs').Shape} Shape
 * @typedef {{ forward: () => Promise<void>, train: () => Promise<void>, trainNoDx?: () => Promise<void>, dispose: () => void }} Trainer
 * @typedef {{ name: string, note: string, setup: (shape: Shape) => Promise<Trainer> }} TrainRunner
 */
import { intFlag, parseFlags } from './cli.mjs';
import { inputFor, kerasWeights, seededRandom, uniformArray } from './data.mjs';
import { environment, machineLine } from './report.mjs';
import { describeShape, flops, parseShapes } from './shapes.mjs';

/** FLOPs of one training step (forward + backward). */
export const trainFlops = (/** @type {Shape} */ shape) => 3 * flops(shape);

/** The cotangent of the loss: d loss / d output, [B, H]. */
const cotangent = (/** @type {Shape} */ { B, H }) => uniformArray(B * H, 1, seededRandom(7));

/**
 * @param {string} name
 * @param {{ resetAfter: boolean, threads: number }} options
 * @returns {TrainRunner}
 */
function gruWasm(name, { resetAfter, threads }) {
  return {
    name,
    note: `@gru/wasm, ${threads === 1 ? 'one thread' : `${threads} worker threads`}, resetAfter ${resetAfter}`,
    async setup(shape) {
      const core = await import('@gru/core');
      const { createWasmBackend } = await import('@gru/wasm');
      const backendName = `bench-${name}`;
      const backend = core.getBackend(backendName) ?? createWasmBackend({ name: backendName, threads, priority: -1 });
      if (!core.getBackend(backendName)) core.registerBackend(backend);
      await backend.load();
      const { B, T, D, H } = shape;
      const layer = new core.GRU({ units: H, returnSequences: false, resetAfter, backend: backendName });
      const w = kerasWeights(shape, { resetAfter, useBias: true });
      layer.setWeights({
        kernel: { shape: [D, 3 * H], data: w.kernel },
        recurrentKernel: { shape: [H, 3 * H], data: w.recurrentKernel },
        bias: { shape: resetAfter ? [2, 3 * H] : [3 * H], data: /** @type {Float32Array} */ (w.bias) },
      });
      const x = { shape: [B, T, D], data: inputFor(shape) };
      const dy = { shape: [B, H], data: cotangent(shape) };
      const check = (/** @type {{ backend: string }} */ r) => {
        if (r.backend !== backendName) throw new Error(`${name}: the call ran on '${r.backend}', not '${backendName}'`);
      };
      /** @param {boolean} inputGradients */
      const step = async (inputGradients) => {
        check(await layer.forward(x, { training: true }));
        const g = await layer.backward(dy, null, { inputGradients });
        if (!Number.isFinite(g.kernel.data[0])) throw new Error(`${name}: a non-finite gradient`);
      };
      return {
        forward: async () => check(await layer.forward(x)),
        train: () => step(true),
        trainNoDx: () => step(false),
        dispose: () => layer.dispose(),
      };
    },
  };
}

/** @type {TrainRunner} */
const tfjsWasm = {
  name: 'tfjs-wasm',
  note: 'TensorFlow.js GRU layer on tfjs-backend-wasm (single-threaded in Node), tf.variableGrads; reset_after=False only',
  async setup(shape) {
    const { loadTfjs } = await import('./runners/peers/tfjs-gru.mjs');
    const { tf, tfl } = await loadTfjs('wasm', () => import('@tensorflow/tfjs-backend-wasm'));
    const { B, T, D, H } = shape;
    const layer = tfl.layers.gru({
      units: H,
      activation: 'tanh',
      recurrentActivation: 'sigmoid',
      returnSequences: false,
      kernelInitializer: 'zeros',
      recurrentInitializer: 'zeros',
      biasInitializer: 'zeros',
    });
    const w = kerasWeights(shape, { resetAfter: false });
    const x = tf.tensor3d(inputFor(shape), [B, T, D]);
    const c = tf.tensor2d(cotangent(shape), [B, H]);
    tf.dispose(tf.tidy(() => layer.apply(x)));
    layer.setWeights([tf.tensor2d(w.kernel, [D, 3 * H]), tf.tensor2d(w.recurrentKernel, [H, 3 * H]), tf.tensor1d(/** @type {Float32Array} */ (w.bias))]);
    const variables = layer.trainableWeights.map((/** @type {any} */ v) => v.read());
    return {
      forward: async () => {
        const y = tf.tidy(() => layer.apply(x));
        await y.data();
        y.dispose();
      },
      train: async () => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x), c)), variables);
        const names = Object.keys(grads);
        if (names.length !== 3) throw new Error(`tfjs-wasm: ${names.length} gradients, expected 3 (kernel, recurrent kernel, bias)`);
        await grads[names[0]].data();
        tf.dispose([value, ...Object.values(grads)]);
      },
      dispose: () => {
        x.dispose();
        c.dispose();
        layer.dispose();
      },
    };
  },
};

/** @type {TrainRunner[]} */
export const TRAIN_RUNNERS = [
  gruWasm('gru:wasm', { resetAfter: true, threads: 1 }),
  gruWasm('gru:wasm:reset-before', { resetAfter: false, threads: 1 }),
  gruWasm('gru:wasm-2t', { resetAfter: true, threads: 2 }),
  tfjsWasm,
];

/**
 * Fastest milliseconds of each function after one untimed pass of each: they take turns (so a
 * slow spell of a shared machine hits both), at least `minIters` times and `minTimeMs`. The
 * fastest pass is the one least disturbed by other load.
 * @param {(() => Promise<void>)[]} fns
 * @param {number} minIters
 * @param {number} minTimeMs
 */
async function timeTogether(fns, minIters, minTimeMs) {
  for (const fn of fns) await fn();
  const best = fns.map(() => Number.POSITIVE_INFINITY);
  const start = performance.now();
  for (let i = 0; i < minIters || performance.now() - start < minTimeMs; i++) {
    for (const [j, fn] of fns.entries()) {
      const t0 = performance.now();
      await fn();
      best[j] = Math.min(best[j], performance.now() - t0);
    }
  }
  return best;
}

export const TRAIN_USAGE = `Usage: node benchmarks/src/train.mjs [flags]

Times a forward pass and a training step (forward with training: true, then backward) side by side
in one process, on @gru/wasm and TensorFlow.js's wasm backend.

  --shapes LIST        S1,S2,S3,S4 or custom BxTxDxH (default: S2,S3)
  --runners LIST       ${TRAIN_RUNNERS.map((r) => r.name).join(', ')} (default: all)
  --min-iters N        timed rounds at least (default 3)
  --min-time-ms N      time for at least this long per shape and runner (default 2000)
  --help               this text`;

/**
 * @param {readonly string[]} argv
 * @returns {{ shapes: string, runners: string | undefined, minIters: number, minTimeMs: number, help: boolean }}
 */
export function parseTrainOptions(argv) {
  const s = /** @type {const} */ ({ type: 'string' });
  const values = parseFlags(argv, { shapes: s, runners: s, 'min-iters': s, 'min-time-ms': s, help: { type: 'boolean' } });
  const str = (/** @type {string} */ k) => /** @type {string | undefined} */ (values[k]);
  const runners = str('runners');
  if (runners !== undefined) {
    const known = TRAIN_RUNNERS.map((r) => r.name);
    const unknown = runners
      .split(',')
      .map((n) => n.trim())
      .filter((n) => !known.includes(n));
    if (unknown.length) throw new Error(`--runners: expected names from ${known.join(', ')}; received '${unknown.join("', '")}'.`);
  }
  return {
    shapes: str('shapes') ?? 'S2,S3',
    runners,
    minIters: intFlag('--min-iters', str('min-iters'), 3),
    minTimeMs: intFlag('--min-time-ms', str('min-time-ms'), 2000, 0),
    help: values.help === true,
  };
}

async function main() {
  let opts, shapes;
  try {
    opts = parseTrainOptions(process.argv.slice(2));
    if (opts.help) {
      process.stdout.write(`${TRAIN_USAGE}\n`);
      return;
    }
    shapes = parseShapes(opts.shapes);
  } catch (err) {
    process.stderr.write(`train: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const wanted = opts.runners?.split(',').map((s) => s.trim());
  const runners = wanted ? TRAIN_RUNNERS.filter((r) => wanted.includes(r.name)) : TRAIN_RUNNERS;
  console.log(machineLine(environment()));
  console.log('Fastest of the passes, forward and training step taking turns.');
  console.log('| shape | runner | forward ms | forward GFLOP/s | train step ms | train GFLOP/s | train / forward | step, no dx ms | no dx / forward |');
  console.log('|---|---|--:|--:|--:|--:|--:|--:|--:|');
  for (const shape of shapes) {
    for (const runner of runners) {
      let trainer;
      try {
        trainer = await runner.setup(shape);
        const t = trainer;
        const [fwd, train, noDx] = await timeTogether(t.trainNoDx ? [t.forward, t.train, t.trainNoDx] : [t.forward, t.train], opts.minIters, opts.minTimeMs);
        const gf = (/** @type {number} */ f, /** @type {number} */ ms) => (f / ms / 1e6).toFixed(2);
        const noDxCells = noDx === undefined ? '– | –' : `${noDx.toFixed(1)} | ${(noDx / fwd).toFixed(2)}`;
        console.log(
          `| ${shape.id} (${describeShape(shape)}) | ${runner.name} | ${fwd.toFixed(1)} | ${gf(flops(shape), fwd)} | ${train.toFixed(1)} | ${gf(trainFlops(shape), train)} | ${(train / fwd).toFixed(2)} | ${noDxCells} |`,
        );
      } catch (err) {
        console.log(`| ${shape.id} | ${runner.name} | failed: ${err instanceof Error ? err.message : String(err)} |||||||`);
      } finally {
        trainer?.dispose();
      }
    }
  }
  // tfjs-backend-wasm and the wasm worker threads keep the event loop alive.
  process.exit(0);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
