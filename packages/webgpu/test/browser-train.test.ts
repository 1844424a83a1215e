import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainRun } from '../demo/train.js';
import { openDemoPage, type DemoPage } from './chromium.js';

/**
 * The demo page's train panel in headless Chromium (WebGPU on SwiftShader): it trains on every
 * browser backend whose supportsBackward accepts the layer, says why for the others, and the
 * loss falls. Which backends train is read from the page, not assumed, except that webgpu must.
 */
describe('the train panel in Chromium', () => {
  let runs: TrainRun[];
  let page: DemoPage | undefined;

  beforeAll(async () => {
    page = await openDemoPage('train=1', '(s) => s?.trainDone === true', 540_000);
    runs = (page.state as { train: TrainRun[] }).train;
  }, 600_000);

  afterAll(async () => {
    await page?.close();
  });

  it('reports webgpu and wasm, each trained or with the reason it did not', () => {
    expect(runs.map((r) => r.backend)).toEqual(['webgpu', 'wasm']);
    for (const r of runs) {
      expect(r.error, `${r.backend}: ${r.error}`).toBeUndefined();
      if (r.skipped !== undefined) expect(r.skipped, r.backend).toMatch(/^no backward: \S/);
    }
  });

  it('trains on webgpu: the loss falls to under a third of where it started', () => {
    const gpu = runs.find((r) => r.backend === 'webgpu');
    expect(gpu?.skipped).toBeUndefined();
    expect(gpu?.losses.length).toBe(60);
    expect(gpu!.losses.every(Number.isFinite)).toBe(true);
    const first = gpu!.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = gpu!.losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first / 3);
  });

  it('gives the same early loss curve on every backend that trained (same data, same weights)', () => {
    const trained = runs.filter((r) => r.skipped === undefined);
    for (const r of trained.slice(1)) {
      // float32 gradients differ by ~1e-6 between backends; Adam carries that along, slowly.
      for (let i = 0; i < 20; i++) {
        expect(Math.abs(r.losses[i] - trained[0].losses[i]), `${r.backend} step ${i}`).toBeLessThanOrEqual(1e-2 * trained[0].losses[i]);
      }
    }
  });
});
