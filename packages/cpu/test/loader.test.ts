import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { GRU, registerBackend, unregisterBackend } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { ADDON_ABI, addonCandidates, bindingProblem, createCpuBackend, explainLoadError, loadAddon } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gru-cpu-loader-'));

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

  it('a missing binary: says so, and how to build it', () => {
    expect(() => loadAddon(join(dir, 'nothing.node'))).toThrow(
      /native addon is missing: .*nothing\.node does not exist\. @gru\/cpu ships prebuilt binaries for linux-x64, linux-arm64 \(glibc 2\.34\+\) and win32-x64; elsewhere .* it is compiled when installed .*npm rebuild @gru\/cpu/,
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
    } finally {
      unregisterBackend('cpu-broken');
    }
  });
});
