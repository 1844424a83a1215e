import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeWithApp, lastJson, runInApp } from '../src/app-env.js';
import { runInChromium } from '../src/chromium.js';
import { serveStatic, type StaticServer } from '../src/static-server.js';
import { chromiumPath, mustRun, repoRoot } from '../src/workspace.js';

const app = inject('smokeApp');
const describeApp = describeWithApp(app);

interface PageResult {
  wasmUrl: string;
  runs: Record<string, { backend?: string; shape?: number[]; maxDiff?: number; error?: string }>;
}

/** Both backends ran the GRU (not a fallback) and agree with the reference backend. */
function expectBothRan(result: PageResult, where: string): void {
  for (const name of ['wasm', 'webgpu']) {
    const run = result.runs[name];
    expect(run.error, `${where}, ${name}: ${run.error}`).toBeUndefined();
    expect(run.backend).toBe(name);
    expect(run.shape).toEqual([2, 3, 4]);
    expect(run.maxDiff).toBeLessThan(1e-5);
  }
}

/** The page loaded gru.wasm from where the bundler put it, not from the package's default URL. */
function expectBundledWasm(server: StaticServer, result: PageResult): void {
  const wasm = server.requests.filter((p) => p.endsWith('.wasm'));
  expect(wasm.length, `requests: ${server.requests.join(', ')}`).toBeGreaterThan(0);
  expect(
    wasm.every((p) => !p.includes('/dist/gru.wasm')),
    `requests: ${wasm.join(', ')}`,
  ).toBe(true);
  expect(result.wasmUrl).toMatch(/\.wasm$/);
}

function esbuild(entry: string, args: string[]): void {
  // esbuild's install script puts its native binary at bin/esbuild.
  const r = runInApp(app, join(app.dir, 'node_modules', '.bin', 'esbuild'), [
    entry,
    '--bundle',
    '--format=esm',
    '--loader:.wasm=file',
    '--log-level=warning',
    ...args,
  ]);
  expect(r.status, r.log).toBe(0);
}

// Dawn in Node needs a Vulkan driver: the lavapipe that turbo's @gru/webgpu#setup:lavapipe
// unpacks, unless VK_ICD_FILENAMES names one already.
const lavapipeIcd = join(repoRoot, 'packages', 'webgpu', '.vulkan', 'lvp_icd.json');
const vulkanEnv: Record<string, string> | undefined = process.env.VK_ICD_FILENAMES
  ? { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES }
  : existsSync(lavapipeIcd)
    ? { VK_ICD_FILENAMES: lavapipeIcd, NODEVICE_SELECT: '1' }
    : undefined;
const haveChromium = existsSync(chromiumPath);
const noChromium = `needs Chromium at ${chromiumPath} (Debian: apt-get install chromium, or set GRU_CHROMIUM); under CI=true its absence fails`;

describeApp('an esbuild bundle of a page using @gru/wasm and @gru/webgpu', () => {
  beforeAll(() => {
    esbuild('page/entry-esbuild.mjs', ['--platform=browser', '--outdir=dist-esbuild']);
    writeFileSync(
      join(app.dir, 'dist-esbuild', 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>gru smoke (esbuild)</title><script type="module" src="./entry-esbuild.js"></script>',
    );
    // The app is CommonJS by default (npm init): the ESM bundle for Node is an .mjs file.
    esbuild('page/entry-node.mjs', ['--platform=node', '--external:webgpu', '--outdir=dist-node', '--out-extension:.js=.mjs']);
  });

  it('esbuild copied gru.wasm next to the bundle (--loader:.wasm=file)', () => {
    expect(readdirSync(join(app.dir, 'dist-esbuild')).filter((f) => f.endsWith('.wasm')).length).toBe(1);
  });

  if (haveChromium || mustRun) {
    it('runs in headless Chromium: the GRU on wasm and on webgpu (SwiftShader) matches the reference', async () => {
      if (!haveChromium) throw new Error(noChromium);
      const server = await serveStatic(join(app.dir, 'dist-esbuild'));
      try {
        const { result, errors } = await runInChromium<PageResult>(server.url);
        expect(errors).toEqual([]);
        expectBothRan(result, 'Chromium, esbuild bundle');
        expectBundledWasm(server, result);
      } finally {
        await server.close();
      }
    });
  } else {
    it.skip(`runs in headless Chromium: ${noChromium}`, () => {});
  }

  if (vulkanEnv || mustRun) {
    it('the same page logic bundled for Node (the README recipe) runs there from any working directory: wasm, and webgpu on Dawn (lavapipe)', () => {
      if (!vulkanEnv) throw new Error(`no Vulkan driver for Dawn: run \`pnpm turbo run @gru/webgpu#setup:lavapipe\` or set VK_ICD_FILENAMES`);
      // Run from the app's folder, not the bundle's: new URL(wasmUrl, import.meta.url) finds the file next to the bundle.
      const r = runInApp(app, 'node', ['run-bundle.mjs', 'dist-node/entry-node.mjs'], { cwd: app.dir, env: vulkanEnv });
      expect(r.status, r.log).toBe(0);
      expectBothRan(lastJson<PageResult>(r), 'Node, esbuild bundle');
    });
  } else {
    it.skip('the same page logic bundled for Node: needs a Vulkan driver for Dawn (`pnpm turbo run @gru/webgpu#setup:lavapipe`, or VK_ICD_FILENAMES); under CI=true its absence fails', () => {});
  }
});

describeApp('a Vite build of the same page', () => {
  let server: StaticServer | undefined;
  beforeAll(async () => {
    const r = runInApp(app, 'node', ['node_modules/vite/bin/vite.js', 'build', 'page', '--outDir', '../dist-vite', '--emptyOutDir', '--logLevel', 'warn']);
    expect(r.status, r.log).toBe(0);
    server = await serveStatic(join(app.dir, 'dist-vite'));
  });
  afterAll(() => server?.close());

  it('Vite emitted gru.wasm as an asset (@gru/wasm/gru.wasm?url)', () => {
    // Vite also rewrites the package's own new URL(...) of gru-threads.wasm and the relaxed-SIMD builds.
    const assets = readdirSync(join(app.dir, 'dist-vite', 'assets'));
    expect(assets.filter((f) => /^gru-(?!threads|relaxed)[\w-]*\.wasm$/.test(f)).length, assets.join(', ')).toBe(1);
  });

  if (haveChromium || mustRun) {
    it('runs in headless Chromium: the GRU on wasm and on webgpu (SwiftShader) matches the reference', async () => {
      if (!haveChromium) throw new Error(noChromium);
      const { result, errors } = await runInChromium<PageResult>((server as StaticServer).url);
      expect(errors).toEqual([]);
      expectBothRan(result, 'Chromium, Vite build');
      expectBundledWasm(server as StaticServer, result);
    });
  } else {
    it.skip(`runs in headless Chromium: ${noChromium}`, () => {});
  }
});
