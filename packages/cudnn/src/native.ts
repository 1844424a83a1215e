import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceRuntime } from './device.js';

/** One library candidate handed to the addon (see search.ts). */
export interface NativeCandidate {
  path: string;
  source: string;
  cublasLtDirs?: string[];
}

export interface NativeAttempt {
  library: string;
  path: string;
  source: string;
  /** 'loaded', 'not found', or the dynamic linker's message. */
  result: string;
}

export interface OpenResult {
  ok: boolean;
  attempts: NativeAttempt[];
  problems: string[];
  runtime?: DeviceRuntime;
}

/** What build/Release/gru_cudnn.node exports (native/addon.cc). */
export interface NativeAddon {
  interfaceVersion: number;
  openRuntime(options: { driver: NativeCandidate[]; cudnn: NativeCandidate[]; cublasLtDirs: string[]; device: number }): Promise<OpenResult>;
  /** The argument checks the GPU path runs, without a GPU: each throws TypeError/RangeError or returns. */
  validateLayerDims(dims: unknown): void;
  validateForwardArgs(dims: unknown, args: unknown): void;
  validateBackwardArgs(dims: unknown, batch: unknown, timesteps: unknown, args: unknown): void;
  validateWeights(dims: unknown, packed: unknown): void;
  /** fp16 mode's host conversion (float -> half -> float, round to nearest even). */
  halfRoundTrip(values: Float32Array): Float32Array;
}

const ADDON_INTERFACE_VERSION = 1;

/** The package root: src/ and dist/ both sit one level below it. */
export function packageRoot(): string {
  return dirname(dirname(fileURLToPath(import.meta.url)));
}

export function addonPath(): string {
  return join(packageRoot(), 'build', 'Release', 'gru_cudnn.node');
}

let cached: NativeAddon | Error | undefined;

/** Loads the addon once; a failure is kept (and thrown again) with the path and the loader's message. */
export function loadAddon(): NativeAddon {
  if (cached === undefined) {
    const path = addonPath();
    try {
      const mod = createRequire(import.meta.url)(path) as NativeAddon;
      if (mod.interfaceVersion !== ADDON_INTERFACE_VERSION) {
        throw new Error(`it implements interface ${String(mod.interfaceVersion)}, this code expects ${ADDON_INTERFACE_VERSION} (rebuild it)`);
      }
      cached = mod;
    } catch (err) {
      cached = new Error(
        `the native addon ${path} could not be loaded (${(err as Error).message}). ` +
          'Build it with `node scripts/build-addon.mjs` in the @gru/cudnn package (a C++17 compiler is all it needs).',
      );
    }
  }
  if (cached instanceof Error) throw cached;
  return cached;
}
