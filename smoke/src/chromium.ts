import { launchWebGpuChromium } from '@gru/conformance/testing';
import { chromium } from 'playwright-core';
import { chromiumPath } from './workspace.js';

export interface PageRun<T> {
  /** What the page's `globalThis.gruResult` promise resolved to. */
  result: T;
  /** Uncaught errors and console errors of the page. */
  errors: string[];
}

/**
 * Opens `url` in headless Chromium with WebGPU on SwiftShader (the kit's launcher, which
 * packages/webgpu's browser tests use too) and returns what the page's `globalThis.gruResult`
 * promise resolves to.
 */
export async function runInChromium<T>(url: string): Promise<PageRun<T>> {
  const browser = await launchWebGpuChromium(chromium, chromiumPath);
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { gruResult?: unknown }).gruResult !== undefined, null, { timeout: 240_000 });
    const result = (await page.evaluate(() => (globalThis as unknown as { gruResult: Promise<unknown> }).gruResult)) as T;
    return { result, errors };
  } finally {
    await browser.close();
  }
}
