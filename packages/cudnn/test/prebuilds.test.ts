// The prebuilt binaries that ship in the package (scripts/prebuild.mjs through packages/native-build;
// turbo's `prebuilds` task builds them before these tests where the cross compilers are installed,
// as in CI). Each one's format, CPU, exports and needs are read from the file; the linux-x64 one
// runs the fake-GPU suite here (test/native-fake-gpu.test.ts: every native GPU path), and the
// linux-arm64 one loads and converts under qemu-user with an arm64 Node.js. Where a binary or qemu
// is missing, the test is skipped with the reason, except in CI (CI=true), where that fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readBinary } from '@gru/native-build/binary-format';
import { describe, expect, it } from 'vitest';

const pkg = join(__dirname, '..');
const CI = process.env.CI === 'true';
const binary = (target: string) => join(pkg, 'prebuilds', target, 'gru_cudnn.node');
const missingReason = (target: string) =>
  `prebuilds/${target}/gru_cudnn.node is not built here (node scripts/prebuild.mjs ${target}; needs its cross compiler)`;
/** A test that needs the binary: skipped with the reason when it is missing, failed in CI. */
const needs = (target: string) => (existsSync(binary(target)) || CI ? it : it.skip);
const note = (target: string) => (existsSync(binary(target)) ? '' : ` (${missingReason(target)})`);

/** The newest glibc a binary may need: 2.34 (Debian 12, Ubuntu 22.04, RHEL 9), as @gru/cpu's. */
const GLIBC_FLOOR = [2, 34];
const ENTRY_POINTS = ['napi_register_module_v1', 'node_api_module_get_api_version_v1'];

describe('prebuilt binaries: format, CPU, exports and needs', () => {
  const cases = [
    { target: 'linux-x64', arch: 'x64', needs: ['libc.so.6', 'libgcc_s.so.1', 'libm.so.6', 'libdl.so.2', 'ld-linux-x86-64.so.2'] },
    { target: 'linux-arm64', arch: 'arm64', needs: ['libc.so.6', 'libgcc_s.so.1', 'libm.so.6', 'libdl.so.2', 'ld-linux-aarch64.so.1'] },
  ];
  for (const c of cases) {
    needs(c.target)(`${c.target}: ELF, ${c.arch}, exports only Node-API's entry points, needs no CUDA and only the system's C library${note(c.target)}`, () => {
      const facts = readBinary(new Uint8Array(readFileSync(binary(c.target))));
      expect(facts.format).toBe('elf');
      expect(facts.arch).toBe(c.arch);
      expect([...facts.exports].sort()).toEqual(ENTRY_POINTS);
      // The driver and cuDNN are opened at run time (dlopen), never linked: the binary loads on a
      // machine without them and says what is missing.
      for (const lib of facts.needs) expect(c.needs).toContain(lib);
      const [major, minor] = (facts.glibc ?? '0.0').split('.').map(Number);
      expect(major * 1000 + minor).toBeLessThanOrEqual(GLIBC_FLOOR[0] * 1000 + GLIBC_FLOOR[1]);
    });
  }
});

describe('prebuilt binaries run', () => {
  const hereX64 = process.platform === 'linux' && process.arch === 'x64';
  (hereX64 ? needs('linux-x64') : it.skip)(
    `linux-x64, here: the fake-GPU suite passes with it${hereX64 ? note('linux-x64') : ' (this machine is not linux-x64)'}`,
    () => {
      const vitest = join(dirname(createRequire(join(pkg, 'package.json')).resolve('vitest/package.json')), 'vitest.mjs');
      const report = join(mkdtempSync(join(tmpdir(), 'gru-cudnn-prebuilt-')), 'report.json');
      const run = spawnSync(process.execPath, [vitest, 'run', 'test/native-fake-gpu.test.ts', '--reporter=json', `--outputFile=${report}`], {
        cwd: pkg,
        encoding: 'utf8',
        env: { ...process.env, GRU_CUDNN_ADDON: binary('linux-x64') },
        timeout: 540_000,
      });
      expect(existsSync(report), `${run.stdout}\n${run.stderr}`.slice(-3000)).toBe(true);
      const r = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number };
      expect(r.numFailedTests).toBe(0);
      expect(r.numPassedTests).toBeGreaterThan(0);
      expect(run.status).toBe(0);
    },
    600_000,
  );

  // The arm64 Node.js that @gru/cpu's prebuild test unpacks (packages/cpu/scripts/arm64-sysroot.sh, run by CI's system set-up).
  const sysroot = join(pkg, '..', 'cpu', '.qemu-arm64', 'root');
  const qemu = spawnSync('qemu-aarch64-static', ['--version'], { stdio: 'ignore' }).status === 0;
  const ready = existsSync(binary('linux-arm64')) && qemu && existsSync(join(sysroot, 'usr', 'bin', 'node'));
  const why = !existsSync(binary('linux-arm64'))
    ? missingReason('linux-arm64')
    : !qemu
      ? 'qemu-user-static is not installed'
      : 'no arm64 Node.js: run packages/cpu/scripts/arm64-sysroot.sh';
  (ready || CI ? it : it.skip)(
    `linux-arm64, under qemu-user with Debian's arm64 Node.js: loads, checks arguments, converts to half${ready ? '' : ` (${why})`}`,
    () => {
      const script = [
        `const a = require(${JSON.stringify(binary('linux-arm64'))});`,
        'let refused = "";',
        'try { a.validateLayerDims({}); } catch (e) { refused = e.constructor.name; }',
        'console.log(JSON.stringify({ arch: process.arch, version: a.interfaceVersion, half: Array.from(a.halfRoundTrip(new Float32Array([1 / 3, 65504, 1e-8]))), refused }));',
      ].join('\n');
      const run = spawnSync('qemu-aarch64-static', ['-L', sysroot, join(sysroot, 'usr', 'bin', 'node'), '-e', script], { encoding: 'utf8', timeout: 300_000 });
      expect(run.status, run.stderr).toBe(0);
      const got = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}');
      // 1/3 rounds to the nearest half (0.333251953125), 65504 is half's largest, 1e-8 underflows to 0.
      expect(got).toEqual({ arch: 'arm64', version: 1, half: [0.333251953125, 65504, 0], refused: 'TypeError' });
    },
    300_000,
  );
});
