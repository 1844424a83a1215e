import { environmentVariable } from '@gru/core';
/**
 * Finding a GPUDevice: the user's own, or one requested from `navigator.gpu` (browsers, Deno)
 * or from Dawn for Node (the npm package `webgpu`, an optional peer dependency). A null adapter
 * is an error with the reason, never a silent fallback.
 */

export interface DeviceOptions {
  /** Use this device (shared with the application); the backend never destroys it. */
  device?: GPUDevice;
  /** Use this GPU object instead of navigator.gpu / Dawn. */
  gpu?: GPU;
  /** Passed to requestAdapter() (e.g. `{ powerPreference: 'high-performance' }`). */
  adapterOptions?: GPURequestAdapterOptions;
  /** Dawn toggles for Node (`create(dawnOptions)` of the `webgpu` package). */
  dawnOptions?: string[];
  /**
   * Accept a software (fallback) adapter such as llvmpipe or SwiftShader. Default false, or
   * true when the environment variable GRU_WEBGPU_ALLOW_FALLBACK=1 (for tools such as the
   * conformance CLI, which cannot pass options).
   */
  allowFallbackAdapter?: boolean;
}

export interface AcquiredDevice {
  device: GPUDevice;
  /** Held so the adapter (and Dawn's instance behind it) lives as long as the device. */
  adapter?: GPUAdapter;
  /** Whether this backend requested the device (and so destroys it on dispose). */
  owned: boolean;
  /** "vendor architecture (description)" of the adapter, for messages and the demo page. */
  adapterName: string;
  isFallbackAdapter: boolean;
  f16: boolean;
}

interface DawnModule {
  create(options: string[]): GPU;
}

/**
 * Dawn instances by toggles. Kept for the life of the process: if the GPU object is garbage
 * collected, Dawn tears down the instance under live devices and aborts the process.
 */
const dawnInstances = new Map<string, GPU>();

async function findGpu(options: DeviceOptions): Promise<GPU> {
  if (options.gpu) return options.gpu;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const versions = (globalThis as { process?: { versions?: { node?: string; bun?: string; deno?: string } } }).process?.versions;
  const isNode = typeof versions?.node === 'string';
  if (!isNode) throw new Error('this JavaScript runtime has no WebGPU (navigator.gpu is undefined)');
  let dawn: DawnModule;
  try {
    // A computed specifier keeps browser bundlers from trying to resolve the Node-only package.
    const specifier = ['web', 'gpu'].join('');
    dawn = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as DawnModule;
  } catch (err) {
    throw new Error(
      `${runtimeName(versions)} has no navigator.gpu and the npm package 'webgpu' (Dawn for Node) could not be imported: ${(err as Error).message}. ` +
        "Install it next to @gru/webgpu ('npm install webgpu').",
    );
  }
  const toggles = options.dawnOptions ?? [];
  const key = toggles.join('\n');
  let gpu = dawnInstances.get(key);
  if (!gpu) {
    gpu = dawn.create(toggles);
    dawnInstances.set(key, gpu);
  }
  return gpu;
}

/** The runtime, for messages: Bun and Deno carry Node's process.versions.node too. */
export function runtimeName(versions: { node?: string; bun?: string; deno?: string } | undefined): string {
  if (versions?.bun) return `Bun ${versions.bun}`;
  if (versions?.deno) return `Deno ${versions.deno}`;
  return `Node ${versions?.node ?? ''}`.trimEnd();
}

/** Whether this runtime has environment variables to set (Node, Bun, Deno; not a page). */
function hasEnvironment(): boolean {
  const env = (globalThis as { process?: { env?: unknown } }).process?.env;
  return typeof env === 'object' && env !== null;
}

function fallbackAllowedByEnv(): boolean {
  return environmentVariable('GRU_WEBGPU_ALLOW_FALLBACK') === '1';
}

function describeAdapter(adapter: GPUAdapter): { name: string; fallback: boolean } {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const parts = info ? [info.vendor, info.architecture, info.device, info.description].filter((s) => s) : [];
  const fallback =
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true ||
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return { name: parts.join(' ') || 'unknown adapter', fallback };
}

/** Limits worth raising to what the adapter allows: bigger sequences and a bigger fused state. */
const RAISED_LIMITS = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize'] as const;

export async function acquireDevice(options: DeviceOptions): Promise<AcquiredDevice> {
  if (options.device) {
    const device = options.device;
    return { device, owned: false, adapterName: 'device supplied by the application', isFallbackAdapter: false, f16: device.features.has('shader-f16') };
  }
  const gpu = await findGpu(options);
  const adapter = await gpu.requestAdapter(options.adapterOptions);
  if (!adapter) {
    throw new Error(
      'no WebGPU adapter: requestAdapter() returned null (no GPU or no driver). In Node, Dawn needs a Vulkan driver ' +
        '(on a machine without a GPU, a software one: VK_ICD_FILENAMES pointing at lavapipe); in Chromium, WebGPU must be enabled.',
    );
  }
  const { name, fallback } = describeAdapter(adapter);
  if (fallback && !(options.allowFallbackAdapter ?? fallbackAllowedByEnv())) {
    throw new Error(
      `the only WebGPU adapter is a software fallback (${name}), slower than the cpu and wasm backends; ` +
        `create the backend with allowFallbackAdapter: true${hasEnvironment() ? ' (or set GRU_WEBGPU_ALLOW_FALLBACK=1)' : ''} to use it anyway`,
    );
  }
  const f16 = adapter.features.has('shader-f16');
  const requiredLimits: Record<string, number> = {};
  for (const key of RAISED_LIMITS) requiredLimits[key] = adapter.limits[key];
  const device = await adapter.requestDevice({
    requiredFeatures: f16 ? ['shader-f16'] : [],
    requiredLimits,
    label: 'gru-webgpu',
  });
  return { device, adapter, owned: true, adapterName: name, isFallbackAdapter: fallback, f16 };
}
