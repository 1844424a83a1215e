import { bundledCasesDir, loadCaseFiles } from '@gru/conformance';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations.
import { startDemoServer } from '../scripts/serve-demo.mjs';
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

const CHROMIUM = process.env.GRU_CHROMIUM ?? '/usr/bin/chromium';

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
    let context: BrowserContext | undefined;
    let server: { url: string; close: () => Promise<void> } | undefined;
    let profile: string | undefined;

    beforeAll(async () => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(`Chromium is not at ${CHROMIUM}: install Debian's 'chromium' package (scripts/ci-system-deps.sh) or set GRU_CHROMIUM.`);
      }
      if (!existsSync(fileURLToPath(new URL('../demo/build/demo.js', import.meta.url))))
        throw new Error('demo/build/demo.js is missing: run `node scripts/build-browser.mjs`.');
      server = await startDemoServer();
      profile = mkdtempSync(join(tmpdir(), 'gru-chromium-'));
      // The lavapipe ICD set for Dawn in this process must not leak into Chromium's SwiftShader.
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'VK_ICD_FILENAMES' && k !== 'NODEVICE_SELECT'),
      ) as Record<string, string>;
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        env,
        args: [
          '--no-sandbox',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--enable-unsafe-webgpu',
          '--use-webgpu-adapter=swiftshader',
          '--disable-gpu-sandbox',
        ],
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server!.url}?conformance=1&recurrence=${recurrence}`);
      await page.waitForFunction(() => (globalThis as { __gru?: PageState }).__gru?.conformanceDone === true, null, { timeout: 540_000, polling: 500 });
      state = await page.evaluate(() => (globalThis as unknown as { __gru: PageState }).__gru);
      if (errors.length) throw new Error(`the page threw: ${errors.join('; ')}`);
    }, 600_000);

    afterAll(async () => {
      await context?.close();
      await server?.close();
      if (profile) rmSync(profile, { recursive: true, force: true });
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
