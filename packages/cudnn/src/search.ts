import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { NativeCandidate } from './native.js';

/**
 * Where the driver, cuDNN 9 and cuBLASLt may be, in the order they are tried. Pure functions of
 * the options, the environment and what Python reports, so the order is tested without a GPU;
 * the addon then tries each candidate and records what happened.
 */

export const CUDNN_SONAME = 'libcudnn.so.9';
export const DRIVER_SONAME = 'libcuda.so.1';

/** What `python3` says about its site-packages and the nvidia-cudnn wheel. */
export interface PythonProbe {
  executable: string;
  /** `nvidia.cudnn`'s package directories + '/lib' (wheels nvidia-cudnn-cu12 / -cu13). */
  cudnnLibDirs: string[];
  sitePackages: string[];
  /** Why nothing was found (Python missing, wheel not installed). */
  error?: string;
}

export interface SearchInput {
  cudnnPath?: string;
  cudaDriverPath?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** null when the probe was turned off or skipped. */
  python: PythonProbe | null;
  /** Why Python was not asked, when it was not (default: the option turned it off). */
  pythonSkipped?: string;
  arch?: string;
}

export interface SearchPlan {
  driver: NativeCandidate[];
  cudnn: NativeCandidate[];
  cublasLtDirs: string[];
  /** Places that were considered but gave no candidate ("GRU_CUDNN_PATH: not set"). */
  notes: string[];
}

const PYTHON_SCRIPT = [
  'import json, site',
  'out = {"site": [], "cudnn": [], "error": None}',
  'try:',
  '    out["site"] = list(site.getsitepackages()) + [site.getusersitepackages()]',
  'except Exception:',
  '    pass',
  'try:',
  '    import nvidia.cudnn as m',
  '    out["cudnn"] = [p + "/lib" for p in m.__path__]',
  'except Exception as e:',
  '    out["error"] = type(e).__name__ + ": " + str(e)',
  'print(json.dumps(out))',
].join('\n');

/** How long Python gets to answer (it normally takes 50-300 ms, more on a loaded machine). */
export const PYTHON_PROBE_TIMEOUT_MS = 3000;

/**
 * Asks Python where the pip wheels are (how the nvidia-cudnn wheels are usually installed). An
 * asynchronous child process: the event loop keeps turning while Python starts, and a Python that
 * does not answer within `timeoutMs` is killed and reported. Never throws.
 */
