import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The README's `import wasmUrl from '@gru/wasm/gru.wasm'` (esbuild's file loader) gave
// TypeScript users TS2307: the .wasm subpaths had no types. The fixture imports the package by
// its own name, which resolves through package.json's exports as an installed copy does.

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixture = join(pkg, 'test', 'fixtures', 'wasm-url-types');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe("types of the .wasm subpaths ('@gru/wasm/gru.wasm')", () => {
  for (const resolution of ['bundler', 'nodenext']) {
    it(`tsc --strict, moduleResolution ${resolution}: the import is a string`, () => {
      const r = spawnSync(process.execPath, [tsc, '-p', join(fixture, `tsconfig.${resolution}.json`)], { cwd: pkg, encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it('every .wasm subpath names the declaration, and the package ships it', () => {
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; files: string[] };
    const wasm = Object.entries(manifest.exports).filter(([k]) => k.endsWith('.wasm'));
    expect(wasm.map(([k]) => k).sort()).toEqual(['./gru-relaxed.wasm', './gru-threads-relaxed.wasm', './gru-threads.wasm', './gru.wasm']);
    for (const [key, target] of wasm) {
      expect(target, key).toEqual({ types: './wasm-url.d.ts', default: `./dist${key.slice(1)}` });
    }
    expect(manifest.files).toContain('wasm-url.d.ts');
    expect(readFileSync(join(pkg, 'wasm-url.d.ts'), 'utf8')).toContain('export default url;');
  });
});
