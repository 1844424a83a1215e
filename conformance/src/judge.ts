import { listedReason, listing, type Expectations } from './expectations-types.js';
import type { CaseOutcome } from './run-case.js';

export type ResultStatus = 'passed' | 'failed' | 'unsupported' | 'expected-failure';

/**
 * Applies the expectations to an outcome: declared gaps are skipped, and passing declared gaps are
 * flagged. An `unsupported` listing covers only checks the backend declined; `failing` covers failures.
 */
export function judge(name: string, outcome: CaseOutcome, expectations: Expectations): { status: ResultStatus; detail?: string } {
  const u = listing(expectations, 'unsupported', name);
  const f = listing(expectations, 'failing', name);
  // A check that passes though a `match` pattern covers it is simply passed; listed by exact
  // name, it is an unexpected pass (the list must shrink).
  if (outcome.status === 'passed' && !u?.exact && !f?.exact) return { status: 'passed', detail: outcome.detail };
  const unsupported = u?.reason;
  const failing = f?.reason;
  if (outcome.status === 'passed' && (unsupported || failing)) {
    return {
      status: 'failed',
      detail: `unexpected pass: listed as ${unsupported ? `unsupported (${unsupported})` : `failing (${failing})`}; remove it from the expectations`,
    };
  }
  // `unsupported` only explains a check the backend declined: one it ran and got wrong stays a
  // failure, or a broad `match` (even ".") could hide every real bug, under --strict too.
  if (unsupported && outcome.status === 'unsupported') {
    return { status: 'unsupported', detail: outcome.detail ? `${unsupported} [${outcome.detail}]` : unsupported };
  }
  if (failing && outcome.status === 'failed') return { status: 'expected-failure', detail: `${failing}: ${outcome.detail ?? ''}` };
  if (unsupported && outcome.status === 'failed') {
    return {
      status: 'failed',
      detail:
        `listed as unsupported (${unsupported}) but the backend did not decline it: it ran and failed; ` +
        `fix it, or list it under 'failing': ${outcome.detail ?? ''}`,
    };
  }
  if (outcome.status === 'unsupported') {
    if (outcome.runnerLimit) return { status: 'unsupported', detail: outcome.detail };
    return { status: 'unsupported', detail: `${outcome.detail} (declared by the backend, not listed in its expectations)` };
  }
  return { status: outcome.status, detail: outcome.detail };
}

/** Whether the expectations list `name` (as unsupported or failing). */
export function isListed(name: string, expectations: Expectations): boolean {
  return listedReason(expectations, 'unsupported', name) !== undefined || listedReason(expectations, 'failing', name) !== undefined;
}
