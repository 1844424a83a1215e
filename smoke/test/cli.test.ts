import { expect, inject, it } from 'vitest';
import { describeWithApp, runInApp } from '../src/app-env.js';

const app = inject('smokeApp');
const describeApp = describeWithApp(app);

describeApp('npx gru-conformance from the app', () => {
  it('--backend cpu: every case passes or is an expected gap, exit 0', () => {
    const r = runInApp(app, 'npx', ['--no-install', 'gru-conformance', '--backend', 'cpu'], { timeoutMs: 600_000 });
    expect(r.status, r.log).toBe(0);
    const summary = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(r.stdout);
    expect(summary, r.log).not.toBeNull();
    expect(Number(summary?.[1])).toBeGreaterThan(50);
    expect(Number(summary?.[2])).toBe(0);
  }, 600_000);
});
