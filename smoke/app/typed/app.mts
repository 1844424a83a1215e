// A small typed program against every package's published types (ESM), checked with
// `tsc --strict --noEmit` under node16, nodenext and bundler resolution.
import { GRU, GRU_BACKEND_SPEC_VERSION, loadBackend, referenceBackend, registerBackend, type GruBackend, type GruResult, type Tensor } from '@gru/core';
import { createCpuBackend, type CpuBackend } from '@gru/cpu';
import { createWasmBackend } from '@gru/wasm';
import wasmUrl from '@gru/wasm/gru.wasm'; // the URL a bundler gives (typed by the package)
import { createWebGpuBackend } from '@gru/webgpu';
import { createCudnnBackend } from '@gru/cudnn';
import { loadModel } from '@gru/keras';
import { formatSummary, runConformance } from '@gru/conformance';

const cpu: CpuBackend = createCpuBackend({ name: 'cpu-2t', threads: 2, priority: -1 });
registerBackend(cpu);
registerBackend(createWasmBackend({ name: 'wasm-2', priority: -1 }));
registerBackend(createWasmBackend({ name: 'wasm-3', priority: -1, wasmUrl: new URL(wasmUrl, import.meta.url) }));
registerBackend(createWebGpuBackend({ name: 'webgpu-2', priority: -1 }));
registerBackend(createCudnnBackend({ name: 'cudnn-2', priority: -1 }));
await loadBackend('wasm');

const mine: GruBackend = {
  specVersion: GRU_BACKEND_SPEC_VERSION,
  name: 'mine',
  priority: -1,
  async load() {},
  isLoaded: () => true,
  supports: (spec, call) => referenceBackend.supports(spec, call),
  prepare: (spec, weights) => referenceBackend.prepare(spec, weights),
};
registerBackend(mine);

const gru = new GRU({ units: 3, returnSequences: true });
const result: GruResult = await gru.forward({ shape: [1, 2, 4], data: new Float32Array(8) });
const output: Tensor = result.output;
const shape: number[] = output.shape;
const backend: string = result.backend;

// @ts-expect-error units is a number: the types are real, not `any`
new GRU({ units: '3' });
// @ts-expect-error specVersion must be the version this core implements
const stale: GruBackend = { ...mine, specVersion: 0 };

const loading: Promise<unknown> = loadModel(new Uint8Array(0)).catch(() => undefined);
const report = await runConformance(mine);
console.log(shape, backend, formatSummary(report), stale.name, loading instanceof Promise);
