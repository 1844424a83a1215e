// The package's prepack check (@gru/native-build's src/check-prebuilds.mjs): `pnpm pack`, `pnpm
// publish`, `npm pack` and `npm publish` refuse the package unless prebuilds/ holds a binary of
// the current addon interface for every target scripts/addon.mjs builds. It runs here on copies of
// the package's scripts and sources with the prebuilt binaries (turbo's `prebuilds` task builds
// them first, as in CI) copied in, missing, swapped or made stale.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADDON_ABI } from '../src/loader.js';
import { packageCopy as copyOf, prepack } from '../../../scripts/testing/pack-check.mjs';

const pkg = join(__dirname, '..');
const CI = process.env.CI === 'true';
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
const TARGETS = ['linux-x64', 'linux-arm64', 'win32-x64'];
const prebuilt = (target: string) => join(pkg, 'prebuilds', target, 'gru_cpu.node');
const allBuilt = TARGETS.every((t) => existsSync(prebuilt(t)));
/** Needs every prebuilt binary: skipped with the reason where one is missing, failed in CI. */
const withPrebuilds = allBuilt || CI ? it : it.skip;
const note = allBuilt ? '' : ' (needs every prebuilt binary: pnpm turbo run prebuilds --filter=@gru/cpu, with the cross compilers)';

/** The package as the check sees it: package.json, scripts/addon.mjs, native/ and the given binaries. */
const packageCopy = (binaries: Record<string, string | Uint8Array> = {}) => copyOf(pkg, 'gru_cpu', binaries);

/** A copy of a binary with its interface tag rewritten (a stale build, as far as the check can tell). */
function retagged(path: string, from: string, to: string): Uint8Array {
  const bytes = Buffer.from(readFileSync(path));
  const at = bytes.indexOf(`gru addon interface: gru_cpu ${from}\0`, 0, 'latin1');
  expect(at, `${path} carries the tag 'gru addon interface: gru_cpu ${from}'`).toBeGreaterThanOrEqual(0);
  bytes.write(`gru addon interface: gru_cpu ${to}\0`, at, 'latin1');
  return bytes;
}

