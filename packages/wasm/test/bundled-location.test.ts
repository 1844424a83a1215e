import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', 'src', 'index.ts');

describe('the default location of gru.wasm where a bundle moved the code', () => {
  it('a CommonJS bundle of the ES module build (no import.meta.url): load() says so and how to give the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gru-wasm-cjs-'));
    const entry = join(dir, 'entry.mjs');
    writeFileSync(
      entry,
      `import { createWasmBackend } from ${JSON.stringify(src)};
createWasmBackend({ name: 'wasm-bundled' }).load().then(() => console.log('loaded'), (err) => console.log(err.message));\n`,
    );
    const out = join(dir, 'bundle.cjs');
    // esbuild leaves import.meta empty in a CommonJS bundle (and warns so).
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'silent', external: ['@gru/core'] });
    const r = spawnSync(process.execPath, [out], { encoding: 'utf8', cwd: join(import.meta.dirname, '..') });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /^the wasm backend could not load gru\.wasm: the default location of gru\.wasm cannot be worked out here \(new URL\('\.\.\/dist\/gru\.wasm', import\.meta\.url\) failed: .*; a CommonJS bundle of the ES module build has no import\.meta\.url\): pass createWasmBackend\(\{ wasmUrl \}\) or wasmBytes\n$/,
    );
  });
});
