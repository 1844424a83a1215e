import { backendCheckRan, noBackendCheckReason, type CaseResult, type ConformanceReport } from './runner.js';

const TAG: Record<CaseResult['status'], string> = {
  passed: 'PASS ',
  failed: 'FAIL ',
  unsupported: 'UNSUP',
  'expected-failure': 'XFAIL',
};

/** One line per case: status, name, and the detail or the largest difference. */
export function formatResult(r: CaseResult): string {
  const diff = r.maxAbsDiff !== undefined ? `max|diff| ${r.maxAbsDiff.toExponential(2)}` : '';
  const detail = r.detail ? ` ${r.detail}` : '';
  return `${TAG[r.status]} ${r.name}${diff ? `  (${diff})` : ''}${r.status === 'passed' && !r.detail ? '' : detail}`.trimEnd();
}

/** The closing summary: unsupported cases by name and reason, then `N passed, N failed, N skipped`. */
export function formatSummary(report: ConformanceReport): string {
  const lines: string[] = [];
  const skipped = report.results.filter((r) => r.status === 'unsupported' || r.status === 'expected-failure');
  if (skipped.length) {
    lines.push(`Not run on '${report.backend}' (never counted as passed):`);
    for (const r of skipped) lines.push(`  ${r.name}: ${r.detail ?? ''}`);
  }
  const failed = report.results.filter((r) => r.status === 'failed');
  if (failed.length) {
    lines.push(`Failed on '${report.backend}':`);
    for (const r of failed) lines.push(`  ${r.name}: ${r.detail ?? ''}`);
  }
  if (report.unavailable !== undefined) {
    lines.push(`Backend '${report.backend}' is unavailable here, so none of its ${report.notRun ?? 0} cases ran: ${report.unavailable}`);
  }
  if (report.strictProblems?.length) {
    lines.push(`--strict refuses this run on '${report.backend}':`);
    for (const p of report.strictProblems) lines.push(`  ${p}`);
  }
  if (!backendCheckRan(report.results) && report.unavailable === undefined && !report.strictProblems?.length) {
    lines.push(
      `WARNING: no backend check ran on '${report.backend}': ${noBackendCheckReason(report.results)}, so nothing about the backend was checked ` +
        `(--strict fails such a run).`,
    );
  }
  // Core-only checks (config, error) run no backend code: counted apart, so a backend that
  // declines everything cannot look like one that passes.
  lines.push(
    `backend checks: ${report.backendPassed} passed; core-only checks (no backend code): ${report.corePassed} passed; ` +
      `${report.failed} failed, ${report.skipped} skipped`,
  );
  return lines.join('\n');
}