describe('the prepack check: no pack without every prebuilt binary', () => {
  it('package.json runs it before a pack or publish', () => {
    expect(manifest.scripts.prepack).toBe('node node_modules/@gru/native-build/src/check-prebuilds.mjs scripts/addon.mjs');
  });

  it('no prebuilt binary at all: refused, naming each missing file and the commands that build them', () => {
    const r = prepack(packageCopy());
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      '@gru/cpu: refusing to pack without the prebuilt binaries it ships (prebuilds/<target>/gru_cpu.node for linux-x64, linux-arm64, win32-x64):',
    );
    for (const t of TARGETS) expect(r.out).toContain(`  - prebuilds/${t}/gru_cpu.node is missing`);
    expect(r.out).toContain(
      '`pnpm turbo run prebuilds --filter=@gru/cpu` at the repository root, or `node scripts/prebuild.mjs linux-x64 linux-arm64 win32-x64` in this package',
    );
    expect(r.out).toMatch(
      /aarch64-linux-gnu-g\+\+ \(Debian: g\+\+-aarch64-linux-gnu\), x86_64-w64-mingw32-g\+\+-posix \(Debian: g\+\+-mingw-w64-x86-64-posix\)/,
    );
  });

  withPrebuilds(`every binary there, of the right format, CPU and interface: passes${note}`, () => {
    const r = prepack(packageCopy(Object.fromEntries(TARGETS.map((t) => [t, prebuilt(t)]))));
    expect(r.out).toContain('gru_cpu: prebuilt binaries for linux-x64, linux-arm64, win32-x64 checked');
    expect(r.status).toBe(0);
  });

  withPrebuilds(`one target missing: refused for that one only${note}`, () => {
    const r = prepack(packageCopy({ 'linux-x64': prebuilt('linux-x64'), 'linux-arm64': prebuilt('linux-arm64') }));
    expect(r.status).toBe(1);
    expect(r.out).toContain('  - prebuilds/win32-x64/gru_cpu.node is missing');
    expect(r.out).not.toMatch(/prebuilds\/linux-(x64|arm64)\/gru_cpu\.node is/);
    expect(r.out).toContain('`node scripts/prebuild.mjs win32-x64`');
  });

  it('GRU_PREBUILDS_ALLOW_MISSING=1 (a local pack on a machine without the cross compilers): absent binaries are a warning', () => {
    const r = prepack(packageCopy(), { GRU_PREBUILDS_ALLOW_MISSING: '1' });
    expect(r.status).toBe(0);
    expect(r.out).toContain('warning (GRU_PREBUILDS_ALLOW_MISSING=1: this tarball is for local use, not a release)');
    expect(r.out).toContain('  - prebuilds/win32-x64/gru_cpu.node is missing');
  });

  it('GRU_PREBUILDS_ALLOW_MISSING=1 never lets a wrong binary through', () => {
    const r = prepack(packageCopy({ 'linux-x64': new TextEncoder().encode('not a binary at all') }), { GRU_PREBUILDS_ALLOW_MISSING: '1' });
    expect(r.status).toBe(1);
    expect(r.out).toContain('prebuilds/linux-x64/gru_cpu.node is not a shared library');
  });

  withPrebuilds(`binaries in each other's places: refused with the format and CPU each one has and needs${note}`, () => {
    const r = prepack(packageCopy({ 'linux-x64': prebuilt('linux-arm64'), 'linux-arm64': prebuilt('win32-x64'), 'win32-x64': prebuilt('linux-x64') }));
    expect(r.status).toBe(1);
    expect(r.out).toContain('  - prebuilds/linux-x64/gru_cpu.node is an ELF file for arm64; linux-x64 needs an ELF file for x64');
    expect(r.out).toContain('  - prebuilds/linux-arm64/gru_cpu.node is a PE file for x64; linux-arm64 needs an ELF file for arm64');
    expect(r.out).toContain('  - prebuilds/win32-x64/gru_cpu.node is an ELF file for x64; win32-x64 needs a PE file for x64');
  });

  withPrebuilds(`a binary of an older addon interface (which the loader refuses): refused${note}`, () => {
    const stale = retagged(prebuilt('linux-arm64'), String(ADDON_ABI), String(ADDON_ABI - 1));
    const r = prepack(packageCopy({ 'linux-x64': prebuilt('linux-x64'), 'linux-arm64': stale, 'win32-x64': prebuilt('win32-x64') }));
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      `  - prebuilds/linux-arm64/gru_cpu.node speaks addon interface ${ADDON_ABI - 1}, this package speaks ${ADDON_ABI} (kAddonAbi in native/addon.cc): its loader would refuse the binary`,
    );
    expect(r.out).toContain('`node scripts/prebuild.mjs linux-arm64`');
  });

  withPrebuilds(`a binary built before binaries carried their interface: refused${note}`, () => {
    const untagged = Buffer.from(readFileSync(prebuilt('win32-x64')));
    const at = untagged.indexOf('gru addon interface: ', 0, 'latin1');
    expect(at).toBeGreaterThanOrEqual(0);
    untagged.write('xxx', at, 'latin1');
    const r = prepack(packageCopy({ 'linux-x64': prebuilt('linux-x64'), 'linux-arm64': prebuilt('linux-arm64'), 'win32-x64': untagged }));
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      `  - prebuilds/win32-x64/gru_cpu.node carries no interface tag (it was built from older sources); this package speaks interface ${ADDON_ABI} (kAddonAbi in native/addon.cc)`,
    );
  });

  it('a file that is no shared library: refused with what the reader found', () => {
    const r = prepack(packageCopy({ 'linux-x64': new TextEncoder().encode('not a binary at all') }));
    expect(r.status).toBe(1);
    expect(r.out).toContain('  - prebuilds/linux-x64/gru_cpu.node is not a shared library: neither an ELF nor a PE file');
  });
});

describe('prebuild --if-compilers', () => {
  it('names the targets it skipped, loudly, and exits 0 (a dev machine builds on)', () => {
    // A PATH with node and nothing else: no compiler of any target.
    const bin = mkdtempSync(join(tmpdir(), 'gru-cpu-nocc-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = spawnSync(process.execPath, [join(pkg, 'scripts', 'prebuild.mjs'), '--if-compilers', 'linux-arm64', 'win32-x64'], {
      cwd: pkg,
      env: { ...process.env, PATH: bin },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(
      'prebuild: WARNING: gru_cpu: SKIPPED linux-arm64, win32-x64: the compilers aarch64-linux-gnu-g++ (Debian: g++-aarch64-linux-gnu), x86_64-w64-mingw32-g++-posix (Debian: g++-mingw-w64-x86-64-posix) are not installed.',
    );
    expect(r.stderr).toContain(
      'prebuild: not built: prebuilds/linux-arm64/gru_cpu.node, prebuilds/win32-x64/gru_cpu.node. The package cannot be packed or published (its prepack check refuses a missing or stale binary) until `node scripts/prebuild.mjs linux-arm64 win32-x64` builds them.',
    );
  });
});
