import { bundledCasesDir, loadCaseFiles } from '@gru/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDemoPage, type DemoPage } from './chromium.js';
import type { BrowserCaseResult } from '../demo/browser-conformance.js';
import type { DemoRow } from '../demo/side-by-side.js';

/**
 * The demo page in headless Chromium with WebGPU on SwiftShader, served from 127.0.0.1: it must
 * find an adapter, run webgpu and wasm side by side in agreement with the reference, and pass the
 * same conformance cases as the Node suite (`?conformance=1` runs them in the page).
 */
interface PageState {
  adapter?: string;
  adapterError?: string;
  demo?: DemoRow[];
  conformance: BrowserCaseResult[];
  conformanceDone: boolean;
  conformanceError?: string;
}

/** The names @gru/conformance's runner plans for these cases, in its order. */
function plannedNames(): string[] {
  const files = loadCaseFiles(bundledCasesDir());
  const names: string[] = [];
  for (const c of files.cases) {
    names.push(c.name);
    if (c.grads) names.push(`${c.name}:grads`);
  }
  names.push(...files.configCases.map((c) => `config:${c.name}`), ...files.errorEntries.map((e) => `error:${e.name}`), 'suite:no-leak');
  return names;
}

const planned = plannedNames();

// 'auto' runs every case on the fused kernel; 'stepwise' holds the per-step kernel to the same cases.
for (const recurrence of ['auto', 'stepwise'] as const) {
  describe(`the demo page in Chromium (WebGPU on SwiftShader), recurrence '${recurrence}'`, () => {
    let state: PageState;
    let page: DemoPage | undefined;

    beforeAll(async () => {
      page = await openDemoPage(`conformance=1&recurrence=${recurrence}`, '(s) => s?.conformanceDone === true', 540_000);
      state = page.state as PageState;
    }, 600_000);

    afterAll(async () => {
      await page?.close();
    });

    it('finds a WebGPU adapter (a null adapter is a failure)', () => {
      expect(state.adapterError).toBeUndefined();
      expect(state.adapter).toMatch(/\S/);
    });

    it('runs the GRU on webgpu and wasm side by side, both matching the reference', () => {
      expect(state.demo?.map((r) => r.backend)).toEqual(['webgpu', 'wasm']);
      for (const row of state.demo ?? []) {
        expect(row.error, `${row.backend}: ${row.error}`).toBeUndefined();
        expect(row.maxDiffVsReference, `${row.backend} against the reference`).toBeLessThan(1e-5);
        expect(row.medianMs).toBeGreaterThan(0);
      }
    });

    it('ran every case the Node suite plans, in the same order', () => {
      expect(state.conformanceError).toBeUndefined();
      expect(state.conformance.map((r) => r.name)).toEqual(planned);
    });

    describe('conformance in the browser', () => {
      for (const name of planned) {
        it(name, (ctx) => {
          const r = state.conformance.find((x) => x.name === name);
          if (!r) throw new Error(`${name}: the page reported no result`);
          if (r.status === 'failed') throw new Error(`${name}: ${r.detail}`);
          if (r.status !== 'passed') ctx.skip(`${r.status}: ${r.detail}`);
        });
      }
    });
  });
}
