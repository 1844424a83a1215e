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
});
