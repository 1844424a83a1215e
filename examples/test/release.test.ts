// A release dry run: every public package packed as `pnpm publish` would pack it, and each tarball
// checked for what a user's install needs, so a broken tarball fails CI rather than a user.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const PUBLIC = ['@gru/core', '@gru/cpu', '@gru/wasm', '@gru/webgpu', '@gru/cudnn', '@gru/keras', '@gru/conformance', '@gru/native-build'];
/** Public packages that are no backend or layer code, so have no peer @gru/core: the addons' shared build. */
const NOT_ON_CORE = new Set(['@gru/core', '@gru/native-build']);
const PNPM = join(root, '.tools', 'bin', 'pnpm');

interface Tarball {
  files: Set<string>;
  manifest: Record<string, any>;
}
const tarballs = new Map<string, Tarball>();

function tar(args: string[]): string {
  const r = spawnSync('tar', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tar ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  const out = mkdtempSync(join(tmpdir(), 'gru-release-'));
  const filters = PUBLIC.flatMap((name) => ['--filter', name]);
  const r = spawnSync(PNPM, ['-r', ...filters, 'pack', '--pack-destination', out], { cwd: root, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`pnpm pack failed (${r.status}): ${r.stderr}${r.stdout}`);
  for (const file of readdirSync(out).filter((f) => f.endsWith('.tgz'))) {
    const path = join(out, file);
    const manifest = JSON.parse(tar(['-xzOf', path, 'package/package.json']));
    const files = new Set(
      tar(['-tzf', path])
        .split('\n')
        .filter(Boolean)
        .map((f) => f.replace(/^package\//, '')),
    );
    tarballs.set(manifest.name, { files, manifest });
  }
}, 300_000);

/** Every concrete file path an exports/main/types field points to. */
function entryPoints(m: Record<string, any>): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      if (v.startsWith('./') && !v.includes('*')) out.push(v.slice(2));
    } else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk([m.main, m.module, m.types, m.exports, m.bin]);
  return out;
}

/** `range` (^x.y.z, as workspace:^ becomes) admits `version`, with npm's caret rules for 0.x. */
function caretAdmits(range: string, version: string): boolean {
  const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (!m) return false;
  const [a, b, c] = m.slice(1).map(Number);
  const [x, y, z] = version.split('.').map(Number);
  if (a > 0) return x === a && (y > b || (y === b && z >= c));
  if (b > 0) return x === 0 && y === b && z >= c;
  return x === 0 && y === 0 && z === c;
}

describe('release dry run: every public package packs into a tarball a user can install', () => {
  it('packs every public package', () => expect([...tarballs.keys()].sort()).toEqual([...PUBLIC].sort()));

  for (const name of PUBLIC) {
    describe(name, () => {
      it('has a released version, a license file, a README, engines and no workspace: ranges', () => {
        const t = tarballs.get(name) as Tarball;
        expect(t.manifest.version).not.toBe('0.0.0');
        expect(t.manifest.license).toBe('Apache-2.0');
        expect(t.manifest.engines?.node).toBe('>=20.19');
        for (const f of ['LICENSE', 'README.md', 'package.json']) expect(t.files.has(f), `${name} lacks ${f}`).toBe(true);
        expect(JSON.stringify(t.manifest)).not.toContain('workspace:');
      });

      it('ships every file its exports, main, types and bin name', () => {
        const t = tarballs.get(name) as Tarball;
        const missing = entryPoints(t.manifest).filter((f) => !t.files.has(f));
        expect(missing).toEqual([]);
      });

      it('depends on @gru/core as a peer, at a range the released core satisfies; other @gru ranges too', () => {
        const t = tarballs.get(name) as Tarball;
        if (!NOT_ON_CORE.has(name)) {
          expect(t.manifest.peerDependencies?.['@gru/core']).toBeDefined();
          expect(t.manifest.dependencies?.['@gru/core']).toBeUndefined();
        }
        for (const field of ['dependencies', 'peerDependencies']) {
          for (const [dep, range] of Object.entries((t.manifest[field] ?? {}) as Record<string, string>)) {
            if (!dep.startsWith('@gru/')) continue;
            const released = tarballs.get(dep)?.manifest.version as string;
            expect(caretAdmits(range, released), `${name} ${field} ${dep}@${range} must admit ${dep}@${released}`).toBe(true);
          }
        }
      });
    });
  }

  it('@gru/cpu ships its prebuilt binaries and its sources for other platforms, not its native tests', () => {
    const t = tarballs.get('@gru/cpu') as Tarball;
    for (const target of ['linux-x64', 'linux-arm64', 'win32-x64']) {
      const has = t.files.has(`prebuilds/${target}/gru_cpu.node`);
      // Built by turbo's @gru/cpu#prebuilds where the cross compilers are (CI installs them).
      if (process.env.CI === 'true') expect(has, `prebuilds/${target}`).toBe(true);
    }
    for (const f of ['binding.gyp', 'native/sources.json', 'scripts/install.mjs', 'scripts/build-addon.mjs']) expect(t.files.has(f), f).toBe(true);
    expect([...t.files].filter((f) => f.startsWith('native/test/'))).toEqual([]);
    expect(t.manifest.scripts.install).toBe('node scripts/install.mjs');
  });

  it('@gru/cudnn ships its prebuilt Linux binaries and its sources', () => {
    const t = tarballs.get('@gru/cudnn') as Tarball;
    for (const target of ['linux-x64', 'linux-arm64']) {
      // Built by turbo's @gru/cudnn#prebuilds where the cross compilers are (CI installs them).
      if (process.env.CI === 'true') expect(t.files.has(`prebuilds/${target}/gru_cudnn.node`), `prebuilds/${target}`).toBe(true);
    }
    for (const f of ['binding.gyp', 'native/sources.json', 'scripts/build-addon.mjs']) expect(t.files.has(f), f).toBe(true);
  });

  it('@gru/cpu and @gru/cudnn depend on @gru/native-build, which ships the headers their sources include', () => {
    const shared = tarballs.get('@gru/native-build') as Tarball;
    expect(shared.files.has('native/include/gru_napi/describe.h')).toBe(true);
    expect(shared.files.has('include.cjs')).toBe(true);
    for (const addon of ['@gru/cpu', '@gru/cudnn']) {
      const t = tarballs.get(addon) as Tarball;
      // A build from source (no prebuilt binary for the platform) runs at the user's install.
      expect(t.manifest.dependencies?.['@gru/native-build'], addon).toBeDefined();
    }
  });

  it('@gru/conformance ships its cases and expectations, reachable through exports', () => {
    const t = tarballs.get('@gru/conformance') as Tarball;
    expect([...t.files].filter((f) => f.startsWith('cases/')).length).toBeGreaterThan(50);
    expect(t.manifest.exports['./cases/*']).toBe('./cases/*');
    expect(t.manifest.exports['./expectations/*']).toBe('./expectations/*');
  });
});
