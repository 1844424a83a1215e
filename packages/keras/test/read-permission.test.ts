import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runUnderPermission } from '../../../scripts/testing/node-permission.mjs';

// Under Node's permission model, loadModel(path) on a file outside --allow-fs-read failed with
// "Cannot open <path>: Access to this API has been restricted" on Node 20: no flag named.

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(pkg, 'test', 'fixtures');

/** loadModel(path)'s outcome in a Node that may read only the workspace and `allowed`. */
function loadUnder(path: string, allowed: string[]): string {
  const workspace = join(pkg, '..', '..');
  const script =
    `const { loadModel } = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))}); ` +
    `try { await loadModel(${JSON.stringify(path)}); console.log('loaded'); } catch (e) { console.log(e.message); }`;
  const child = runUnderPermission(script, { allowRead: [workspace, ...allowed], cwd: pkg });
  expect(child.status, child.stderr).toBe(0);
  return child.stdout.trim();
}

const refusal = (file: string, folder: string) =>
  `${file} cannot be read: Node's permission model is on and its --allow-fs-read does not cover it; run node with --allow-fs-read=${file} (or its folder: --allow-fs-read=${folder}).`;

describe("loadModel(path) under Node's permission model", () => {
  it('a .keras file that --allow-fs-read does not cover: names the file and the flag that allows it', () => {
    const folder = mkdtempSync(join(tmpdir(), 'gru-keras-unreadable-'));
    const file = join(folder, 'model.keras');
    cpSync(join(FIXTURES, 'k3_embed_stack.keras'), file);
    expect(loadUnder(file, [])).toBe(refusal(file, folder));
    expect(loadUnder(file, [folder])).toBe('loaded');
  });

  it("a model.json whose shards' folder --allow-fs-read does not cover: names that folder and the flag", () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'gru-keras-shards-')), 'tfjs');
    cpSync(join(FIXTURES, 'tfjs_embed_bidir'), folder, { recursive: true });
    const model = join(folder, 'model.json');
    expect(loadUnder(model, [model])).toBe(`Cannot open the folder of ${model}: ${refusal(folder, dirname(folder))}`);
    expect(loadUnder(model, [folder])).toBe('loaded');
  });
});
