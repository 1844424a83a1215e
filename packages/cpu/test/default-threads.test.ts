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
});
