import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { availableCores, cgroupCpuLimit } from '../src/cores.js';

/** A file system of the given files only (everything else unreadable). */
const files = (map: Record<string, string>) => (path: string) => map[path];

const V2_MOUNT = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
const V1_MOUNTS =
  '34 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct\n' +
  '35 25 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory\n';

describe('cgroupCpuLimit (the CPU quota a control group gives this process, in whole cores)', () => {
  it('cgroup v2: the quota over the period, rounded down, at least 1', () => {
    const at = (max: string) =>
      cgroupCpuLimit(
        files({ '/proc/self/cgroup': '0::/app.slice/gru.scope\n', '/proc/self/mountinfo': V2_MOUNT, '/sys/fs/cgroup/app.slice/gru.scope/cpu.max': max }),
      );
    expect(at('200000 100000\n')).toBe(2);
    expect(at('150000 100000\n')).toBe(1); // --cpus=1.5: as libuv and Rust, rounded down
    expect(at('20000 100000\n')).toBe(1); // a fifth of a core still runs one thread
    expect(at('max 100000\n')).toBeUndefined();
    expect(at('garbage')).toBeUndefined();
  });

  it('cgroup v2: the tightest quota of the group and its ancestors', () => {
    const read = files({
      '/proc/self/cgroup': '0::/outer/inner\n',
      '/proc/self/mountinfo': V2_MOUNT,
      '/sys/fs/cgroup/outer/inner/cpu.max': 'max 100000',
      '/sys/fs/cgroup/outer/cpu.max': '300000 100000',
      '/sys/fs/cgroup/cpu.max': '800000 100000',
    });
    expect(cgroupCpuLimit(read)).toBe(3);
  });

  it('cgroup v2 in a container (its own namespace): the group shown as / is read at the mount', () => {
    const read = files({ '/proc/self/cgroup': '0::/\n', '/proc/self/mountinfo': V2_MOUNT, '/sys/fs/cgroup/cpu.max': '100000 100000\n' });
    expect(cgroupCpuLimit(read)).toBe(1);
  });

  it('cgroup v1: cfs_quota_us over cfs_period_us, -1 meaning none; the mount found by its cpu controller', () => {
    const at = (quota: string) =>
      cgroupCpuLimit(
        files({
          '/proc/self/cgroup': '12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n',
          '/proc/self/mountinfo': V1_MOUNTS,
          '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': quota,
          '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
        }),
      );
    expect(at('400000\n')).toBe(4);
    expect(at('50000\n')).toBe(1);
    expect(at('-1\n')).toBeUndefined();
  });

  it("cgroup v1 under a namespace: a mount whose root is the container's group", () => {
    const read = files({
      '/proc/self/cgroup': '4:cpu,cpuacct:/docker/abc\n',
      '/proc/self/mountinfo': '34 25 0:29 /docker/abc /sys/fs/cgroup/cpu\\040x rw - cgroup cgroup rw,cpu,cpuacct\n',
      '/sys/fs/cgroup/cpu x/cpu.cfs_quota_us': '200000',
      '/sys/fs/cgroup/cpu x/cpu.cfs_period_us': '100000',
    });
    expect(cgroupCpuLimit(read)).toBe(2);
  });

  it('nothing readable, no cpu controller, or no quota anywhere: undefined', () => {
    expect(cgroupCpuLimit(files({}))).toBeUndefined();
    expect(cgroupCpuLimit(files({ '/proc/self/cgroup': '12:memory:/x\n', '/proc/self/mountinfo': V1_MOUNTS }))).toBeUndefined();
    expect(cgroupCpuLimit(files({ '/proc/self/cgroup': '0::/x\n', '/proc/self/mountinfo': V2_MOUNT }))).toBeUndefined();
  });

  it('availableCores: the cores Node reports, capped by the quota', () => {
    expect(availableCores(() => undefined)).toBe(availableParallelism());
    expect(availableCores(() => 1)).toBe(1);
    expect(availableCores(() => 100_000)).toBe(availableParallelism());
  });
});

// A real control group where this machine lets the tests make one (root, cgroup v1's cpu
// controller mounted writable, as on the project's CI machines); elsewhere the test says why not.
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
  it('availableCores() is 1', () => {
    const group = `${V1_CPU}/gru-core-test-${process.pid}`;
    mkdirSync(group);
    try {
      writeFileSync(`${group}/cpu.cfs_period_us`, '100000');
      writeFileSync(`${group}/cpu.cfs_quota_us`, '100000');
      const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
      const script = `import(${JSON.stringify(index)}).then((m) => console.log(JSON.stringify({ cores: m.availableCores() })))`;
      // The child joins the group before Node starts, as a container's processes are in theirs.
      const env = { ...process.env };
      delete env.GRU_CPU_THREADS;
      const run = spawnSync('sh', ['-c', `echo $$ > ${group}/cgroup.procs && exec "${process.execPath}" -e '${script}'`], { env, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(JSON.parse(run.stdout)).toEqual({ cores: 1 });
      expect(readFileSync(`${group}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('100000');
    } finally {
      rmdirSync(group);
    }
  });
});
