import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The README's pattern examples (tagger, encoder-decoder, Conv1D + GRU, attention) run against the
 * built package, as smoke/ runs them against the packed one (smoke/ needs a registry; this does
 * not): each block is written to a file with '@gru/keras' pointing at dist/, run with node, and
 * must print the shapes its comments promise.
 */
const here = dirname(fileURLToPath(import.meta.url));
const DIST = join(here, '..', 'dist', 'index.js');
const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
const examples = readme.slice(readme.indexOf('### Examples'), readme.indexOf('Keras 2 files are run with'));
const blocks = [...examples.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const scratch = mkdtempSync(join(tmpdir(), 'gru-keras-readme-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README examples', () => {
  it('has one example per pattern', () => {
    expect(blocks.length).toBe(4);
    expect(existsSync(DIST), `${DIST} is missing: run the build first`).toBe(true);
  });
  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and prints what its comments say`, () => {
      const file = join(scratch, `example-${i}.mjs`);
      writeFileSync(file, code.replace("from '@gru/keras'", `from '${pathToFileURL(DIST).href}'`));
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
      // `console.log(y.shape); // [4, 1]`: node prints the shape as `[ 4, 1 ]`.
      const comments = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
      const promised = comments.flatMap((c) => [...c.matchAll(/\[\d+(?:, \d+)*\]/g)].map((m) => m[0].replace('[', '[ ').replace(']', ' ]')));
      expect(promised.length).toBeGreaterThan(0);
      for (const p of promised) expect(out).toContain(p);
    });
  });
});
