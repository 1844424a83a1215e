import { expect, inject, it } from 'vitest';
import { describeWithApp, runInApp } from '../src/app-env.js';

const app = inject('smokeApp');
const describeApp = describeWithApp(app);

describeApp('npx gru-conformance from the app', () => {
  it('--backend cpu --strict: every case passes or is a listed gap, exit 0', () => {
    const r = runInApp(app, 'npx', ['--no-install', 'gru-conformance', '--backend', 'cpu', '--strict'], { timeoutMs: 600_000 });
    expect(r.status, r.log).toBe(0);
    const summary = /backend checks: (\d+) passed; core-only checks \(no backend code\): (\d+) passed; (\d+) failed, (\d+) skipped/.exec(r.stdout);
    expect(summary, r.log).not.toBeNull();
    // Backend checks are counted apart from core-only ones: cpu code ran in these.
    expect(Number(summary?.[1])).toBeGreaterThan(50);
    expect(Number(summary?.[3])).toBe(0);
  }, 600_000);
});
