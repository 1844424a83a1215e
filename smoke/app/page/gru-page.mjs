// The page logic both bundlers build: a GRU on wasm (its .wasm file from the URL the bundler
// gives) and on webgpu, each compared with the reference backend.
import { GRU, registerBackend } from '@gru/core';
import { createWasmBackend } from '@gru/wasm';
import { backend as webgpu } from '@gru/webgpu';

export async function runGru(wasmUrl) {
  webgpu.configure({ allowFallbackAdapter: true }); // CI machines have only software adapters
  registerBackend(createWasmBackend({ wasmUrl })); // same name 'wasm': replaces the default
  const x = { shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)) };
  const gru = new GRU({ units: 4, returnSequences: true });
  const reference = await gru.forward(x, { backend: 'reference' });
  const runs = {};
  for (const backend of ['wasm', 'webgpu']) {
    try {
      const r = await gru.forward(x, { backend });
      const maxDiff = Math.max(...Array.from(r.output.data, (v, i) => Math.abs(v - reference.output.data[i])));
      runs[backend] = { backend: r.backend, shape: r.output.shape, maxDiff };
    } catch (err) {
      runs[backend] = { error: String(err?.message ?? err) };
    }
  }
  return { wasmUrl: String(wasmUrl), runs };
}
