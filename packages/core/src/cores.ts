import { nodeModule, nodeProcess } from './environment.js';

/** What this module needs of Node's built-ins, looked up at run time (core also runs in browsers). */
interface NodeBuiltins {
  readFileSync(path: string, encoding: 'utf8'): string;
  availableParallelism?(): number;
  cpus(): unknown[];
}

/**
 * The cores this process may use, for sizing a pool of threads: in Node `os.availableParallelism()`
 * (the CPUs its affinity allows) capped on Linux by the control group's CPU quota (see
 * cgroupCpuLimit); in a browser `navigator.hardwareConcurrency`; else 1. `limit` is for tests.
 */
export function availableCores(limit: () => number | undefined = () => (nodeProcess()?.platform === 'linux' ? cgroupCpuLimit() : undefined)): number {
  const os = nodeModule<Pick<NodeBuiltins, 'availableParallelism' | 'cpus'>>('node:os');
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const visible = os ? (os.availableParallelism?.() ?? os.cpus().length) : (nav?.hardwareConcurrency ?? 1);
  return Math.max(1, Math.min(visible, limit() ?? Number.POSITIVE_INFINITY));
}

/**
 * The CPU time a Linux control group lets this process use, in whole cores: the tightest CFS
 * quota (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`) on the process's group
 * and its ancestors, rounded down and at least 1; undefined where there is none (no limit, not
 * Linux, or nothing readable).
 *
 * Why: a container started with `--cpus=1` on a 64-core host still sees 64 cores, and Node 20's
 * `os.availableParallelism()` (libuv before 1.49) reports 64. A pool of 64 threads meeting at a
 * barrier every recurrence step, on one core's worth of CPU time, spends the quota waiting for
 * threads the kernel has throttled. libuv 1.49 and Rust's `available_parallelism()` read the
 * same files the same way.
 */
export function cgroupCpuLimit(read: (path: string) => string | undefined = readText): number | undefined {
  const membership = read('/proc/self/cgroup');
  if (membership === undefined) return undefined;
  const mounts = read('/proc/self/mountinfo') ?? '';
  let cores: number | undefined;
  for (const line of membership.split('\n')) {
    // "hierarchy-ID:controller-list:path"; the path may itself hold colons.
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    const found =
      controllers === '' && line.slice(0, first) === '0'
        ? v2Limit(read, mountPoint(mounts, 'cgroup2', undefined), path)
        : controllers.split(',').includes('cpu')
          ? v1Limit(read, mountPoint(mounts, 'cgroup', 'cpu'), path)
          : undefined;
    if (found !== undefined) cores = cores === undefined ? found : Math.min(cores, found);
  }
  return cores;
}

function readText(path: string): string | undefined {
  const fs = nodeModule<Pick<NodeBuiltins, 'readFileSync'>>('node:fs');
  if (!fs) return undefined;
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

interface Mount {
  /** The group the mount shows at its top (a container's own group, under a cgroup namespace). */
  root: string;
  point: string;
}

/**
 * Where the hierarchy of `fsType` (v1: the one holding `controller`) is mounted, from
 * /proc/self/mountinfo; the usual place where that file says nothing.
 */
function mountPoint(mounts: string, fsType: 'cgroup' | 'cgroup2', controller: string | undefined): Mount {
  for (const line of mounts.split('\n')) {
    // "id parent major:minor root mount-point options [optional fields] - fstype source super-options"
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const [type, , superOptions = ''] = line.slice(dash + 3).split(' ');
    if (type !== fsType) continue;
    if (controller !== undefined && !superOptions.split(',').includes(controller)) continue;
    const fields = line.slice(0, dash).split(' ');
    if (fields.length < 5) continue;
    return { root: unescapeMount(fields[3]), point: unescapeMount(fields[4]) };
  }
  return { root: '/', point: fsType === 'cgroup2' ? '/sys/fs/cgroup' : '/sys/fs/cgroup/cpu' };
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/**
 * The folders of the group `path` and of each ancestor up to the mount's top, inside the mount.
 * A path outside the mount's root (a namespace that hides the host's tree) is read from the top.
 */
function groupFolders(mount: Mount, path: string): string[] {
  const root = mount.root === '/' ? '' : mount.root.replace(/\/+$/, '');
  let inside = path;
  if (root !== '') inside = path === root || path.startsWith(`${root}/`) ? path.slice(root.length) : '/';
  const parts = inside.split('/').filter((p) => p !== '' && p !== '.' && p !== '..');
  const folders: string[] = [];
  for (let n = parts.length; n >= 0; n--) folders.push([mount.point.replace(/\/+$/, ''), ...parts.slice(0, n)].join('/'));
  return folders;
}

const toCores = (quota: number, period: number) =>
  quota > 0 && period > 0 && Number.isFinite(quota / period) ? Math.max(1, Math.floor(quota / period)) : undefined;

function tightest(values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? Math.min(...known) : undefined;
}

/** cgroup v2: "max 100000" (no limit) or "<quota> <period>" in each group's cpu.max. */
function v2Limit(read: (path: string) => string | undefined, mount: Mount, path: string): number | undefined {
  return tightest(
    groupFolders(mount, path).map((folder) => {
      const [quota, period] = (read(`${folder}/cpu.max`) ?? '').trim().split(/\s+/);
      return quota === undefined || quota === 'max' ? undefined : toCores(Number(quota), Number(period));
    }),
  );
}

/** cgroup v1: cpu.cfs_quota_us (-1: no limit) over cpu.cfs_period_us in each group. */
function v1Limit(read: (path: string) => string | undefined, mount: Mount, path: string): number | undefined {
  return tightest(
    groupFolders(mount, path).map((folder) => {
      const quota = read(`${folder}/cpu.cfs_quota_us`);
      const period = read(`${folder}/cpu.cfs_period_us`);
      return quota === undefined || period === undefined ? undefined : toCores(Number(quota.trim()), Number(period.trim()));
    }),
  );
}
