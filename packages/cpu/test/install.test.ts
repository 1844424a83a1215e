// The package's install script (scripts/install.mjs) never fails the user's `npm install`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADDON_ABI } from '../src/loader.js';

const pkg = join(__dirname, '..');

/** A copy of the package's install scripts in a fresh folder, as npm unpacks it (no build, no node-gyp). */
function unpacked(prebuilt?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'gru-cpu-install-'));
  mkdirSync(join(dir, 'scripts'));
  for (const f of ['install.mjs', 'build-addon.mjs', 'gyp-config.mjs']) copyFileSync(join(pkg, 'scripts', f), join(dir, 'scripts', f));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@gru/cpu', type: 'module' }));
  // Its dependency, as the package manager installs it before running the install script.
  mkdirSync(join(dir, 'node_modules', '@gru'), { recursive: true });
  symlinkSync(join(pkg, 'node_modules', '@gru', 'native-build'), join(dir, 'node_modules', '@gru', 'native-build'), 'dir');
  if (prebuilt !== undefined) {
    mkdirSync(join(dir, 'prebuilds', `${process.platform}-${process.arch}`), { recursive: true });
    writeFileSync(join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'gru_cpu.node'), prebuilt);
  }
  return dir;
}

/** Runs the install script with no compiler, python or node-gyp reachable (or only the node-gyp given). */
function install(dir: string, nodeGyp?: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: join(dir, 'no-tools-here') };
  delete env.GRU_CPU_ADDON;
  delete env.npm_config_node_gyp;
  delete env.PYTHON;
  delete env.npm_config_python;
  if (nodeGyp) env.npm_config_node_gyp = nodeGyp;
  return spawnSync(process.execPath, [join(dir, 'scripts', 'install.mjs')], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
}

describe('install script', () => {
  it('no prebuilt binary for this platform and no toolchain: succeeds with one clear warning', () => {
    const r = install(unpacked());
    expect(r.status).toBe(0);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^@gru/cpu: no prebuilt binary for ${process.platform}-${process.arch} in this package, and building it from source failed: .*The install goes on without the native backend: gru will use @gru/wasm or its reference backend`,
      ),
    );
  });

  it("node-gyp there but no python: the one warning names node-gyp's reason, not only its exit code", () => {
    // npm passes its own node-gyp to scripts; here the package's dev dependency stands in for it.
    const nodeGyp = join(pkg, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    const r = install(unpacked(), nodeGyp);
    expect(r.status).toBe(0);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('building it from source failed: node-gyp configure failed (exit 1).');
    expect(lines[0]).toContain('The build said: gyp ERR! stack Error: Could not find any Python installation to use.');
  });

  it('a prebuilt binary that does not load here: says why, then falls back the same way', () => {
    const r = install(unpacked('not a shared library'));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`@gru/cpu: the prebuilt binary for ${process.platform}-${process.arch} does not load here \\(.+\\), and building it from source failed: `),
    );
  });

  // A real addon binary, as the build left it (turbo builds it before the tests run).
  const builtAddon = join(pkg, 'build', 'Release', 'gru_cpu.node');

  it('a prebuilt binary of another addon interface: not kept (it would be refused at run time), so the install rebuilds', () => {
    expect(existsSync(builtAddon), `${builtAddon} (the package's own build) is needed here`).toBe(true);
    const dir = unpacked();
    mkdirSync(join(dir, 'prebuilds', `${process.platform}-${process.arch}`), { recursive: true });
    copyFileSync(builtAddon, join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'gru_cpu.node'));
    mkdirSync(join(dir, 'native'));
    writeFileSync(join(dir, 'native', 'addon.cc'), `constexpr int kAddonAbi = ${ADDON_ABI + 1};\n`);
    const stale = install(dir);
    expect(stale.status).toBe(0);
    expect(stale.stderr).toContain(
      `the prebuilt binary for ${process.platform}-${process.arch} does not load here (it is from another version of @gru/cpu: addon interface ${ADDON_ABI}, this package speaks ${ADDON_ABI + 1})`,
    );
    // The same binary with the interface the package speaks is kept: nothing to build, nothing said.
    writeFileSync(join(dir, 'native', 'addon.cc'), `constexpr int kAddonAbi = ${ADDON_ABI};\n`);
    const current = install(dir);
    expect(current.status).toBe(0);
    expect(current.stderr).toBe('');
  });

  it("the native source's kAddonAbi is the interface the loader speaks (install.mjs reads it from there)", () => {
    const source = readFileSync(join(pkg, 'native', 'addon.cc'), 'utf8');
    expect(/constexpr int kAddonAbi = (\d+);/.exec(source)?.[1]).toBe(String(ADDON_ABI));
  });

  it('GRU_CPU_ADDON set: nothing to do', () => {
    const dir = unpacked();
    const r = spawnSync(process.execPath, [join(dir, 'scripts', 'install.mjs')], {
      cwd: dir,
      env: { ...process.env, GRU_CPU_ADDON: '/some/gru_cpu.node' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
});
