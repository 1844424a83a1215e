// The package's prepack check (@gru/native-build's src/check-prebuilds.mjs, as @gru/cpu's; its own
// test/pack-check.test.ts covers every refusal): `pnpm pack` and `pnpm publish` refuse the package
// unless prebuilds/ holds a current binary for each target scripts/addon.mjs builds (linux only).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageCopy as copyOf, prepack } from '../../../scripts/testing/pack-check.mjs';

const pkg = join(__dirname, '..');
const CI = process.env.CI === 'true';
const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
const TARGETS = ['linux-x64', 'linux-arm64'];
const prebuilt = (target: string) => join(pkg, 'prebuilds', target, 'gru_cudnn.node');
const allBuilt = TARGETS.every((t) => existsSync(prebuilt(t)));
const withPrebuilds = allBuilt || CI ? it : it.skip;
const note = allBuilt ? '' : ' (needs every prebuilt binary: pnpm turbo run prebuilds --filter=@gru/cudnn, with the cross compiler)';

/** The package as the check sees it: package.json, scripts/addon.mjs, native/ and the given binaries. */
const packageCopy = (binaries: Record<string, string | Uint8Array> = {}) => copyOf(pkg, 'gru_cudnn', binaries);

describe('the prepack check: no pack without every prebuilt binary', () => {
  it('no prebuilt binary: refused, naming the linux ones (no win32 target) and the commands that build them', () => {
    expect(manifest.scripts.prepack).toBe('node node_modules/@gru/native-build/src/check-prebuilds.mjs scripts/addon.mjs');
    const r = prepack(packageCopy());
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      '@gru/cudnn: refusing to pack without the prebuilt binaries it ships (prebuilds/<target>/gru_cudnn.node for linux-x64, linux-arm64):',
    );
    expect(r.out).toContain('  - prebuilds/linux-x64/gru_cudnn.node is missing\n  - prebuilds/linux-arm64/gru_cudnn.node is missing\n');
    expect(r.out).not.toContain('win32');
    expect(r.out).toContain(
      '`pnpm turbo run prebuilds --filter=@gru/cudnn` at the repository root, or `node scripts/prebuild.mjs linux-x64 linux-arm64` in this package',
    );
  });

  withPrebuilds(`both binaries there and current: passes${note}`, () => {
    const r = prepack(packageCopy({ 'linux-x64': prebuilt('linux-x64'), 'linux-arm64': prebuilt('linux-arm64') }));
    expect(r.out).toContain('gru_cudnn: prebuilt binaries for linux-x64, linux-arm64 checked');
    expect(r.status).toBe(0);
  });

  withPrebuilds(`a binary of another interface: refused${note}`, () => {
    const stale = Buffer.from(readFileSync(prebuilt('linux-x64')));
    const at = stale.indexOf('gru addon interface: gru_cudnn 1\0', 0, 'latin1');
    expect(at).toBeGreaterThanOrEqual(0);
    stale.write('gru addon interface: gru_cudnn 0\0', at, 'latin1');
    const r = prepack(packageCopy({ 'linux-x64': stale, 'linux-arm64': prebuilt('linux-arm64') }));
    expect(r.status).toBe(1);
    expect(r.out).toContain(
      '  - prebuilds/linux-x64/gru_cudnn.node speaks addon interface 0, this package speaks 1 (kInterfaceVersion in native/addon.cc): its loader would refuse the binary',
    );
  });
});
