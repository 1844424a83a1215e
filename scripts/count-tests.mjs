// Adds up the vitest JSON reports that every package's `test` task writes (turbo restores them
// from its cache too) and prints the closing `N passed, N failed` line. A package with a test
// script but no report counts as one failure, so a crashed runner cannot pass silently; so does a
// failed bootstrap or build (`--failed-step`), after which no test runs.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);

// A step before the tests failed (`--failed-step build --step-exit 2`): no test ran, so reports on
// disk are from an earlier run and are not counted; the failed step counts as one failed task.
const failedStep = arg('--failed-step');
if (failedStep !== undefined) {
  console.log(`${failedStep} failed (exit ${arg('--step-exit') ?? '?'}); no tests were run, see the log above`);
  console.log('0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

const dirs = ['conformance', 'benchmarks', 'examples', 'smoke', ...readdirSync(join(root, 'packages')).map((d) => join('packages', d))];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of dirs) {
  const pkgPath = join(root, dir, 'package.json');
  if (!existsSync(pkgPath)) continue;
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
  if (!pkg.scripts?.test) continue;
  const reportPath = join(root, dir, 'test-report.json');
  if (!existsSync(reportPath)) {
    console.log(`${pkg.name}: no test report (the test task did not run to completion)`);
    failed++;
    continue;
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const p = report.numPassedTests ?? 0;
  const f = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0) + (report.success === false && !report.numFailedTests ? 1 : 0);
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`${pkg.name}: ${p} passed, ${f} failed, ${s} skipped`);
  passed += p;
  failed += f;
  skipped += s;
}
// A test task can fail after vitest wrote a clean report (the cpu addon's AddressSanitizer run,
// a type error caught later): turbo's exit status says so, and it counts as one failure.
const tasksExit = Number(process.argv[process.argv.indexOf('--tasks-exit') + 1] ?? 0);
if (process.argv.includes('--tasks-exit') && tasksExit !== 0 && failed === 0) {
  console.log(`a test task failed outside its vitest report (turbo exited ${tasksExit}); see the log above`);
  failed++;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 ? 1 : 0;
