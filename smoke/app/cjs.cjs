// Every package required as CommonJS; cpu and wasm loaded and run; the findings printed as JSON.
const { GRU, listBackends, loadBackend } = require('@gru/core');
const { createCpuBackend } = require('@gru/cpu');
const { createWasmBackend } = require('@gru/wasm');
const { createWebGpuBackend } = require('@gru/webgpu');
const { createCudnnBackend } = require('@gru/cudnn');
const { loadModel } = require('@gru/keras');
const { runConformance } = require('@gru/conformance');

async function main() {
  await loadBackend('cpu');
  await loadBackend('wasm');
  const x = { shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)) };
  const gru = new GRU({ units: 5, returnSequences: true });
  const reference = gru.forwardSync(x, { backend: 'reference' });
  const runs = {};
  for (const backend of ['cpu', 'wasm']) {
    const r = gru.forwardSync(x, { backend }); // synchronous once loaded
    runs[backend] = { backend: r.backend, shape: r.output.shape, maxDiff: Math.max(...r.output.data.map((v, i) => Math.abs(v - reference.output.data[i]))) };
  }
  const exportsSeen = [createCpuBackend, createWasmBackend, createWebGpuBackend, createCudnnBackend, loadModel, runConformance].map((f) => typeof f);
  console.log(JSON.stringify({ backends: listBackends().map((b) => b.name), runs, exportsSeen }));
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
