// Legacy `moduleResolution: "node"` (node10), which ignores package.json `exports`: every
// package's root and the documented subpaths must still resolve to their types.
import { GRU } from '@gru/core';
import { createCpuBackend } from '@gru/cpu';
import { createWasmBackend } from '@gru/wasm';
import wasmUrl from '@gru/wasm/gru.wasm';
import { loadModel } from '@gru/keras';
import { createWebGpuBackend } from '@gru/webgpu';
import { createCudnnBackend } from '@gru/cudnn';
import { runConformance } from '@gru/conformance';
import { describeConformance } from '@gru/conformance/vitest';
import { checkActivationKinks } from '@gru/conformance/testing';

const url: string = wasmUrl;
// @ts-expect-error the types are real: units must be a number
new GRU({ units: 'four' });
export const used = [
  createCpuBackend,
  createWasmBackend,
  loadModel,
  createWebGpuBackend,
  createCudnnBackend,
  runConformance,
  describeConformance,
  checkActivationKinks,
  url,
];
