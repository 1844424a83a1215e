import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The package must bundle for browsers: Node built-ins are only reached through the one hidden
 * dynamic import in io/source.ts (used when a path is read), never imported statically.
 */
const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('browser bundling', () => {
  it('no source file imports a Node built-in statically or reads process.* outside the Node check', () => {
    const offenders: string[] = [];
    for (const file of files(src)) {
      const text = readFileSync(file, 'utf8');
      if (/^\s*import\s[^;]*from\s+['"](node:|fs|path|url|http|os)['"/]/m.test(text)) offenders.push(`${file}: static Node import`);
      if (/require\(/.test(text)) offenders.push(`${file}: require()`);
    }
    expect(offenders).toEqual([]);
  });
});
