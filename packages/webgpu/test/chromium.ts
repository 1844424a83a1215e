import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchWebGpuChromium, type WebGpuChromium } from '@gru/conformance/testing';
import { type BrowserContext, chromium } from 'playwright-core';
// @ts-expect-error: a plain .mjs script without type declarations.
import { startDemoServer } from '../scripts/serve-demo.mjs';

/** The demo page open in headless Chromium (WebGPU on SwiftShader), served from 127.0.0.1. */
export interface DemoPage {
  /** `window.__gru` once `done` holds of it. */
  state: unknown;
  close(): Promise<void>;
}

/**
 * Opens the demo page with `query`, waits until `done(window.__gru)` is true, and returns that
 * state; a page error fails the call.
 */
export async function openDemoPage(query: string, done: string, timeoutMs: number): Promise<DemoPage> {
  if (!existsSync(fileURLToPath(new URL('../demo/build/demo.js', import.meta.url)))) {
    throw new Error('demo/build/demo.js is missing: run `node scripts/build-browser.mjs`.');
  }
  const server: { url: string; close: () => Promise<void> } = await startDemoServer();
  let browser: WebGpuChromium<BrowserContext> | undefined;
  const close = async () => {
    await browser?.close();
    await server.close();
  };
  try {
    browser = await launchWebGpuChromium(chromium);
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}?${query}`);
    await page.waitForFunction(`(${done})(globalThis.__gru)`, null, { timeout: timeoutMs, polling: 500 });
    const state = await page.evaluate(() => (globalThis as unknown as { __gru: unknown }).__gru);
    if (errors.length) throw new Error(`the page threw: ${errors.join('; ')}`);
    return { state, close };
  } catch (err) {
    await close();
    throw err;
  }
}
