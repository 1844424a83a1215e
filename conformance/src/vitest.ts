import type { GruBackend } from '@gru/core';
import { beforeAll, describe, it } from 'vitest';
import { bundledExpectations, loadExpectations } from './expectations.js';
import { judge, planConformance, resolveBackend, type ConformanceOptions } from './runner.js';
import { loadBackend } from '@gru/core';

/**
 * Registers one vitest test per conformance case for a backend, so a backend package's
 * conformance test is one line: `describeConformance(backend)`. Failures fail the test with the
 * difference; unsupported cases and declared failures are skipped with their reason (vitest
 * reports them as skipped, never as passed).
 */
export function describeConformance(backend: GruBackend, options: Omit<ConformanceOptions, 'onResult'> = {}): void {
  const expectations =
    typeof options.expectations === 'string' ? loadExpectations(options.expectations) : (options.expectations ?? bundledExpectations(backend.name));
  const { planned } = planConformance(backend, options);
  describe(`conformance on '${backend.name}'`, () => {
    beforeAll(async () => {
      await loadBackend(await resolveBackend(backend));
    });
    for (const p of planned) {
      it(p.name, async (ctx) => {
        const judged = judge(p.name, await p.run(), expectations);
        if (judged.status === 'failed') throw new Error(`${p.name}: ${judged.detail}`);
        if (judged.status !== 'passed') ctx.skip(`${judged.status}: ${judged.detail}`);
      });
    }
  });
}
