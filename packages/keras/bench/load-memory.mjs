// Measures what loading a large model costs: wall time and peak memory (the process's peak RSS,
// from the kernel, minus its RSS just before the load), against the model's weight bytes. Each
// load runs in a fresh process. Make the models first (random float32 weights, as trained ones):
//   python bench/make-gru-model.py /tmp/gru50m 4080 random      # 50.1M parameters, ~200 MB
//   pnpm --filter @gru/keras build
//   node bench/load-memory.mjs /tmp/gru50m.keras /tmp/gru50m.weights.h5:/tmp/gru50m.json
// A `file:config.json` argument loads a weights-only file with that config.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const [, , ...args] = process.argv;

if (args[0] === '--child') {
  const [, how, file, configPath] = args;
  const { parseModel, loadModel } = await import(pathToFileURL(DIST).href);
  const options = configPath ? { config: JSON.parse(readFileSync(configPath, 'utf8')) } : {};
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const result = await (how === 'parseModel' ? parseModel(file, options) : loadModel(file, options));
  const ms = performance.now() - started;
  const peak = process.resourceUsage().maxRSS * 1024;
  const parameters = how === 'parseModel' ? result.spec.parameterCount : result.parameterCount;
  process.stdout.write(
    JSON.stringify({ ms, peakGrowth: peak - rssBefore, weightBytes: 4 * parameters, parameters, arrayBuffers: process.memoryUsage().arrayBuffers }),
  );
} else {
  for (const arg of args) {
    const [file, config] = arg.split(':');
    for (const how of ['parseModel', 'loadModel']) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', how, file, ...(config ? [config] : [])], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      });
      const r = JSON.parse(out);
      console.log(
        `${file.split('/').pop()} ${how}: ${(r.parameters / 1e6).toFixed(1)}M parameters (${(r.weightBytes / 2 ** 20).toFixed(0)} MiB float32), ` +
          `${(r.ms / 1000).toFixed(2)} s, peak RSS growth ${(r.peakGrowth / 2 ** 20).toFixed(0)} MiB = ${(r.peakGrowth / r.weightBytes).toFixed(2)}x the weight bytes, ` +
          `arrayBuffers held after ${(r.arrayBuffers / 2 ** 20).toFixed(0)} MiB`,
      );
    }
  }
}
