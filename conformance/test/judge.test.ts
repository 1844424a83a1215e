import { describe, expect, it } from 'vitest';
import { judge } from '../src/runner.js';
import { compareArrays, TOLERANCES } from '../src/tolerance.js';
import { loadCaseFiles } from '../src/format.js';
import { bundledCasesDir } from '../src/expectations.js';

describe('expectations', () => {
  it('a group by `match` covers a class: its failures are expected, its passes are passes; an exact entry that passes is an unexpected pass', () => {
    const exp = { failing: [{ reason: 'known class', match: '^random_' }], unsupported: [{ reason: 'no', cases: ['exact_one'] }] };
    expect(judge('random_1_000', { status: 'failed', detail: 'off' }, exp)).toEqual({ status: 'expected-failure', detail: 'known class: off' });
    expect(judge('random_1_001', { status: 'passed' }, exp).status).toBe('passed');
    expect(judge('exact_one', { status: 'passed' }, exp)).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(/^unexpected pass: listed as unsupported \(no\)/),
    });
    expect(judge('other', { status: 'failed', detail: 'x' }, exp).status).toBe('failed');
  });

  const exp = { unsupported: { a: 'no float64' }, failing: { b: 'issue #9' } };
  it('skips declared gaps and names the reason', () => {
    expect(judge('a', { status: 'unsupported', detail: 'x' }, exp)).toEqual({ status: 'unsupported', detail: 'no float64 [x]' });
    expect(judge('b', { status: 'failed', detail: 'off' }, exp)).toEqual({ status: 'expected-failure', detail: 'issue #9: off' });
  });
  it('turns a pass of a declared gap into a failure', () => {
    expect(judge('a', { status: 'passed' }, exp).status).toBe('failed');
    expect(judge('b', { status: 'passed' }, exp).status).toBe('failed');
  });
  it('an `unsupported` listing explains only a declined check: one that ran and failed stays failed, saying so', () => {
    const all = { unsupported: [{ reason: 'work in progress', match: '.' }], failing: { b: 'issue #9' } };
    expect(judge('mask_holes', { status: 'failed', detail: 'outputs[0] off' }, all)).toEqual({
      status: 'failed',
      detail:
        "listed as unsupported (work in progress) but the backend did not decline it: it ran and failed; fix it, or list it under 'failing': outputs[0] off",
    });
    expect(judge('a', { status: 'failed', detail: 'off' }, exp).status).toBe('failed');
    expect(judge('mask_holes', { status: 'unsupported', detail: 'no masks' }, all)).toEqual({ status: 'unsupported', detail: 'work in progress [no masks]' });
    // Listed under both: `failing` explains the failure.
    expect(judge('b', { status: 'failed', detail: 'off' }, all)).toEqual({ status: 'expected-failure', detail: 'issue #9: off' });
  });
  it('reports undeclared unsupported cases as unsupported, never passed', () => {
    expect(judge('c', { status: 'unsupported', detail: 'why' }, exp)).toEqual({
      status: 'unsupported',
      detail: 'why (declared by the backend, not listed in its expectations)',
    });
  });
});

describe('tolerance', () => {
  it('uses atol + rtol * |want| and fails NaN', () => {
    expect(compareArrays([1 + 1e-5], [1], TOLERANCES.float32).ok).toBe(true);
    expect(compareArrays([1 + 2e-5], [1], TOLERANCES.float32).ok).toBe(false);
    expect(compareArrays([NaN], [0], TOLERANCES.float32).ok).toBe(false);
    expect(compareArrays([0, 1], [0], TOLERANCES.float32).message).toMatch(/length 2, expected 1/);
  });
});

describe('case loading', () => {
  it('sorts the shipped directory into 104 cases, error entries and config cases', () => {
    const files = loadCaseFiles(bundledCasesDir());
    expect(files.cases).toHaveLength(104);
    expect(files.errorEntries.length).toBe(56);
    expect(files.configCases.length).toBe(9);
    expect(files.refused).toEqual([]);
    expect(files.ignored.map((f) => f.file).sort()).toEqual(['cross_backend.json', 'index.json']);
  });
});
