import { registerBackend } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { trainOn } from '../demo/train.js';
import { backend, createWebGpuBackend } from '../src/index.js';
import { useSoftwareAdapterInTests } from './gpu-setup.js';

// The demo page's training loop in Node (Dawn on lavapipe): the loss falls, and a backend without
// backward is reported with its reason instead of trained.
useSoftwareAdapterInTests(backend);

describe("the demo's train panel logic", () => {
  it('fits the toy task on webgpu with Adam', async () => {
    const run = await trainOn('webgpu');
    expect(run.error).toBeUndefined();
    expect(run.skipped).toBeUndefined();
    expect(run.losses).toHaveLength(60);
    const first = run.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = run.losses.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first / 3);
  });

  it('names the reason a backend cannot train', async () => {
    const without = createWebGpuBackend({ name: 'no-backward', priority: -1 });
    without.supportsBackward = () => 'not here';
    registerBackend(without);
    const run = await trainOn('no-backward');
    expect(run).toEqual({ backend: 'no-backward', skipped: 'no backward: not here', losses: [] });
    expect((await trainOn('absent')).skipped).toBe('not registered');
  });
});
