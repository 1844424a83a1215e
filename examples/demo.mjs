// The README demo: a GRU trained in Keras (config and weights from a Keras 3.15.1 reference case)
// applied to a sequence on the default backend, printing which backend ran and why, the output,
// how far it is from what Keras computed, and the time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRU, listBackends, loadBackend } from '@gru/core';
import { bundledCasesDir } from '@gru/conformance';

// Backend packages register themselves when imported; use whichever are installed. Whether one
// can run here (a GPU, a built addon) is for selection to find out, and it says why not.
const notInstalled = [];
for (const name of ['@gru/cpu', '@gru/wasm', '@gru/webgpu', '@gru/cudnn']) {
  try {
    await import(name);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    notInstalled.push(name);
  }
}

const caseName = process.argv[2] ?? 'large_seq';
const ref = JSON.parse(readFileSync(join(bundledCasesDir(), `${caseName}.json`), 'utf8'));
const { kernel, recurrent_kernel: recurrentKernel, bias } = ref.weights;

const layer = GRU.fromConfig(ref.config);
layer.setWeights(bias ? [kernel, recurrentKernel, bias] : [kernel, recurrentKernel]);

// Load every backend first (a GPU probe can take a while), so the times below are the calls'.
const loading = performance.now();
await Promise.allSettled(listBackends().map((b) => loadBackend(b)));
const loadMs = performance.now() - loading;

const start = performance.now();
const result = await layer.forward(ref.inputs, { mask: ref.mask ?? undefined, initialState: ref.initial_state ?? undefined });
const ms = performance.now() - start;
const again = performance.now();
await layer.forward(ref.inputs, { mask: ref.mask ?? undefined, initialState: ref.initial_state ?? undefined });
const warmMs = performance.now() - again;

let maxDiff = 0;
result.outputs.forEach((t, i) => t.data.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref.outputs[i].data[k])))));

const c = layer.getConfig();
console.log(`gru demo: Keras ${ref.keras_version} case '${ref.name}': ${ref.description}`);
console.log(
  `layer: GRU(units=${c.units}, activation=${c.activation}, recurrent_activation=${c.recurrent_activation}, reset_after=${c.reset_after}, return_sequences=${c.return_sequences}, return_state=${c.return_state})`,
);
console.log(
  `input: [${ref.inputs.shape.join(', ')}]; registered backends: ${listBackends()
    .map((b) => `${b.name} (priority ${b.priority})`)
    .join(', ')}`,
);
const chosen = listBackends().find((b) => b.name === result.backend);
console.log(`backend: ${result.backend} (priority ${chosen?.priority}): the highest-priority registered backend that supports this call`);
// A reason can list every place a library was looked for; the first sentence says what is missing.
const brief = (reason) => (reason.length > 200 ? `${reason.slice(0, 200)}…` : reason);
for (const s of result.skipped) console.log(`  skipped ${s.name}: ${brief(s.reason)}`);
if (notInstalled.length) console.log(`  not installed: ${notInstalled.join(', ')}`);
console.log(`output: [${result.output.shape.join(', ')}], first values: ${Array.from(result.output.data.slice(0, 6), (v) => v.toFixed(6)).join(', ')}`);
if (result.state) console.log(`state: [${result.state.shape.join(', ')}]`);
console.log(`max |gru - keras| over all outputs: ${maxDiff.toExponential(2)}`);
console.log(
  `time: ${ms.toFixed(2)} ms first call (includes preparing the layer on the backend), ${warmMs.toFixed(2)} ms second call; loading the backends took ${loadMs.toFixed(0)} ms`,
);
