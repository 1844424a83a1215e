import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describeChoice, GRU, registerBackend, unregisterBackend } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { ADDON_ABI, addonCandidates, bindingProblem, createCpuBackend, explainLoadError, loadAddon } from '../src/index.js';
import { PREBUILT_PLATFORMS } from '../src/loader.js';
import { requirePermissionFlag } from '../../../scripts/testing/node-permission.mjs';

const dir = mkdtempSync(join(tmpdir(), 'gru-cpu-loader-'));

/** The message of what `fn` throws. */
function catchError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected a throw');
}

describe('the addon loader', () => {
  it('looks for a build from source on this machine first, then the prebuilt binary for this platform', () => {
    const explicit = process.env.GRU_CPU_ADDON;
    delete process.env.GRU_CPU_ADDON;
    const [built, prebuilt] = addonCandidates();
    if (explicit !== undefined) process.env.GRU_CPU_ADDON = explicit;
    expect(prebuilt).toMatch(new RegExp(`prebuilds[/\\\\]${process.platform}-${process.arch}[/\\\\]gru_cpu\\.node$`));
    expect(built).toMatch(/build[/\\]Release[/\\]gru_cpu\.node$/);
    expect(addonCandidates('/some/where.node')).toEqual(['/some/where.node']);
    expect(loadAddon().binding.abi).toBe(ADDON_ABI);
  });

  it('a missing binary at the addonPath option: says the path came from there, with no hint about prebuilt binaries', () => {
    const err = catchError(() => loadAddon(join(dir, 'nothing.node')));
    expect(err).toMatch(/native addon is missing: .*nothing\.node does not exist\. The path came from the addonPath option: point it at a gru_cpu\.node/);
    expect(err).not.toMatch(/prebuil|elsewhere/);
  });

  it('a missing binary at GRU_CPU_ADDON: says the path came from GRU_CPU_ADDON', () => {
    const before = process.env.GRU_CPU_ADDON;
    process.env.GRU_CPU_ADDON = join(dir, 'nope.node');
    try {
      const err = catchError(() => loadAddon());
      expect(err).toMatch(/nope\.node does not exist\. The path came from GRU_CPU_ADDON: point it at a gru_cpu\.node, or leave it unset/);
      expect(err).not.toMatch(/prebuil|elsewhere/);
    } finally {
      if (before === undefined) delete process.env.GRU_CPU_ADDON;
      else process.env.GRU_CPU_ADDON = before;
    }
  });

  it('the platforms the loader calls prebuilt are the ones scripts/addon.mjs builds (and the prepack check requires)', () => {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "const { cpuAddon } = await import('./scripts/addon.mjs'); console.log(JSON.stringify(cpuAddon.targets))"],
      {
        cwd: join(__dirname, '..'),
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(PREBUILT_PLATFORMS);
  });

  // The built package (dist/, as turbo's build leaves it) copied without any binary, as a tarball
  // packed without its prebuilds/ unpacks; its dependencies are the workspace's.
  const bare = () => {
    const root = mkdtempSync(join(tmpdir(), 'gru-cpu-bare-'));
    cpSync(join(__dirname, '..', 'dist'), join(root, 'dist'), { recursive: true });
    cpSync(join(__dirname, '..', 'package.json'), join(root, 'package.json'));
    symlinkSync(join(__dirname, '..', 'node_modules'), join(root, 'node_modules'), 'dir');
    return root;
  };
  const loadIn = (root: string, node: string[] = [], addon?: string) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.GRU_CPU_ADDON;
    if (addon !== undefined) env.GRU_CPU_ADDON = addon;
    const r = spawnSync(
      process.execPath,
      [
        ...node,
        '--input-type=module',
        '-e',
        `const { loadAddon } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))}); try { console.log('loaded ' + loadAddon().path); } catch (e) { console.log(e.message); }`,
      ],
      { cwd: root, env, encoding: 'utf8' },
    );
    return r.stdout.trim();
  };
  const here = `${process.platform}-${process.arch}`;

  (PREBUILT_PLATFORMS.includes(here) ? it : it.skip)(
    `the package's own binary missing on ${here}, a platform with a prebuilt binary: says the package should contain it and to reinstall`,
    () => {
      const message = loadIn(bare());
      expect(message).toMatch(
        new RegExp(
          `native addon is missing: .*build[/\\\\]Release[/\\\\]gru_cpu\\.node does not exist; .*prebuilds[/\\\\]${here}[/\\\\]gru_cpu\\.node does not exist\\. This package should contain prebuilds/${here}/gru_cpu\\.node: reinstall @gru/cpu \\(or run \`npm rebuild @gru/cpu\` with a compiler\\)$`,
        ),
      );
      expect(message).not.toMatch(/elsewhere/);
    },
  );

  it("under Node's permission model: suggests --allow-addons, in one sentence (no '..' or '.;')", () => {
    const root = bare();
    // Both candidates present and both refused: two reasons, joined.
    for (const folder of [join(root, 'build', 'Release'), join(root, 'prebuilds', here)]) {
      mkdirSync(folder, { recursive: true });
      cpSync(loadAddon().path, join(folder, 'gru_cpu.node'));
    }
    const message = loadIn(root, [requirePermissionFlag(), '--allow-fs-read=*', '--no-warnings']);
    expect(message).toMatch(
      /native addon is unusable: .*gru_cpu\.node could not be loaded: Node\.js's permission model forbids native addons \(.*\); run node with --allow-addons to use the cpu backend; .*\); run node with --allow-addons to use the cpu backend$/,
    );
    expect(message).not.toMatch(/\.\.|\.;/);
  });

  /** Node's permission model with addons allowed, reading only the bare package (less build/) and the workspace it runs from. */
  const readOnly = (root: string) => {
    const workspace = join(__dirname, '..', '..', '..');
    const allowed = [join(root, 'dist'), join(root, 'package.json'), join(root, 'node_modules'), join(root, 'prebuilds'), workspace];
    return [requirePermissionFlag(), ...allowed.map((p) => `--allow-fs-read=${p}`), '--allow-addons', '--no-warnings'];
  };
  const withBothBinaries = () => {
    const root = bare();
    for (const folder of [join(root, 'build', 'Release'), join(root, 'prebuilds', here)]) {
      mkdirSync(folder, { recursive: true });
      cpSync(loadAddon().path, join(folder, 'gru_cpu.node'));
    }
    return root;
  };

  it("a build/ that Node's permission model may not read is passed over: the prebuilt binary, which it may, loads", () => {
    const root = withBothBinaries();
    expect(loadIn(root, readOnly(root))).toBe(`loaded ${join(root, 'prebuilds', here, 'gru_cpu.node')}`);
  });

  it("a GRU_CPU_ADDON that Node's permission model may not read: names the file and the --allow-fs-read that allows it", () => {
    const root = withBothBinaries();
    const elsewhere = mkdtempSync(join(tmpdir(), 'gru-cpu-unreadable-'));
    const addon = join(elsewhere, 'gru_cpu.node');
    cpSync(loadAddon().path, addon);
    const message = loadIn(root, readOnly(root), addon);
    expect(message).toBe(
      `the cpu backend's native addon is unusable: ${addon} cannot be read: Node's permission model is on and its --allow-fs-read does not cover it; ` +
        `run node with --allow-fs-read=${addon} (or its folder: --allow-fs-read=${elsewhere}). The path came from GRU_CPU_ADDON`,
    );
    // Allowed, the same file loads.
    expect(loadIn(root, [...readOnly(root), `--allow-fs-read=${elsewhere}`], addon)).toBe(`loaded ${addon}`);
  });

  it("explains a load refused by Node's permission model with the flag that allows it", () => {
    const refused = Object.assign(new Error('Cannot load native addon because loading addons is disabled.'), { code: 'ERR_DLOPEN_DISABLED' });
    expect(explainLoadError('/x/gru_cpu.node', refused)).toBe(
      "/x/gru_cpu.node could not be loaded: Node.js's permission model forbids native addons (Cannot load native addon because loading addons is disabled); run node with --allow-addons to use the cpu backend",
    );
  });

  it('a binary for another platform: names that cause', () => {
    const file = join(dir, 'not-elf.node');
    writeFileSync(file, 'this is not a shared library, just text of some length '.repeat(20));
    expect(() => loadAddon(file)).toThrow(/not-elf\.node was built for another platform or CPU architecture \(this is linux-x64\)|could not be loaded/);
  });

  it('a binary from another version of the package: names the interface versions', () => {
    expect(bindingProblem('/x/old.node', { abi: 0, Layer: (() => {}) as never })).toMatch(
      new RegExp(`old\\.node is from another version of @gru/cpu \\(addon interface 0, this package speaks ${ADDON_ABI}\\); rebuild it: npm rebuild @gru/cpu`),
    );
    expect(bindingProblem('/x/odd.node', undefined)).toMatch(/addon interface undefined/);
    expect(bindingProblem('/x/gru_cpu.node', loadAddon().binding)).toBeUndefined();
  });

  it("a folder named *.node is refused, never loaded through its index.js; a relative path is the working directory's", () => {
    const flag = `__gruFolderRan${process.pid}`;
    const folder = join(dir, 'folder.node');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'index.js'), `globalThis.${flag} = true; module.exports = { abi: ${ADDON_ABI}, Layer: function () {} };`);
    expect(() => loadAddon(folder)).toThrow(/folder\.node is not a file/);
    expect((globalThis as Record<string, unknown>)[flag]).toBeUndefined();
    const built = loadAddon().path;
    expect(addonCandidates(relative(process.cwd(), built))).toEqual([built]);
    expect(loadAddon(relative(process.cwd(), built)).path).toBe(built);
  });

  it('a path that is not a .node file is refused, never run as JavaScript (require() picks its loader by extension)', () => {
    const flag = `__gruLoaderRan${process.pid}`;
    for (const name of ['addon.cjs', 'addon.js', 'gru_cpu.so', 'gru_cpu']) {
      const file = join(dir, name);
      writeFileSync(file, `globalThis.${flag} = true; module.exports = { abi: ${ADDON_ABI}, Layer: function () {} };`);
      expect(() => loadAddon(file)).toThrow(new RegExp(`${name.replace('.', '\\.')} is not a \\.node file \\(the addon path must end in \\.node`));
      expect((globalThis as Record<string, unknown>)[flag]).toBeUndefined();
    }
  });

  it('explains dlopen messages by cause', () => {
    const p = '/x/gru_cpu.node';
    expect(
      explainLoadError(
        p,
        new Error(
          "The module '/x/gru_cpu.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 108. This version of Node.js requires NODE_MODULE_VERSION 115.",
        ),
      ),
    ).toMatch(/was built for another Node\.js ABI .*NODE_MODULE_VERSION 108.*rebuild it for this Node\.js/);
    expect(explainLoadError(p, new Error('/x/gru_cpu.node: wrong ELF class: ELFCLASS32'))).toMatch(/another platform or CPU architecture/);
    expect(explainLoadError(p, new Error('/x/gru_cpu.node: undefined symbol: napi_create_buffer_from_arraybuffer'))).toMatch(
      /needs a newer Node-API than this Node\.js/,
    );
    expect(explainLoadError(p, new Error("/lib/libstdc++.so.6: version `GLIBCXX_3.4.32' not found"))).toMatch(/newer C or C\+\+ runtime library/);
    expect(explainLoadError(p, new Error('something else'))).toBe('/x/gru_cpu.node could not be loaded: something else');
  });

  it('a backend whose addon cannot load rejects load() with the cause, and selection falls back', async () => {
    const broken = createCpuBackend({ name: 'cpu-broken', priority: 1000, addonPath: join(dir, 'missing.node') });
    await expect(broken.load()).rejects.toThrow(/missing\.node does not exist/);
    expect(broken.isLoaded()).toBe(false);
    registerBackend(broken);
    try {
      const layer = new GRU({ units: 3 });
      const r = await layer.forward({ shape: [1, 2, 4], data: new Float32Array(8).fill(0.5) });
      expect(r.backend).not.toBe('cpu-broken');
      expect(r.skipped.find((s) => s.name === 'cpu-broken')?.reason).toMatch(/failed to load: .*missing\.node does not exist/);
      // @gru/core joins the reasons with '; ': the cpu reason brings no period of its own.
      expect(describeChoice(layer.lastChoice)).toMatch(/cpu-broken: failed to load: .*or leave it unset to use the package's own binary; /);
      expect(describeChoice(layer.lastChoice)).not.toMatch(/\.;|\.\./);
    } finally {
      unregisterBackend('cpu-broken');
    }
  });
});
