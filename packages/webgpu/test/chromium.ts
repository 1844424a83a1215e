import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
// @ts-expect-error: a plain .mjs script without type declarations.
import { startDemoServer } from '../scripts/serve-demo.mjs';

const CHROMIUM = process.env.GRU_CHROMIUM ?? '/usr/bin/chromium';

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
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: install Debian's 'chromium' package (scripts/ci-system-deps.sh) or set GRU_CHROMIUM.`);
  }
  if (!existsSync(fileURLToPath(new URL('../demo/build/demo.js', import.meta.url)))) {
    throw new Error('demo/build/demo.js is missing: run `node scripts/build-browser.mjs`.');
  }
  const server: { url: string; close: () => Promise<void> } = await startDemoServer();
  const profile = mkdtempSync(join(tmpdir(), 'gru-chromium-'));
  let context: BrowserContext | undefined;
  const close = async () => {
    await context?.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  };
  try {
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
