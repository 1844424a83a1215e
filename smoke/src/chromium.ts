import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumPath } from './workspace.js';

export interface PageRun<T> {
  /** What the page's `globalThis.gruResult` promise resolved to. */
  result: T;
  /** Uncaught errors and console errors of the page. */
  errors: string[];
}

/**
 * Opens `url` in headless Chromium with WebGPU on SwiftShader (the flags packages/webgpu's browser
 * test uses) and returns what the page's `globalThis.gruResult` promise resolves to.
 */
export async function runInChromium<T>(url: string): Promise<PageRun<T>> {
  const profile = mkdtempSync(join(tmpdir(), 'gru-smoke-chromium-'));
  // A Vulkan driver chosen for Dawn in Node must not leak into Chromium's SwiftShader.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'VK_ICD_FILENAMES' && k !== 'NODEVICE_SELECT'),
  ) as Record<string, string>;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
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
  try {
    const page = await context.newPage();
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
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
