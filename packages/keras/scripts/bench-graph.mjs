// Share of `predict` spent outside the GRU layers, on a loaded model and a backend:
//   node scripts/bench-graph.mjs model.keras input.json [backend=cpu] [runs=9]
// input.json: {shape, data}. Prints the median predictSync time, the median time of the model's
// GRU layers run alone on the same inputs they get inside the model, and the share left to the
// other layers (plain TypeScript over typed arrays). Build the package (and the backend) first.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [file, inputPath, backend = 'cpu', runsArg = '9'] = process.argv.slice(2);
if (!file || !inputPath) throw new Error('usage: node scripts/bench-graph.mjs model.keras input.json [backend] [runs]');
const runs = Number(runsArg);
const { loadModel, GruLayer } = await import(pathToFileURL(join(here, '..', 'dist', 'index.js')).href);
const { loadBackend } = await import(pathToFileURL(join(here, '..', '..', 'core', 'dist', 'index.js')).href);
if (backend !== 'reference') await import(pathToFileURL(join(here, '..', '..', backend, 'dist', 'index.js')).href);
await loadBackend(backend);
const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const x = { shape: input.shape, data: Float32Array.from(input.data) };
const model = await loadModel(file, { backend });

// Record what each GRU layer is called with, and time those calls alone afterwards.
const grus = model.layers.filter((l) => l instanceof GruLayer);
const seen = new Map();
for (const g of grus) {
  const call = g.call.bind(g);
  g.call = (c, mask, ctx) => {
    seen.set(g, { c, mask, ctx });
    return call(c, mask, ctx);
  };
}
const median = (f) => {
  f();
  const ts = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    f();
    ts.push(performance.now() - t);
  }
  return ts.sort((a, b) => a - b)[Math.floor(runs / 2)];
};
const total = median(() => model.predictSync(x));
const gruOnly = median(() => {
  for (const [g, { c, mask, ctx }] of seen) g.call(c, mask, ctx);
});
console.log(
  JSON.stringify({
    model: model.name,
    backend,
    batch: x.shape[0],
    totalMs: +total.toFixed(2),
    gruMs: +gruOnly.toFixed(2),
    outsideGruShare: +(1 - gruOnly / total).toFixed(3),
  }),
);
if (input.y) {
  const y = model.predictSync(x).data;
  let worst = 0;
  for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - input.y[i]));
  console.log(`max |gru - keras| = ${worst.toExponential(2)}`);
}
model.dispose();
