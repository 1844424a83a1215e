// A Node-only program (lib without "dom", @types/node only) against every package whose types do
// not build on the browser's: WebGPU's types (@gru/webgpu) do, by design. Checked with
// `tsc --strict --noEmit` and skipLibCheck off, so the packages' own .d.ts files are checked too.
import { GRU, loadBackend } from '@gru/core';
import { createCpuBackend } from '@gru/cpu';
import { createCudnnBackend } from '@gru/cudnn';
import { loadModel } from '@gru/keras';
import { createWasmBackend, type WasmPreparedGru } from '@gru/wasm';
import { formatSummary, runConformance } from '@gru/conformance';

const wasm = createWasmBackend({ name: 'wasm-node-only', priority: -1 });
await loadBackend(wasm);
const prepared: WasmPreparedGru = wasm.prepareSync(new GRU({ units: 2 }).cell.spec(), {
  kernel: new Float32Array(6),
  recurrentKernel: new Float32Array(12),
  bias: null,
});
prepared.dispose();
const cpu = createCpuBackend({ name: 'cpu-node-only', priority: -1 });
const cudnn = createCudnnBackend({ name: 'cudnn-node-only', priority: -1 });
const model = await loadModel(new URL('./model.keras', import.meta.url));
console.log(cpu.name, cudnn.name, model.name, formatSummary(await runConformance(cpu)));
