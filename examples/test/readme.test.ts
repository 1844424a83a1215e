import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const scratch = join(__dirname, '..', '.readme-examples');

/** Every ```js example in the README runs as written (from this package, so imports resolve). */
describe('README examples run', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThan(5));
  blocks.forEach((code, i) => {
    const title =
      code
        .split('\n')
        .find((l) => l.trim() && !l.startsWith('import'))
        ?.trim() ?? `example ${i}`;
    it(`#${i + 1}: ${title.slice(0, 70)}`, () => {
      mkdirSync(scratch, { recursive: true });
      const file = join(scratch, `example-${i + 1}.mjs`);
      writeFileSync(file, code);
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8', cwd: join(__dirname, '..') });
      expect(r.stderr, r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    });
  });
});

describe('demo', () => {
  it('runs a Keras case on the default backend and prints the backend, the output and the time', () => {
    const r = spawnSync(process.execPath, [join(__dirname, '..', 'demo.mjs'), 'defaults_seq_state'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // The workspace builds the cpu addon, so auto-selection picks it over wasm and the reference,
    // and says why the GPU backends were passed over.
    expect(r.stdout).toMatch(/^backend: cpu \(priority 20\)/m);
    expect(r.stdout).toMatch(/^  skipped cudnn: failed to load: /m);
    expect(r.stdout).toMatch(/^  skipped reference: 'cpu' has a higher priority/m);
    expect(r.stdout).toMatch(/^output: \[3, 9, 7\]/m);
    const diff = Number(/max \|gru - keras\| over all outputs: (\S+)/.exec(r.stdout)?.[1]);
    expect(diff).toBeLessThan(1e-5);
    expect(r.stdout).toMatch(/^time: [\d.]+ ms first call/m);
    // Loading every backend (a GPU probe through Dawn among them) takes seconds on a busy CI machine.
  }, 300_000);
});
