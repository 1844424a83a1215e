// The prebuilt binaries that ship in the package (scripts/prebuild.mjs; turbo's `prebuilds` task
// builds them before these tests where the cross compilers are installed, as in CI). Each one's
// format, CPU, exports and needs are read from the file; the linux-x64 one runs the conformance
// suite here, and the linux-arm64 one runs it under qemu-user with an arm64 Node.js: its NEON
// kernels run nowhere else. Where a binary or qemu is missing, the test is skipped with the
// reason, except in CI (CI=true), where that is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBinary } from '@gru/native-build/binary-format';

const pkg = join(__dirname, '..');
const CI = process.env.CI === 'true';
const binary = (target: string) => join(pkg, 'prebuilds', target, 'gru_cpu.node');
const conformanceCli = join(dirname(createRequire(join(pkg, 'package.json')).resolve('@gru/conformance/package.json')), 'bin', 'gru-conformance.mjs');

/** A test that needs `path`: skipped with the reason when it is missing, failed in CI. */
function needs(path: string, _what: string) {
  const missing = !existsSync(path);
  if (missing && CI) return it;
  return missing ? it.skip.bind(it) : it;
}
const missingReason = (target: string) => `prebuilds/${target}/gru_cpu.node is not built here (node scripts/prebuild.mjs ${target}; needs its cross compiler)`;

/** The newest glibc a binary may need: 2.34 (Debian 12, Ubuntu 22.04, RHEL 9). */
const GLIBC_FLOOR = '2.34';
const ENTRY_POINTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];

describe('prebuilt binaries: format, CPU, exports and needs', () => {
  const cases = [
    { target: 'linux-x64', format: 'elf', arch: 'x64', needs: ['libc.so.6', 'libgcc_s.so.1', 'libm.so.6', 'ld-linux-x86-64.so.2'] },
    { target: 'linux-arm64', format: 'elf', arch: 'arm64', needs: ['libc.so.6', 'libgcc_s.so.1', 'libm.so.6', 'ld-linux-aarch64.so.1'] },
    { target: 'win32-x64', format: 'pe', arch: 'x64', needs: ['KERNEL32.dll', 'msvcrt.dll', 'node.exe'] },
  ] as const;
  for (const c of cases) {
    needs(binary(c.target), c.target)(
      `${c.target}: ${c.format}, ${c.arch}, exports only Node-API's entry points, needs only the system's C library${existsSync(binary(c.target)) ? '' : ` (${missingReason(c.target)})`}`,
      () => {
        const facts = readBinary(new Uint8Array(readFileSync(binary(c.target))));
        expect(facts.format).toBe(c.format);
        expect(facts.arch).toBe(c.arch);
        expect([...facts.exports].sort()).toEqual(ENTRY_POINTS);
        // No C++ runtime (it is linked in), nothing beyond what every such system has.
        for (const lib of facts.needs) expect(c.needs as readonly string[]).toContain(lib);
        if (c.format === 'elf') {
          expect(facts.glibc).toBeDefined();
          expect(compare(facts.glibc as string, GLIBC_FLOOR)).toBeLessThanOrEqual(0);
        }
      },
    );
  }
});

function compare(a: string, b: string): number {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  return x[0] - y[0] || x[1] - y[1];
}

/** Runs the conformance CLI on the cpu backend with the given addon; returns its summary. */
function conformance(node: string[], addon: string, env: Record<string, string> = {}) {
  const run = spawnSync(node[0], [...node.slice(1), conformanceCli, '--backend', '@gru/cpu', '--strict'], {
    cwd: pkg,
    encoding: 'utf8',
    env: { ...process.env, GRU_CPU_ADDON: addon, ...env },
    timeout: 540_000,
  });
  return { status: run.status, summary: run.stdout.trim().split('\n').at(-1) ?? '', output: `${run.stdout}\n${run.stderr}`.slice(-3000) };
}

describe('prebuilt binaries run the conformance suite', () => {
  const x64 = binary('linux-x64');
  const hereX64 = process.platform === 'linux' && process.arch === 'x64';
  (hereX64 ? needs(x64, 'linux-x64') : it.skip)(
    `linux-x64, here${hereX64 ? '' : ' (this machine is not linux-x64)'}`,
    () => {
      const r = conformance([process.execPath], x64);
      expect(r.output).toMatch(/\nbackend checks: [1-9]\d* passed;.*; 0 failed, \d+ skipped/);
      expect(r.status).toBe(0);
    },
    600_000,
  );

  const arm64 = binary('linux-arm64');
  const qemu = spawnSync('qemu-aarch64-static', ['--version'], { stdio: 'ignore' }).status === 0;
  const sysroot = join(pkg, '.qemu-arm64', 'root');
  const ready = existsSync(arm64) && qemu && existsSync(join(sysroot, 'usr', 'bin', 'node'));
  const why = !existsSync(arm64)
    ? missingReason('linux-arm64')
    : !qemu
      ? 'qemu-user-static is not installed'
      : 'no arm64 Node.js: run scripts/arm64-sysroot.sh';
  (ready || CI ? it : it.skip)(
    `linux-arm64, under qemu-user with Debian's arm64 Node.js, on the NEON kernels${ready ? '' : ` (${why})`}`,
    () => {
      const node = ['qemu-aarch64-static', '-L', sysroot, join(sysroot, 'usr', 'bin', 'node')];
      const probe = spawnSync(
        node[0],
        [
          ...node.slice(1),
          '--input-type=module',
          '-e',
          "const { backend } = await import('@gru/cpu'); await backend.load(); console.log(process.arch, backend.isa)",
        ],
        {
          cwd: pkg,
          encoding: 'utf8',
          env: { ...process.env, GRU_CPU_ADDON: arm64 },
          timeout: 120_000,
        },
      );
      expect(probe.stdout.trim(), probe.stderr).toBe('arm64 neon');
      const r = conformance(node, arm64);
      expect(r.output).toMatch(/\nbackend checks: [1-9]\d* passed;.*; 0 failed, \d+ skipped/);
      expect(r.status).toBe(0);
    },
    600_000,
  );
});
