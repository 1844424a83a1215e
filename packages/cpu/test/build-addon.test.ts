import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, without type declarations
import { needsConfigure } from '../scripts/gyp-config.mjs';

// node-gyp's makefiles list the sources: a build after a source was added to native/sources.json
// must configure again, or the link misses the new file (it did: "undefined symbol" at load).
describe('build-addon: when node-gyp configures', () => {
  const pkg = mkdtempSync(join(tmpdir(), 'gru-gyp-'));
  afterAll(() => rmSync(pkg, { recursive: true, force: true }));
  const touch = (rel: string, seconds: number) => {
    const p = join(pkg, rel);
    writeFileSync(p, '');
    utimesSync(p, seconds, seconds);
  };
  mkdirSync(join(pkg, 'build'));
  mkdirSync(join(pkg, 'native'));

  it('configures a fresh tree, and again only when the source list or binding.gyp is newer than the makefiles', () => {
    touch('native/sources.json', 1000);
    touch('binding.gyp', 1000);
    expect(needsConfigure(pkg)).toBe(true);
    touch('build/config.gypi', 2000);
    touch('build/Makefile', 2000);
    expect(needsConfigure(pkg)).toBe(false);
    touch('native/sources.json', 3000);
    expect(needsConfigure(pkg)).toBe(true);
    touch('build/config.gypi', 4000);
    touch('build/Makefile', 4000);
    expect(needsConfigure(pkg)).toBe(false);
    touch('binding.gyp', 5000);
    expect(needsConfigure(pkg)).toBe(true);
  });
});
