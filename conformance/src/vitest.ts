import type { GruBackend } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isListed, judge } from './judge.js';
import {
  backendCheckRan,
  noBackendCheckReason,
  planConformance,
  resolveBackend,
  resolveExpectations,
  staleExpectations,
  type CaseResult,
  type ConformanceOptions,
} from './runner.js';
import { loadBackend } from '@gru/core';

/**
 * Registers one vitest test per conformance case for a backend, so a backend package's
 * conformance test is one line: `describeConformance(backend)`. Failures fail the test with the
 * difference; unsupported cases and declared failures are skipped with their reason (vitest
 * reports them as skipped, never as passed). Under `strict`, as the CLI's --strict: a run where no
 * backend check ran, a skip the expectations do not list, and an expectations entry that names no
 * check each fail a test; without it, stale entries are printed as warnings.
 */
export function describeConformance(backend: GruBackend, options: Omit<ConformanceOptions, 'onResult'> = {}): void {
  const { expectations, source } = resolveExpectations(backend, options.expectations);
  const { planned } = planConformance(backend, options);
  const stale = staleExpectations(backend, options, expectations, planned);
  if (!options.strict) for (const p of stale) console.warn(`WARNING expectations ${source}: ${p}`);
  describe(`conformance on '${backend.name}'`, () => {
    const results: Pick<CaseResult, 'kind' | 'status'>[] = [];
    beforeAll(async () => {
      await loadBackend(await resolveBackend(backend));
    });
    for (const p of planned) {
      it(p.name, async (ctx) => {
        const judged = judge(p.name, await p.run(), expectations);
        results.push({ kind: p.kind, status: judged.status });
        if (judged.status === 'failed') throw new Error(`${p.name}: ${judged.detail}`);
        if (judged.status === 'passed') return;
        // Strict: a skip nobody declared is a failure, not a quiet gap.
        if (options.strict && !isListed(p.name, expectations)) throw new Error(`${p.name} was skipped but is not listed in the expectations: ${judged.detail}`);
        ctx.skip(`${judged.status}: ${judged.detail}`);
      });
    }
    if (options.strict) {
      it('strict: at least one backend case ran (core-only checks do not count)', () => {
        expect(
          backendCheckRan(results),
          `no backend case ran on '${backend.name}' (${noBackendCheckReason(planned, true)}): nothing about the backend was checked`,
        ).toBe(true);
      });
      it('strict: every expectations entry names a check of this run', () => {
        expect(stale, `expectations ${source} name checks this run does not have (stale or misspelt)`).toEqual([]);
      });
    }
  });
}
