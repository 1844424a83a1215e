// A worker thread that disposes the webgpu backend and is terminated right after must not take
// the process down. dawn.node aborted it (FATAL ERROR: Error::ThrowAsJavaScriptException
// napi_throw) when the device-lost handler read the loss info of the device dispose() had just
// destroyed while the worker was being terminated. The race is narrow, so the fixture runs many
// cycles (before the fix, one run of 40 in two died); its count of cycles, not the clock, bounds it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/dispose-then-terminate.mjs', import.meta.url));
const CYCLES = 60;

describe('workers terminated after dispose()', () => {
  it(`${CYCLES} workers that dispose the backend and are terminated at once leave the process alive`, { timeout: 600_000 }, () => {
    // A process of its own: an abort would otherwise take the test runner with it.
    const run = spawnSync(process.execPath, [FIXTURE, String(CYCLES)], { encoding: 'utf8', timeout: 580_000 });
    expect(run.stderr).not.toMatch(/FATAL ERROR/);
    expect(run.signal).toBeNull();
    expect(run.stdout.trim()).toBe(`survived ${CYCLES}`);
    expect(run.status).toBe(0);
  });
});
