import { GruError } from '@gru/core';
import type { Precision } from './device.js';

export interface CudnnBackendOptions {
  /** libcudnn.so.9, or a directory holding it (or lib/, lib64/ below it). Default: $GRU_CUDNN_PATH, then the search. */
  cudnnPath?: string;
  /** libcuda.so.1 or its directory, where the dynamic linker does not find it. Default: $GRU_CUDA_DRIVER_PATH. */
  cudaDriverPath?: string;
  /** CUDA device ordinal. Default: $GRU_CUDNN_DEVICE or 0. */
  device?: number;
  /**
   * float32 layers: 'fp32' (default; cuDNN's FMA math, no TF32), 'tf32' (cuDNN may use TF32
   * tensor cores) or 'fp16' (half storage, float accumulation). float64 layers always compute in
   * double. Default: $GRU_CUDNN_PRECISION or 'fp32'.
   */
  precision?: Precision;
  /** The Python asked where pip's nvidia-cudnn wheel is, or false to not ask. Default: $GRU_CUDNN_PYTHON or 'python3'. */
  python?: string | false;
  /** Registered name. Default 'cudnn'. */
  name?: string;
  /** Selection priority. Default 100 (ahead of CPU backends when it can run the call). */
  priority?: number;
}

export interface ResolvedOptions {
  cudnnPath?: string;
  cudaDriverPath?: string;
  device: number;
  precision: Precision;
  python: string | false;
  name: string;
  priority: number;
}

const PRECISIONS: readonly Precision[] = ['fp32', 'tf32', 'fp16'];

function fail(kind: 'ValueError' | 'TypeError', message: string): never {
  throw new GruError(kind, `createCudnnBackend: ${message}`);
}

function checkString(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value) fail('TypeError', `\`${what}\` must be a non-empty string; received ${JSON.stringify(value)}.`);
  return value;
}

function checkDevice(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    fail('ValueError', `${what} must be a non-negative integer (a CUDA device ordinal); received ${JSON.stringify(value)}.`);
  }
  return value;
}

function checkPrecision(value: unknown, what: string): Precision {
  if (!PRECISIONS.includes(value as Precision))
    fail('ValueError', `${what} must be one of ${PRECISIONS.map((p) => `'${p}'`).join(', ')}; received ${JSON.stringify(value)}.`);
  return value as Precision;
}

/**
 * Explicit options win over environment variables. Bad options throw here; bad environment
 * values throw too, but the default backend resolves them in load(), so a stray variable makes
 * load() reject with the reason instead of breaking the import.
 */
export function resolveOptions(options: CudnnBackendOptions, env: Readonly<Record<string, string | undefined>>): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('TypeError', `options must be an object; received ${String(options)}.`);
  const known = ['cudnnPath', 'cudaDriverPath', 'device', 'precision', 'python', 'name', 'priority'];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length) fail('ValueError', `unknown option(s) ${unknown.join(', ')}; known: ${known.join(', ')}.`);
  if (options.python !== undefined && options.python !== false) checkString(options.python, 'python');
  if (options.priority !== undefined && (typeof options.priority !== 'number' || Number.isNaN(options.priority))) {
    fail('TypeError', `\`priority\` must be a number; received ${JSON.stringify(options.priority)}.`);
  }
  const envDevice = env.GRU_CUDNN_DEVICE;
  return {
    // $GRU_CUDNN_PATH and $GRU_CUDA_DRIVER_PATH are searched right after these (search.ts).
    cudnnPath: checkString(options.cudnnPath, 'cudnnPath'),
    cudaDriverPath: checkString(options.cudaDriverPath, 'cudaDriverPath'),
    device:
      options.device !== undefined
        ? checkDevice(options.device, '`device`')
        : envDevice
          ? checkDevice(/^\d+$/.test(envDevice) ? Number(envDevice) : envDevice, 'GRU_CUDNN_DEVICE')
          : 0,
    precision:
      options.precision !== undefined
        ? checkPrecision(options.precision, '`precision`')
        : env.GRU_CUDNN_PRECISION
          ? checkPrecision(env.GRU_CUDNN_PRECISION, 'GRU_CUDNN_PRECISION')
          : 'fp32',
    python: options.python ?? (env.GRU_CUDNN_PYTHON === '0' ? false : env.GRU_CUDNN_PYTHON || 'python3'),
    name: checkString(options.name, 'name') ?? 'cudnn',
    priority: options.priority ?? 100,
  };
}
