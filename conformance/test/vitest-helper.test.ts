import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../src/runner.js';
import { referenceBackend } from '@gru/core';

const here = __dirname;

/** Runs the helper's fixture spec in a vitest of its own, as a backend package's test would. */
function runSpec(situation: string) {
  const r = spawnSync(
    process.execPath,
    [
      join(here, '..', 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--reporter=verbose',
      '--config',
      join(here, 'fixtures', 'vitest-helper', 'vitest.config.ts'),
    ],
    {
      encoding: 'utf8',
      cwd: join(here, 'fixtures', 'vitest-helper'),
      env: { ...process.env, GRU_HELPER_CASE: situation, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
    },
  );
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('describeConformance (the vitest helper) under strict', () => {
  it('passes a run whose expectations list only checks of the run', () => {
    const r = runSpec('clean');
    expect(r.out).toMatch(/strict: every expectations entry names a check of this run/);
    expect(r.status, r.out).toBe(0);
  });

  it('takes an entry naming a check this run turned off (contractChecks: false) but a full run has: not stale', () => {
    const r = runSpec('contract-off');
    expect(r.out).not.toMatch(/no check of this run/);
    expect(r.status, r.out).toBe(0);
  });

  it('fails on an expectations entry that names no check, naming it (as the CLI --strict does)', () => {
    const r = runSpec('stale');
    expect(r.out).toMatch(/'unsupported' lists 'backwards_seqq', which is no check of this run/);
    expect(r.status).toBe(1);
  });

  it('fails a run whose selected checks are all core-only, saying so', () => {
    const r = runSpec('only-core');
    expect(r.out).toMatch(/no backend case ran on 'declining' \(the checks selected \(--only\) are all core-only\)/);
    expect(r.status).toBe(1);
  });
});

describe('expectations given as an object in code', () => {
  it('are checked as a file is: a bad pattern is named before any check runs', async () => {
    await expect(runConformance(referenceBackend, { only: ['defaults_last'], expectations: { unsupported: [{ reason: 'x', match: '(' }] } })).rejects.toThrow(
      /^Expectations object: 'unsupported\[0\]': 'match' is not a regular expression/,
    );
    await expect(runConformance(referenceBackend, { only: ['defaults_last'], expectations: { unsuported: {} } as never })).rejects.toThrow(
      /^Expectations object: unknown key\(s\) 'unsuported'/,
    );
  });
});
