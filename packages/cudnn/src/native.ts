import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environmentVariable, fileReadRefused } from '@gru/core';
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

const FILE = 'gru_cudnn.node';

/** The platforms whose prebuilt binary ships in the package (scripts/addon.mjs builds them; a test checks the two agree). */
export const PREBUILT_PLATFORMS = ['linux-x64', 'linux-arm64'];

/**
 * Where the addon may be, in order: GRU_CUDNN_ADDON (a path), the one built from source here
 * (node-gyp: the install script when no prebuilt binary loads, or a developer), and the prebuilt
 * binary the package ships for this platform and CPU (prebuilds/linux-x64, prebuilds/linux-arm64).
 */
export function addonCandidates(): string[] {
  const given = environmentVariable('GRU_CUDNN_ADDON');
  if (given) return [given];
  return [join(packageRoot(), 'build', 'Release', FILE), join(packageRoot(), 'prebuilds', `${process.platform}-${process.arch}`, FILE)];
}

/** Loads the addon at `path` and checks that it speaks this code's interface. */
function loadFrom(path: string): NativeAddon {
  const mod = createRequire(import.meta.url)(path) as NativeAddon;
  if (mod.interfaceVersion !== ADDON_INTERFACE_VERSION) {
    throw new Error(`it implements interface ${String(mod.interfaceVersion)}, this code expects ${ADDON_INTERFACE_VERSION} (rebuild it)`);
  }
  return mod;
}

/** The loader's message as a clause (no period of its own), with the flag Node's permission model wants. */
function explainLoadError(err: unknown): string {
  const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0].replace(/[.\s]+$/, '');
  if ((err as { code?: unknown } | null)?.code === 'ERR_DLOPEN_DISABLED' || /loading addons is disabled/i.test(msg))
    return `${msg}: Node.js's permission model forbids native addons; run node with --allow-addons to use the cuDNN backend`;
  return msg;
}

/** What to do about an addon that did not load, after `problems` (one per path tried). */
function addonHint(problems: string[]): string {
  const missing = problems.every((p) => p.endsWith(': not there'));
  const here = `${process.platform}-${process.arch}`;
  if (environmentVariable('GRU_CUDNN_ADDON'))
    return "The path came from GRU_CUDNN_ADDON: point it at a gru_cudnn.node, or leave it unset to use the package's own binary";
  if (missing && PREBUILT_PLATFORMS.includes(here))
    return `This package should contain prebuilds/${here}/${FILE}: reinstall @gru/cudnn (or run \`npm rebuild @gru/cudnn\` with a compiler)`;
  if (missing)
    return `@gru/cudnn ships prebuilt binaries for linux-x64 and linux-arm64 (glibc 2.34+); elsewhere (this is ${here}) it is compiled when installed (node-gyp; a C++17 compiler is all it needs). Install a compiler, then \`npm rebuild @gru/cudnn\``;
  // The permission model's clause already says what to do; a rebuild would not help.
  if (problems.some((p) => p.includes('--allow-addons') || p.includes('--allow-fs-read'))) return '';
  return 'Rebuild it here (a C++17 compiler is all it needs): `npm rebuild @gru/cudnn`';
}

/**
 * Whether `path` is not there, or why it cannot be looked at: Node's permission model makes
 * existsSync throw on a path outside --allow-fs-read, and the next candidate may be allowed.
 */
function isAbsent(path: string): boolean | string {
  try {
    return !existsSync(path);
  } catch (err) {
    return fileReadRefused(path, err) ?? `${path}: ${explainLoadError(err)}`;
  }
}

let cached: NativeAddon | Error | undefined;

/**
 * Loads the addon once, from the first candidate that loads; a failure is kept (and thrown
 * again) with every path tried and the loader's message for each.
 */
export function loadAddon(): NativeAddon {
  if (cached === undefined) {
    const problems: string[] = [];
    for (const path of addonCandidates()) {
      const absent = isAbsent(path);
      if (absent !== false) {
        problems.push(absent === true ? `${path}: not there` : absent);
        continue;
      }
      try {
        cached = loadFrom(path);
        break;
      } catch (err) {
        problems.push(`${path}: ${explainLoadError(err)}`);
      }
    }
    const hint = addonHint(problems);
    // No final period: @gru/core joins backends' reasons with '; '.
    cached ??= new Error(`the native addon could not be loaded (${problems.join('; ')})${hint ? `. ${hint}` : ''}`);
  }
  if (cached instanceof Error) throw cached;
  return cached;
}
