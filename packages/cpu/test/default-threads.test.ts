import { availableCores } from '@gru/core';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The default `threads` is @gru/core's availableCores() (the CPUs this process may use, capped by
// a Linux control group's CPU quota; core's test/cores.test.ts checks that in a real group).
describe('default threads', () => {
  const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const threadsIn = (env: Record<string, string | undefined>) => {
    const script = `import(${JSON.stringify(index)}).then((m) => console.log(m.createCpuBackend().threads))`;
    const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return Number(r.stdout.trim());
  };

  it('without GRU_CPU_THREADS: the cores this process may use (availableCores())', () => {
    const env = { ...process.env };
    delete env.GRU_CPU_THREADS;
    expect(threadsIn(env)).toBe(availableCores());
  });

  it('GRU_CPU_THREADS overrides it', () => {
    expect(threadsIn({ ...process.env, GRU_CPU_THREADS: '3' })).toBe(3);
  });

  it('a bad GRU_CPU_THREADS does not take the import down: the default backend is unavailable, named why, and another backend runs; setting threads mends it', () => {
    const script = `
      const core = await import('@gru/core');
      const cpu = await import(${JSON.stringify(index)});
      const gru = new core.GRU({ units: 2, seed: 1 });
      const r = await gru.forward([[[1, 2]]]);
      console.log(JSON.stringify({ backend: r.backend, skipped: r.skipped.find((s) => s.name === "cpu")?.reason }));
      await cpu.backend.load().catch((e) => console.log('load: ' + e.message));
      cpu.backend.threads = 2;
      const again = await gru.forward([[[1, 2]]]);
      console.log('after setting threads: ' + again.backend + ' ' + cpu.backend.threads);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, GRU_CPU_THREADS: 'abc' },
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    expect(r.stderr).toBe('');
    const [first, load, explicit] = r.stdout.trim().split('\n');
    const chosen = JSON.parse(first) as { backend: string; skipped?: string };
    expect(chosen.backend).toBe('reference');
    expect(chosen.skipped).toMatch(/GRU_CPU_THREADS: threads must be an integer from 1 to 1024, received 'abc'/);
    expect(load).toMatch(/^load: GRU_CPU_THREADS: threads must be an integer from 1 to 1024, received 'abc'/);
    expect(explicit).toBe('after setting threads: cpu 2');
  });

  it('where reading the environment is refused (Deno without --allow-env), the import works and cpu runs with the default threads', () => {
    const script = `
      // Deno's process.env throws NotCapable on reads without --allow-env (here only gru's variables:
      // Node's own module loader reads the environment too).
      const real = process.env;
      const refuse = (k) => { throw Object.assign(new Error('Requires env access to ' + k + ', run again with the --allow-env flag'), { name: 'NotCapable' }); };
      process.env = new Proxy(real, { get: (t, k) => (typeof k === 'string' && k.startsWith('GRU_') ? refuse(k) : t[k]) });
      const core = await import('@gru/core');
      const cpu = await import(${JSON.stringify(index)});
      const r = await new core.GRU({ units: 2, seed: 1 }).forward([[[1, 2]]]);
      console.log(r.backend, cpu.backend.threads === core.availableCores());`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('cpu true');
  });
});
