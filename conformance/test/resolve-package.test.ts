import Module from 'node:module';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolvePackageFrom } from '../src/resolve-package.js';

describe('resolvePackageFrom', () => {
  it("finds a package whose exports hide package.json (Node refuses '<name>/package.json'), with its import entry", () => {
    const project = realpathSync(mkdtempSync(join(tmpdir(), 'gru-resolve-')));
    const root = join(project, 'node_modules', 'hidden-pkg');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'hidden-pkg', exports: { '.': { import: './index.mjs' } } }));
    writeFileSync(join(root, 'index.mjs'), 'export const x = 1;\n');
    const found = resolvePackageFrom('hidden-pkg', project);
    expect(found.root).toBe(root);
    expect(found.url).toBe(pathToFileURL(join(root, 'index.mjs')).href);
  });

  it('does not take a copy found only on NODE_PATH, which import() never searches (the app could not import it)', () => {
    const global = realpathSync(mkdtempSync(join(tmpdir(), 'gru-nodepath-')));
    mkdirSync(join(global, 'np-only-pkg'));
    writeFileSync(
      join(global, 'np-only-pkg', 'package.json'),
      JSON.stringify({ name: 'np-only-pkg', exports: { '.': './index.mjs', './package.json': './package.json' } }),
    );
    writeFileSync(join(global, 'np-only-pkg', 'index.mjs'), 'export const x = 1;\n');
    const project = realpathSync(mkdtempSync(join(tmpdir(), 'gru-resolve-')));
    const saved = process.env.NODE_PATH;
    const initPaths = (Module as unknown as { _initPaths(): void })._initPaths;
    process.env.NODE_PATH = global;
    initPaths();
    try {
      const found = resolvePackageFrom('np-only-pkg', project);
      expect(found.url).toBeUndefined();
      expect(found.error).toBe(`np-only-pkg is not installed where an import from ${project} finds it (node_modules of that folder or above)`);
      expect(found.looked.at(-1)).toMatch(/was found only through NODE_PATH or Node's global folders, which import\(\) does not search: not used$/);
      // Likewise where its exports hide package.json (found through Node's lookup folders instead).
      mkdirSync(join(global, 'np-hidden-pkg'));
      writeFileSync(join(global, 'np-hidden-pkg', 'package.json'), JSON.stringify({ name: 'np-hidden-pkg', exports: { '.': './index.mjs' } }));
      writeFileSync(join(global, 'np-hidden-pkg', 'index.mjs'), 'export const x = 1;\n');
      const hidden = resolvePackageFrom('np-hidden-pkg', project);
      expect(hidden.url).toBeUndefined();
      expect(hidden.error).toBe(`np-hidden-pkg is not installed where an import from ${project} finds it (node_modules of that folder or above)`);
      // Installed in the project as well: that copy, as import() finds it.
      const local = join(project, 'node_modules', 'np-only-pkg');
      mkdirSync(local, { recursive: true });
      writeFileSync(join(local, 'package.json'), JSON.stringify({ name: 'np-only-pkg', exports: { '.': './index.mjs', './package.json': './package.json' } }));
      writeFileSync(join(local, 'index.mjs'), 'export const x = 2;\n');
      expect(resolvePackageFrom('np-only-pkg', project).root).toBe(local);
    } finally {
      if (saved === undefined) delete process.env.NODE_PATH;
      else process.env.NODE_PATH = saved;
      initPaths();
    }
  });
});
