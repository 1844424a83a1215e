import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCudnnBackend, createDefaultCudnnBackend } from '../src/backend.js';
import { describeChoice, GRU, registerBackend, unregisterBackend } from '@gru/core';
import { resolveOptions } from '../src/options.js';
import { buildFakeGpu } from './fake-gpu.js';
import { driverSeenAt, probePython, searchPlan, type PythonProbe } from '../src/search.js';

const dir = mkdtempSync(join(tmpdir(), 'gru-cudnn-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['GRU_CUDNN_PATH', 'GRU_CUDA_DRIVER_PATH', 'GRU_CUDNN_DEVICE', 'GRU_CUDNN_PRECISION', 'GRU_CUDNN_PYTHON']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

const wheel: PythonProbe = {
  executable: 'python3',
  cudnnLibDirs: ['/venv/lib/python3.12/site-packages/nvidia/cudnn/lib'],
  sitePackages: ['/venv/lib/python3.12/site-packages'],
};

describe('where the libraries are searched', () => {
  it('cuDNN: option, then GRU_CUDNN_PATH, then the pip wheel, LD_LIBRARY_PATH, system directories, and the dynamic linker', () => {
    const plan = searchPlan({
      cudnnPath: '/opt/cudnn',
      env: { GRU_CUDNN_PATH: '/env/cudnn/libcudnn.so.9', LD_LIBRARY_PATH: '/ld1:/ld2' },
      python: wheel,
      arch: 'x64',
    });
    const sources = plan.cudnn.map((c) => `${c.source}: ${c.path}`);
    expect(sources.slice(0, 7)).toEqual([
      'option cudnnPath: /opt/cudnn/libcudnn.so.9',
      'option cudnnPath: /opt/cudnn/lib/libcudnn.so.9',
      'option cudnnPath: /opt/cudnn/lib64/libcudnn.so.9',
      'GRU_CUDNN_PATH: /env/cudnn/libcudnn.so.9',
      'pip wheel nvidia-cudnn (python3): /venv/lib/python3.12/site-packages/nvidia/cudnn/lib/libcudnn.so.9',
      'LD_LIBRARY_PATH: /ld1/libcudnn.so.9',
      'LD_LIBRARY_PATH: /ld2/libcudnn.so.9',
    ]);
    expect(plan.cudnn.some((c) => c.path === '/usr/lib/x86_64-linux-gnu/libcudnn.so.9')).toBe(true);
    expect(plan.cudnn.at(-1)).toEqual({ path: 'libcudnn.so.9', source: 'dynamic linker search (ld.so.cache)' });
    expect(plan.notes).toEqual(['option cudaDriverPath: not set', 'GRU_CUDA_DRIVER_PATH: not set']);
  });

  it('cuBLASLt is looked for beside the cuDNN wheel (nvidia/cu13/lib, nvidia/cublas/lib) before anywhere else', () => {
    const plan = searchPlan({ env: {}, python: wheel, arch: 'x64' });
    const fromWheel = plan.cudnn.find((c) => c.source.startsWith('pip wheel'));
    expect(fromWheel?.cublasLtDirs).toEqual([
      '/venv/lib/python3.12/site-packages/nvidia/cu13/lib',
      '/venv/lib/python3.12/site-packages/nvidia/cublas/lib',
      '/venv/lib/python3.12/site-packages/nvidia/cu12/lib',
    ]);
    expect(plan.cublasLtDirs.slice(0, 2)).toEqual([
      '/venv/lib/python3.12/site-packages/nvidia/cu13/lib',
      '/venv/lib/python3.12/site-packages/nvidia/cublas/lib',
    ]);
  });

  it('the driver: option, GRU_CUDA_DRIVER_PATH, the dynamic linker, then where containers and WSL put it', () => {
    const plan = searchPlan({ cudaDriverPath: '/drv/libcuda.so.1', env: { GRU_CUDA_DRIVER_PATH: '/envdrv' }, python: null, arch: 'x64' });
    expect(plan.driver.map((c) => c.path)).toEqual([
      '/drv/libcuda.so.1',
      '/envdrv/libcuda.so.1',
      '/envdrv/lib/libcuda.so.1',
      '/envdrv/lib64/libcuda.so.1',
      'libcuda.so.1',
      '/usr/lib/x86_64-linux-gnu/libcuda.so.1',
      '/usr/lib64/libcuda.so.1',
      '/usr/local/nvidia/lib64/libcuda.so.1',
      '/usr/lib/wsl/lib/libcuda.so.1',
      '/usr/local/cuda/compat/libcuda.so.1',
    ]);
    expect(plan.notes).toContain('Python wheels: not searched (python: false)');
  });

  it('arm64 machines get their own system directories', () => {
    const plan = searchPlan({ env: {}, python: null, arch: 'arm64' });
    expect(plan.cudnn.some((c) => c.path === '/usr/lib/aarch64-linux-gnu/libcudnn.so.9')).toBe(true);
    expect(plan.cudnn.some((c) => c.path === '/usr/local/cuda/targets/sbsa-linux/lib/libcudnn.so.9')).toBe(true);
  });

  it('asks Python for the wheel: a missing interpreter and a missing wheel both say why', async () => {
    const none = await probePython(join(dir, 'no-such-python'));
    expect(none.error).toMatch(/could not be run: not installed/);
    const fake = join(dir, 'fake-python');
    writeFileSync(fake, `#!/bin/sh\necho '{"site": ["/s"], "cudnn": ["/s/nvidia/cudnn/lib"], "error": null}'\n`);
    chmodSync(fake, 0o755);
    expect(await probePython(fake)).toEqual({ executable: fake, cudnnLibDirs: ['/s/nvidia/cudnn/lib'], sitePackages: ['/s'], error: undefined });
    const real = await probePython('python3');
    expect(Array.isArray(real.sitePackages)).toBe(true);
    expect(real.cudnnLibDirs.length > 0 || typeof real.error === 'string').toBe(true);
  });
});

describe('load() failures name what is missing and every place looked at', () => {
  it('lists the cudnnPath option, GRU_CUDNN_PATH and the Python probe', async () => {
    process.env.GRU_CUDNN_PATH = join(dir, 'from-env');
    // A driver file to be seen (not a library: it does not load), so that Python is asked.
    const driver = join(dir, 'driver-file');
    mkdirSync(driver, { recursive: true });
    writeFileSync(join(driver, 'libcuda.so.1'), '');
    const b = createCudnnBackend({ cudnnPath: join(dir, 'from-option'), cudaDriverPath: driver, python: join(dir, 'no-such-python') });
    const err = await b.load().then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^cuDNN backend unavailable: the NVIDIA driver library libcuda\.so\.1 was not found/);
    expect(err?.message).toContain(`${join(dir, 'from-option', 'libcudnn.so.9')} (option cudnnPath)`);
    expect(err?.message).toContain(`${join(dir, 'from-env', 'lib64', 'libcudnn.so.9')} (GRU_CUDNN_PATH)`);
    expect(err?.message).toContain(`pip wheel nvidia-cudnn via ${join(dir, 'no-such-python')}: ${join(dir, 'no-such-python')} could not be run: not installed`);
    expect(err?.message).toContain('libcudnn.so.9 (dynamic linker search (ld.so.cache)): libcudnn.so.9: cannot open shared object file');
    expect(err?.message).toMatch(/Point GRU_CUDNN_PATH \(or createCudnnBackend\(\{ cudnnPath \}\)\) at the directory holding libcudnn\.so\.9$/);
    expect(b.isLoaded()).toBe(false);
    expect(b.loadError()).toBe(err?.message);
  });

  // The machine's own driver places (ld.so.cache, the linker's directories, the install
  // locations): the test needs them empty, as on a machine with no NVIDIA driver.
  const systemDriver = driverSeenAt(searchPlan({ env: process.env, python: null }).driver, process.env);
  (systemDriver ? it.skip : it)(
    `no NVIDIA driver anywhere: Python is not run for the wheel, and the error says why${systemDriver ? ` (this machine has a driver: ${systemDriver})` : ''}`,
    async () => {
      const count = join(dir, 'unasked.count');
      const python = join(dir, 'counting-python');
      writeFileSync(python, `#!/bin/sh\necho run >> '${count}'\necho '{"site": [], "cudnn": [], "error": null}'\n`);
      chmodSync(python, 0o755);
      const b = createCudnnBackend({ cudaDriverPath: join(dir, 'no-driver-here'), python });
      const message = await b.load().then(
        () => '',
        (e: Error) => e.message,
      );
      expect(existsSync(count) ? readFileSync(count, 'utf8') : '').toBe('');
      expect(message).toMatch(/^cuDNN backend unavailable: the NVIDIA driver library libcuda\.so\.1 was not found/);
      expect(message).toContain('Python wheels: not searched (no libcuda.so.1 was found, so no NVIDIA driver is installed)');
      expect(message).toContain(`${join(dir, 'no-driver-here', 'libcuda.so.1')} (option cudaDriverPath)`);
    },
  );

  it('where the driver is to be seen without loading it: a candidate that exists, LD_LIBRARY_PATH, else nowhere', () => {
    const drv = join(dir, 'seen');
    mkdirSync(drv, { recursive: true });
    writeFileSync(join(drv, 'libcuda.so.1'), '');
    expect(driverSeenAt([{ path: join(dir, 'absent', 'libcuda.so.1'), source: 'x' }], {})).toBeUndefined();
    expect(
      driverSeenAt(
        [
          { path: join(dir, 'absent', 'libcuda.so.1'), source: 'x' },
          { path: join(drv, 'libcuda.so.1'), source: 'y' },
        ],
        {},
      ),
    ).toBe(join(drv, 'libcuda.so.1'));
    expect(driverSeenAt([{ path: 'libcuda.so.1', source: 'dynamic linker search' }], { LD_LIBRARY_PATH: `${join(dir, 'absent')}:${drv}` })).toBe(
      join(drv, 'libcuda.so.1'),
    );
  });

  it('a driver the quick look misses but the dynamic linker loads (LD_LIBRARY_PATH as the process started): Python is asked after all', () => {
    // glibc reads LD_LIBRARY_PATH once, at start: the child then clears it from process.env, so
    // only the linker still sees the driver. The cuDNN (fake) is only where the wheel's Python says.
    const fake = buildFakeGpu();
    const root = mkdtempSync(join(dir, 'late-python-'));
    const link = (from: string, to: string) => {
      mkdirSync(to, { recursive: true });
      symlinkSync(join(fake.ok, from), join(to, from));
    };
    link('libcuda.so.1', join(root, 'drv'));
    link('libcudnn.so.9', join(root, 'nvidia', 'cudnn', 'lib'));
    link('libcublasLt.so.13', join(root, 'nvidia', 'cu13', 'lib'));
    const count = join(root, 'python.count');
    const python = join(root, 'python');
    writeFileSync(python, `#!/bin/sh\necho run >> '${count}'\necho '{"site": ["${root}"], "cudnn": ["${root}/nvidia/cudnn/lib"], "error": null}'\n`);
    chmodSync(python, 0o755);
    const script = [
      'delete process.env.LD_LIBRARY_PATH;',
      `const { createCudnnBackend } = await import(${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))});`,
      `const b = createCudnnBackend({ name: 'cudnn-late', python: ${JSON.stringify(python)} });`,
      "await b.load().then(() => console.log('loaded', b.deviceInfo()?.cudnnPath), (e) => console.log(e.message));",
    ].join('\n');
    const env: NodeJS.ProcessEnv = { ...process.env, LD_LIBRARY_PATH: join(root, 'drv') };
    for (const k of ['GRU_CUDNN_PATH', 'GRU_CUDA_DRIVER_PATH', 'GRU_CUDNN_PYTHON']) delete env[k];
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout.trim(), r.stderr).toBe(`loaded ${join(root, 'nvidia', 'cudnn', 'lib', 'libcudnn.so.9')}`);
    expect(readFileSync(count, 'utf8')).toBe('run\n');
  });

  it("reports the dynamic linker's error for a file that is not a library", async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'libcudnn.so.9'), 'not an ELF file');
    writeFileSync(join(bad, 'libcuda.so.1'), '');
    const b = createCudnnBackend({ cudnnPath: bad, cudaDriverPath: bad, python: false });
    const message = await b.load().then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message).toMatch(
      new RegExp(`${join(bad, 'libcudnn.so.9').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(option cudnnPath\\): [^;]*(invalid ELF header|file too short)`),
    );
    expect(message).toMatch(/libcuda\.so\.1 \(option cudaDriverPath\): [^;]*(invalid ELF header|file too short)/);
  });

  it("a load failure reads as one reason among the others @gru/core joins with '; ' (no '.;')", async () => {
    // Two that fail, so that the first one's reason is followed by '; '.
    registerBackend(createCudnnBackend({ name: 'cudnn-joined', priority: 1000, python: false, cudaDriverPath: join(dir, 'no-driver-here') }));
    registerBackend(createCudnnBackend({ name: 'cudnn-joined-2', priority: 999, python: false, cudaDriverPath: join(dir, 'no-driver-here') }));
    try {
      const layer = new GRU({ units: 3 });
      await layer.forward({ shape: [1, 2, 4], data: new Float32Array(8).fill(0.5) });
      const line = describeChoice(layer.lastChoice);
      expect(line).toMatch(/cudnn-joined: failed to load: cuDNN backend unavailable: .*at the directory holding libcudnn\.so\.9; cudnn-joined-2: /);
      expect(line).not.toMatch(/\.;|\.\./);
    } finally {
      unregisterBackend('cudnn-joined');
      unregisterBackend('cudnn-joined-2');
    }
  });

  it('a retry after a failure searches again', async () => {
    const b = createCudnnBackend({ python: false });
    await expect(b.load()).rejects.toThrow(/cuDNN backend unavailable/);
    await expect(b.load()).rejects.toThrow(/cuDNN backend unavailable/);
  });

  it('a bad environment variable does not break the import: the default backend rejects at load()', async () => {
    process.env.GRU_CUDNN_DEVICE = 'first';
    const b = createDefaultCudnnBackend();
    expect(b.name).toBe('cudnn');
    await expect(b.load()).rejects.toThrow(
      /cuDNN backend unavailable: createCudnnBackend: GRU_CUDNN_DEVICE must be a non-negative integer \(a CUDA device ordinal\); received "first"/,
    );
    process.env.GRU_CUDNN_DEVICE = '1';
    process.env.GRU_CUDNN_PRECISION = 'fp8';
    await expect(createDefaultCudnnBackend().load()).rejects.toThrow(/GRU_CUDNN_PRECISION must be one of 'fp32', 'tf32', 'fp16'; received "fp8"/);
  });
});

