import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;

/** Runs a root package.json script as npm does (sh -c), with a fake `turbo` first on PATH. */
function runWithFakeTurbo(script: string, buildExit: number) {
  const bin = mkdtempSync(join(tmpdir(), 'gru-fake-turbo-'));
  const log = join(bin, 'calls.log');
  writeFileSync(
    join(bin, 'turbo'),
    `#!/bin/sh\necho "turbo $*" >> ${JSON.stringify(log)}\nif [ "$2" = build ]; then echo "build broke" >&2; exit ${buildExit}; fi\nexit 0\n`,
  );
  chmodSync(join(bin, 'turbo'), 0o755);
  writeFileSync(log, '');
  const r = spawnSync('sh', ['-c', script], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  return { ...r, calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
}

describe('npm test (root _test script)', () => {
  it('a failed build still ends with the summary line, counting the build as a failure, and exits non-zero', () => {
    const r = runWithFakeTurbo(scripts._test, 3);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('0 passed, 1 failed, 0 skipped');
    expect(lines.at(-2)).toBe('build failed (exit 3); no tests were run, see the log above');
    expect(r.status).not.toBe(0);
    expect(r.calls).toEqual(['turbo run build --output-logs=errors-only']); // no test run on a broken build
  });

  it('a failed bootstrap does too', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'count-tests.mjs'), '--failed-step', 'bootstrap', '--step-exit', '7'], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0 passed, 1 failed, 0 skipped');
    expect(r.stdout).toContain('bootstrap failed (exit 7)');
    expect(r.status).toBe(1);
    expect(scripts.test).toMatch(/^bash scripts\/bootstrap\.sh \|\| \{ node scripts\/count-tests\.mjs --failed-step bootstrap --step-exit \$\?; exit 1; \}; /);
  });
});
