import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the fake driver and cuDNN (test/fake-gpu/*.cc) into build/fake-gpu/, once per change.
 * Layouts: `ok/` has libcuda.so.1, libcudnn.so.9 and libcublasLt.so.13; `no-cublaslt/` lacks
 * cuBLASLt; `old-driver/` has a libcuda.so.1 exporting only cuInit.
 */

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'build', 'fake-gpu');
const cxx = process.env.CXX ?? 'g++';

function build(source: string, target: string, soname: string): void {
  if (existsSync(target) && existsSync(source) && statSync(target).mtimeMs >= statSync(source).mtimeMs) return;
  mkdirSync(dirname(target), { recursive: true });
  execFileSync(cxx, ['-shared', '-fPIC', '-O1', '-std=c++17', `-Wl,-soname,${soname}`, '-o', target, source], { stdio: 'pipe' });
}

export interface FakeGpu {
  ok: string;
  noCublasLt: string;
  oldDriver: string;
}

export function buildFakeGpu(): FakeGpu {
  const src = join(here, 'fake-gpu');
  const empty = join(out, 'empty.cc');
  const partial = join(out, 'partial_cuda.cc');
  mkdirSync(out, { recursive: true });
  if (!existsSync(empty)) writeFileSync(empty, '// A library with nothing in it: stands in for cuBLASLt, which the addon only preloads.\n');
  if (!existsSync(partial)) writeFileSync(partial, 'extern "C" int cuInit(unsigned int) { return 0; }\n');
  const dirs: FakeGpu = { ok: join(out, 'ok'), noCublasLt: join(out, 'no-cublaslt'), oldDriver: join(out, 'old-driver') };
  for (const dir of [dirs.ok, dirs.noCublasLt]) {
    build(join(src, 'fake_cuda.cc'), join(dir, 'libcuda.so.1'), 'libcuda.so.1');
    build(join(src, 'fake_cudnn.cc'), join(dir, 'libcudnn.so.9'), 'libcudnn.so.9');
  }
  build(empty, join(dirs.ok, 'libcublasLt.so.13'), 'libcublasLt.so.13');
  build(partial, join(dirs.oldDriver, 'libcuda.so.1'), 'libcuda.so.1');
  return dirs;
}
