import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runUnderPermission } from '../../../scripts/testing/node-permission.mjs';

// Under Node's permission model, reading a gru.wasm outside --allow-fs-read failed with Node 20's
// bare "Access to this API has been restricted": no flag named (Node 22+ names the flag, not the file).

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

/** load()'s outcome for a backend reading `wasmUrl`, in a Node that may read only the workspace and `allowed`. */
function loadUnder(wasmUrl: string, allowed: string[]): string {
  const workspace = join(pkg, '..', '..');
  const script =
    `const { createWasmBackend } = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))}); ` +
    `const b = createWasmBackend({ name: 'wasm-read', wasmUrl: ${JSON.stringify(wasmUrl)} }); ` +
    "try { await b.load(); console.log('loaded'); } catch (e) { console.log(e.message); }";
  const child = runUnderPermission(script, { allowRead: [workspace, ...allowed], cwd: pkg });
  expect(child.status, child.stderr).toBe(0);
  return child.stdout.trim();
}

describe("gru.wasm under Node's permission model", () => {
  it('a gru.wasm that --allow-fs-read does not cover: names the file and the flag that allows it', () => {
    const folder = mkdtempSync(join(tmpdir(), 'gru-wasm-unreadable-'));
    const file = join(folder, 'gru.wasm');
    copyFileSync(join(pkg, 'dist', 'gru.wasm'), file);
    expect(loadUnder(file, [])).toBe(
      `the wasm backend could not load gru.wasm: ${file} cannot be read: Node's permission model is on and its --allow-fs-read does not cover it; ` +
        `run node with --allow-fs-read=${file} (or its folder: --allow-fs-read=${folder})`,
    );
    expect(loadUnder(file, [folder])).toBe('loaded');
  });
});
