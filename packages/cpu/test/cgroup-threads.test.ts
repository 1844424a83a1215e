import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The default `threads` is @gru/core's availableCores(), which reads the control group's CPU quota
// (core's test/cores.test.ts tests the reading): here a real group, where this machine lets the
// tests make one (root, cgroup v1's cpu controller mounted writable, as on the project's CI
// machines); elsewhere the test says why not.
const V1_CPU = '/sys/fs/cgroup/cpu';
const writableV1 = (() => {
  try {
    accessSync(V1_CPU, constants.W_OK);
    return existsSync(`${V1_CPU}/cpu.cfs_quota_us`) && existsSync(`${V1_CPU}/cgroup.procs`);
  } catch {
    return false;
  }
})();

describe.skipIf(!writableV1 || availableParallelism() < 2)('in a real control group with a one-core quota (cgroup v1)', () => {
  it('a backend made with no threads option uses one thread', () => {
    const group = `${V1_CPU}/gru-cpu-test-${process.pid}`;
    mkdirSync(group);
    try {
      writeFileSync(`${group}/cpu.cfs_period_us`, '100000');
      writeFileSync(`${group}/cpu.cfs_quota_us`, '100000');
      const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
      const script = `import(${JSON.stringify(index)}).then((m) => console.log(JSON.stringify({ threads: m.createCpuBackend().threads })))`;
      // The child joins the group before Node starts, as a container's processes are in theirs.
      const env = { ...process.env };
      delete env.GRU_CPU_THREADS;
      const run = spawnSync('sh', ['-c', `echo $$ > ${group}/cgroup.procs && exec "${process.execPath}" -e '${script}'`], { env, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ threads: 1 });
      expect(readFileSync(`${group}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('100000');
    } finally {
      rmdirSync(group);
    }
  });
});
