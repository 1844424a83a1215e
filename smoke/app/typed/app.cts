// The same packages from CommonJS TypeScript (their .d.cts types), under node16 and nodenext.
import { GRU, type GruResult } from '@gru/core';
import { createCpuBackend } from '@gru/cpu';
import { createWasmBackend } from '@gru/wasm';
import { createWebGpuBackend } from '@gru/webgpu';
import { createCudnnBackend } from '@gru/cudnn';
import { loadModel } from '@gru/keras';
import { runConformance } from '@gru/conformance';

async function main(): Promise<number[]> {
  const gru = new GRU({ units: 3 });
  const result: GruResult = await gru.forward([[[1, 2]]]);
  return result.output.shape;
}
// @ts-expect-error units is a number
new GRU({ units: [] });
export const used = [main, createCpuBackend, createWasmBackend, createWebGpuBackend, createCudnnBackend, loadModel, runConformance];
