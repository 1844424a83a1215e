import { describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';

// Run only by `test:asan` (vitest.asan.config.ts): proves the suite ran on the instrumented addon.
describe('AddressSanitizer run', () => {
  it('loaded the instrumented addon', async () => {
    await backend.load();
    expect(backend.addonPath).toBe(process.env.GRU_CPU_ADDON);
    expect(backend.addonPath).toMatch(/build-asan[/\\]gru_cpu\.node$/);
  });
});