export function probePython(executable: string, timeoutMs = PYTHON_PROBE_TIMEOUT_MS): Promise<PythonProbe> {
  const failed = (why: string): PythonProbe => ({ executable, cudnnLibDirs: [], sitePackages: [], error: why });
  return new Promise((resolve) => {
    try {
      execFile(
        executable,
        ['-c', PYTHON_SCRIPT],
        { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', windowsHide: true, maxBuffer: 1 << 20 },
        (err, stdout, stderr) => {
          if (err) {
            const e = err as NodeJS.ErrnoException & { killed?: boolean };
            if (e.code === 'ENOENT') return resolve(failed(`${executable} could not be run: not installed`));
            if (e.killed) return resolve(failed(`${executable} did not answer within ${timeoutMs} ms`));
            return resolve(failed(`${executable} could not be run: ${stderr.trim().split('\n').pop() || e.message}`));
          }
          try {
            const json = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { site?: string[]; cudnn?: string[]; error?: string | null };
            resolve({ executable, cudnnLibDirs: json.cudnn ?? [], sitePackages: json.site ?? [], error: json.error ?? undefined });
          } catch {
            resolve(failed(`${executable} could not be run: it printed no JSON (${JSON.stringify(stdout.trim().slice(0, 200))})`));
          }
        },
      );
    } catch (err) {
      // Node's permission model refuses child processes synchronously, with ERR_ACCESS_DENIED.
      const denied = (err as NodeJS.ErrnoException).code === 'ERR_ACCESS_DENIED';
      resolve(
        failed(
          `${executable} could not be run: ${(err as Error).message}` +
            (denied ? " (Node's permission model is on: run node with --allow-child-process, or set GRU_CUDNN_PYTHON=0 to not ask Python)" : ''),
        ),
      );
    }
  });
}

function splitPath(value: string | undefined): string[] {
  return (value ?? '').split(':').filter((p) => p.length > 0);
}

function looksLikeFile(path: string): boolean {
  return /\.so(\.\d+)*$/.test(path);
}

/** A wheel's lib dir (…/site-packages/nvidia/cudnn/lib) has cuBLASLt in sibling wheels' lib dirs. */
function wheelSiblings(libDir: string): string[] {
  const pkg = dirname(libDir);
  if (basename(libDir) !== 'lib' || basename(pkg) !== 'cudnn') return [];
  const nvidia = dirname(pkg);
  return [join(nvidia, 'cu13', 'lib'), join(nvidia, 'cublas', 'lib'), join(nvidia, 'cu12', 'lib')];
}

function systemLibDirs(arch: string): string[] {
  const triplet = arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  const target = arch === 'arm64' ? 'sbsa-linux' : 'x86_64-linux';
  return ['/usr/local/cuda/lib64', `/usr/local/cuda/targets/${target}/lib`, `/usr/lib/${triplet}`, '/usr/lib64', '/usr/local/lib', '/opt/conda/lib'];
}

/** Candidates for a user-given path: a library file as is, or a directory (or its lib/, lib64/). */
function userCandidates(path: string, soname: string, source: string): NativeCandidate[] {
  if (looksLikeFile(path)) return [{ path, source, cublasLtDirs: [dirname(path), ...wheelSiblings(dirname(path))] }];
  return [path, join(path, 'lib'), join(path, 'lib64')].map((dir) => ({ path: join(dir, soname), source, cublasLtDirs: [dir, ...wheelSiblings(dir)] }));
}

export function searchPlan(input: SearchInput): SearchPlan {
  const { env } = input;
  const notes: string[] = [];
  const system = systemLibDirs(input.arch ?? process.arch);
  const ldPath = splitPath(env.LD_LIBRARY_PATH);

  const driver: NativeCandidate[] = [];
  if (input.cudaDriverPath) driver.push(...userCandidates(input.cudaDriverPath, DRIVER_SONAME, 'option cudaDriverPath'));
  else notes.push('option cudaDriverPath: not set');
  if (env.GRU_CUDA_DRIVER_PATH) driver.push(...userCandidates(env.GRU_CUDA_DRIVER_PATH, DRIVER_SONAME, 'GRU_CUDA_DRIVER_PATH'));
  else notes.push('GRU_CUDA_DRIVER_PATH: not set');
  driver.push({ path: DRIVER_SONAME, source: 'dynamic linker search (LD_LIBRARY_PATH, ld.so.cache)' });
  // Containers and WSL put the driver where ld.so.cache may not list it.
  const triplet = (input.arch ?? process.arch) === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  for (const dir of [`/usr/lib/${triplet}`, '/usr/lib64', '/usr/local/nvidia/lib64', '/usr/lib/wsl/lib', '/usr/local/cuda/compat']) {
    driver.push({ path: join(dir, DRIVER_SONAME), source: 'driver install location' });
  }

  const cudnn: NativeCandidate[] = [];
  if (input.cudnnPath) cudnn.push(...userCandidates(input.cudnnPath, CUDNN_SONAME, 'option cudnnPath'));
  else notes.push('option cudnnPath: not set');
  if (env.GRU_CUDNN_PATH) cudnn.push(...userCandidates(env.GRU_CUDNN_PATH, CUDNN_SONAME, 'GRU_CUDNN_PATH'));
  else notes.push('GRU_CUDNN_PATH: not set');
  if (input.python === null) {
    notes.push(`Python wheels: not searched (${input.pythonSkipped ?? 'python: false'})`);
  } else {
    for (const dir of input.python.cudnnLibDirs) {
      cudnn.push({ path: join(dir, CUDNN_SONAME), source: `pip wheel nvidia-cudnn (${input.python.executable})`, cublasLtDirs: wheelSiblings(dir) });
    }
    if (!input.python.cudnnLibDirs.length) {
      notes.push(`pip wheel nvidia-cudnn via ${input.python.executable}: ${input.python.error ?? 'not installed'}`);
    }
  }
  for (const dir of ldPath) cudnn.push({ path: join(dir, CUDNN_SONAME), source: 'LD_LIBRARY_PATH', cublasLtDirs: [dir] });
  if (!ldPath.length) notes.push('LD_LIBRARY_PATH: not set');
  for (const dir of system) cudnn.push({ path: join(dir, CUDNN_SONAME), source: 'system library directory', cublasLtDirs: [dir] });
  cudnn.push({ path: CUDNN_SONAME, source: 'dynamic linker search (ld.so.cache)' });

  const cublasLtDirs: string[] = [];
  for (const site of input.python?.sitePackages ?? []) {
    cublasLtDirs.push(join(site, 'nvidia', 'cu13', 'lib'), join(site, 'nvidia', 'cublas', 'lib'), join(site, 'nvidia', 'cu12', 'lib'));
  }
  cublasLtDirs.push(...ldPath, ...system);

  return { driver: dedupe(driver), cudnn: dedupe(cudnn), cublasLtDirs: [...new Set(cublasLtDirs)], notes };
}

/**
 * Where the driver library is to be seen without loading anything: a candidate path that exists,
 * or, for the dynamic linker's own search, libcuda.so.1 in LD_LIBRARY_PATH, the linker's default
 * directories or its cache (/etc/ld.so.cache). Undefined: nowhere, so no NVIDIA driver is
 * installed and asking Python for the cuDNN wheel (a child process, 50-400 ms) is pointless.
 * A cache that cannot be read counts as a driver seen: the look must never hide a real one.
 */
export function driverSeenAt(driver: NativeCandidate[], env: Readonly<Record<string, string | undefined>>, arch = process.arch): string | undefined {
  const triplet = arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  for (const c of driver) {
    if (c.path.includes('/')) {
      const at = lookAt(c.path);
      if (at) return at;
      continue;
    }
    const dirs = [...splitPath(env.LD_LIBRARY_PATH), `/lib/${triplet}`, `/usr/lib/${triplet}`, '/lib64', '/usr/lib64', '/lib', '/usr/lib'];
    for (const dir of dirs) {
      const at = lookAt(join(dir, c.path));
      if (at) return at;
    }
    try {
      if (readFileSync('/etc/ld.so.cache').includes(c.path)) return `${c.path} (ld.so.cache)`;
    } catch {
      return `${c.path} (ld.so.cache unreadable)`;
    }
  }
  return undefined;
}

/**
 * `path` where it exists, or where it cannot be looked at: Node's permission model makes
 * existsSync throw outside --allow-fs-read, and the dynamic linker (native code) is not bound by it.
 */
function lookAt(path: string): string | undefined {
  try {
    return existsSync(path) ? path : undefined;
  } catch {
    return `${path} (not readable under Node's permission model)`;
  }
}

function dedupe(list: NativeCandidate[]): NativeCandidate[] {
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(c.path) && seen.add(c.path));
}
