import type { GruBackend } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isListed, judge } from './judge.js';
import { CORE_ONLY_KINDS, planConformance, resolveBackend, resolveExpectations, type ConformanceOptions } from './runner.js';
import { loadBackend } from '@gru/core';

/**
 * Registers one vitest test per conformance case for a backend, so a backend package's
 * conformance test is one line: `describeConformance(backend)`. Failures fail the test with the
 * difference; unsupported cases and declared failures are skipped with their reason (vitest
 * reports them as skipped, never as passed).
 */
export function describeConformance(backend: GruBackend, options: Omit<ConformanceOptions, 'onResult'> = {}): void {
  const { expectations } = resolveExpectations(backend, options.expectations);
  const { planned } = planConformance(backend, options);
  describe(`conformance on '${backend.name}'`, () => {
    let backendRan = 0;
    beforeAll(async () => {
      await loadBackend(await resolveBackend(backend));
    });
    for (const p of planned) {
      it(p.name, async (ctx) => {
        const judged = judge(p.name, await p.run(), expectations);
        if (!CORE_ONLY_KINDS.includes(p.kind) && (judged.status === 'passed' || judged.status === 'failed')) backendRan++;
        if (judged.status === 'failed') throw new Error(`${p.name}: ${judged.detail}`);
        if (judged.status === 'passed') return;
        // Strict: a skip nobody declared is a failure, not a quiet gap.
        if (options.strict && !isListed(p.name, expectations)) throw new Error(`${p.name} was skipped but is not listed in the expectations: ${judged.detail}`);
        ctx.skip(`${judged.status}: ${judged.detail}`);
      });
    }
    if (options.strict) {
      it('strict: at least one backend case ran (core-only checks do not count)', () => {
        expect(backendRan, `no backend case ran on '${backend.name}': nothing about the backend was checked`).toBeGreaterThan(0);
      });
    }
  });
}
