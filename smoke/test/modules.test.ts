import { expect, inject, it } from 'vitest';
import { describeWithApp, lastJson, runInApp } from '../src/app-env.js';

const app = inject('smokeApp');
const describeApp = describeWithApp(app);

interface Findings {
  backends: string[];
  runs: Record<string, { backend: string; shape: number[]; maxDiff: number }>;
  exportsSeen: string[];
}

/** The app's own scripts (../app), run with the app's Node from the app's folder. */
for (const [title, script] of [
  ['ESM (import)', 'esm.mjs'],
  ['CommonJS (require)', 'cjs.cjs'],
] as const) {
  describeApp(`${title}: every package loads, and a GRU runs on cpu and wasm`, () => {
    it(`node ${script}`, () => {
      const r = runInApp(app, 'node', [script]);
      expect(r.status, r.log).toBe(0);
      const found = lastJson<Findings>(r);
      expect(
        found.exportsSeen.every((t) => t === 'function'),
        r.log,
      ).toBe(true);
      for (const name of ['reference', 'cpu', 'wasm', 'webgpu', 'cudnn']) expect(found.backends).toContain(name);
      for (const backend of ['cpu', 'wasm']) {
        expect(found.runs[backend].backend).toBe(backend);
        expect(found.runs[backend].shape).toEqual([2, 3, 5]);
        expect(found.runs[backend].maxDiff).toBeLessThan(1e-5);
      }
    });
  });
}

describeApp('ESM and CommonJS in one process (the dual-package hazard): one registry', () => {
  it('a backend registered through CJS serves an ESM layer, and the other way round', () => {
    const r = runInApp(app, 'node', ['mixed.mjs']);
    expect(r.status, r.log).toBe(0);
    const found = lastJson<Record<string, unknown>>(r);
    expect(found).toMatchObject({ sameRegistry: true, esmSeesCjsCpu: true, auto: 'cpu', named: 'wasm-from-cjs', fromCjs: 'wasm' });
    expect(found.autoSkipped).toContain('reference');
  });
});