describe('where reading the environment is refused (Deno without --allow-env)', () => {
  it('createCudnnBackend() and the default backend take the variables as unset; load() names what is missing, not the permission', async () => {
    const real = process.env;
    const refused = new Proxy(real, {
      get: (t, k) => {
        if (typeof k === 'string' && (k.startsWith('GRU_') || k === 'LD_LIBRARY_PATH'))
          throw Object.assign(new Error(`Requires env access to "${k}"`), { name: 'NotCapable' });
        return t[k as string];
      },
    });
    process.env = refused;
    try {
      const given = createCudnnBackend({ name: 'cudnn-no-env', python: false });
      expect(given.name).toBe('cudnn-no-env');
      const b = createDefaultCudnnBackend();
      const err = (await b.load().catch((e: Error) => e)) as Error;
      expect(err.message).toMatch(/cuDNN backend unavailable/);
      expect(err.message).not.toMatch(/Requires env access/);
    } finally {
      process.env = real;
    }
  });
});

describe('options', () => {
  it('explicit options win over the environment; defaults otherwise', () => {
    const env = { GRU_CUDNN_DEVICE: '2', GRU_CUDNN_PRECISION: 'tf32', GRU_CUDNN_PYTHON: '/usr/bin/python3.12' };
    expect(resolveOptions({}, {})).toEqual({
      cudnnPath: undefined,
      cudaDriverPath: undefined,
      device: 0,
      precision: 'fp32',
      python: 'python3',
      name: 'cudnn',
      priority: 100,
    });
    expect(resolveOptions({}, env)).toMatchObject({ device: 2, precision: 'tf32', python: '/usr/bin/python3.12' });
    expect(resolveOptions({ device: 0, precision: 'fp16', python: false }, env)).toMatchObject({ device: 0, precision: 'fp16', python: false });
    expect(resolveOptions({}, { GRU_CUDNN_PYTHON: '0' }).python).toBe(false);
  });

  it('bad options throw at createCudnnBackend, naming the option, the expectation and the value', () => {
    expect(() => createCudnnBackend({ device: -1 })).toThrow(
      /createCudnnBackend: `device` must be a non-negative integer \(a CUDA device ordinal\); received -1/,
    );
    expect(() => createCudnnBackend({ device: 1.5 })).toThrow(/received 1.5/);
    expect(() => createCudnnBackend({ precision: 'bf16' as never })).toThrow(/`precision` must be one of 'fp32', 'tf32', 'fp16'; received "bf16"/);
    expect(() => createCudnnBackend({ cudnnPath: '' })).toThrow(/`cudnnPath` must be a non-empty string; received ""/);
    expect(() => createCudnnBackend({ cudaDriverPath: 3 as never })).toThrow(/`cudaDriverPath` must be a non-empty string; received 3/);
    expect(() => createCudnnBackend({ priority: 'high' as never })).toThrow(/`priority` must be a number; received "high"/);
    expect(() => createCudnnBackend({ cudnn_path: '/x' } as never)).toThrow(/unknown option\(s\) cudnn_path; known: cudnnPath/);
    expect(() => createCudnnBackend(null as never)).toThrow(/options must be an object; received null/);
  });

  it('a backend made with options keeps its name and priority', () => {
    const b = createCudnnBackend({ name: 'cudnn-gpu1', priority: 7, device: 1 });
    expect(b.name).toBe('cudnn-gpu1');
    expect(b.priority).toBe(7);
    expect(b.cudnn).toBe(true);
  });
});
