/**
 * One child process per runner and shape, so each result's RSS high-water is that runner's
 * alone (maxRSS only ever grows within a process) and a crash or hang in a native peer ends
 * one row, not the run.
 *
 * @typedef {import('./shapes.mjs').Shape} Shape
 * @typedef {import('./job.mjs').Result} Result
 * @typedef {import('./job.mjs').Plan} Plan
 * @typedef {import('./discover.mjs').DiscoveredRunner} DiscoveredRunner
 *
 * @typedef {object} ChildJob
 * @property {string} file   the runner module
 * @property {Shape} shape
 * @property {Plan} plan
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadRunner } from './discover.mjs';
import { errorText, notRun, runJob } from './job.mjs';
import { flops } from './shapes.mjs';

const RUN_MJS = fileURLToPath(new URL('./run.mjs', import.meta.url));
const STDERR_TAIL = 2000;

/**
 * Runs the job in `node run.mjs --child <job>`. The child's stdout and stderr go to ours
 * (stderr), keeping our stdout for the table.
 * @param {DiscoveredRunner} runner
 * @param {Shape} shape
 * @param {Plan} plan
 * @param {number} timeoutMs
 * @returns {Promise<Result>}
 */
export function runInChild(runner, shape, plan, timeoutMs) {
  /** @type {ChildJob} */
  const job = { file: runner.file, shape, plan };
  return new Promise((resolvePromise) => {
    // No inherited execArgv: a parent run under a test runner or inspector must not change the child.
    // Only the runner's own flags (engine features Node keeps behind a flag) are given.
    const execArgv = runner.nodeFlags ?? [];
    const child = fork(RUN_MJS, ['--child', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv });
    /** @type {Result | undefined} */
    let result;
    let tail = '';
    let timedOut = false;
    child.stdout?.on('data', (d) => process.stderr.write(d));
    child.stderr?.on('data', (d) => {
      process.stderr.write(d);
      tail = (tail + d.toString()).slice(-STDERR_TAIL);
    });
    child.on('message', (m) => {
      // The parent's view of the runner wins: a child that failed to import the module cannot know its name.
      result = { .../** @type {Result} */ (m), runner: runner.name, kind: runner.kind };
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      result ??= notRun(runner, shape, 'error', `child process failed to start: ${errorText(err)}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (result) return resolvePromise(result);
      const why = timedOut
        ? `timed out after ${timeoutMs} ms (--timeout-ms)`
        : `child process exited with ${signal ? `signal ${signal}` : `code ${code}`} before reporting`;
      const last = tail.trim().split('\n').slice(-3).join(' / ');
      resolvePromise(notRun(runner, shape, 'error', last ? `${why}: ${last}` : why));
    });
  });
}

/**
 * The child's side: one job, the result sent back over IPC (or printed as JSON when run by
 * hand without a parent), then exit so handles a runner left open cannot keep it alive.
 * @param {string} jobJson
 */
export async function childMain(jobJson) {
  /** @type {ChildJob} */
  const job = JSON.parse(jobJson);
  /** @type {Result} */
  let result;
  try {
    const runner = await loadRunner(job.file);
    result = await runJob(runner, job.shape, job.plan);
  } catch (err) {
    // The module failed to import here although it did in the parent; the parent fills in its name.
    result = { runner: job.file, kind: 'peer', shape: job.shape, status: 'error', reason: errorText(err), flops: flops(job.shape), slow: false };
  }
  const send = process.send?.bind(process);
  if (send) send(result, () => process.exit(0));
  else {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  }
}
