// Every package imported as ESM; cpu and wasm loaded and run; the findings printed as JSON.
import { GRU, listBackends, loadBackend } from '@gru/core';
import { createCpuBackend } from '@gru/cpu';
import { createWasmBackend } from '@gru/wasm';
import { createWebGpuBackend } from '@gru/webgpu';
import { createCudnnBackend } from '@gru/cudnn';
import { loadModel } from '@gru/keras';
import { runConformance } from '@gru/conformance';
import { describeConformance } from '@gru/conformance/vitest';

await loadBackend('cpu');
await loadBackend('wasm');
const x = { shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)) };
const gru = new GRU({ units: 5, returnSequences: true });
const reference = await gru.forward(x, { backend: 'reference' });
const runs = {};
for (const backend of ['cpu', 'wasm']) {
  const r = await gru.forward(x, { backend });
  runs[backend] = { backend: r.backend, shape: r.output.shape, maxDiff: Math.max(...r.output.data.map((v, i) => Math.abs(v - reference.output.data[i]))) };
}
const exportsSeen = [createCpuBackend, createWasmBackend, createWebGpuBackend, createCudnnBackend, loadModel, runConformance, describeConformance].map(
  (f) => typeof f,
);
console.log(JSON.stringify({ backends: listBackends().map((b) => b.name), runs, exportsSeen }));
