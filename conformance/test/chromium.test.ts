import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { launchWebGpuChromium, type PersistentContextLauncher, WEBGPU_CHROMIUM_ARGS } from '../src/testing.js';

type Options = Parameters<PersistentContextLauncher<{ close(): Promise<void> }>['launchPersistentContext']>[1];

/** A launcher that records what it was asked for, instead of starting Chromium. */
function fakeLauncher(fail?: Error) {
  const seen: { profile: string; options: Options; closed: boolean }[] = [];
  const launcher: PersistentContextLauncher<{ close(): Promise<void> }> = {
    async launchPersistentContext(profile, options) {
      const entry = { profile, options, closed: false };
      seen.push(entry);
      if (fail) throw fail;
      return {
        async close() {
          entry.closed = true;
        },
      };
    },
  };
  return { launcher, seen };
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('launchWebGpuChromium', () => {
  it('starts headless Chromium with WebGPU on SwiftShader in a fresh profile, without the Node side’s Vulkan driver', async () => {
    process.env.VK_ICD_FILENAMES = '/somewhere/lvp_icd.json';
    process.env.NODEVICE_SELECT = '1';
    process.env.GRU_KEEP_ME = 'yes';
    const { launcher, seen } = fakeLauncher();
    const browser = await launchWebGpuChromium(launcher, process.execPath);
    const [{ profile, options }] = seen;
    expect(options.executablePath).toBe(process.execPath);
    expect(options.headless).toBe(true);
    expect(options.args).toEqual([...WEBGPU_CHROMIUM_ARGS]);
    expect(options.args).toContain('--use-webgpu-adapter=swiftshader');
    expect(options.env.VK_ICD_FILENAMES).toBeUndefined();
    expect(options.env.NODEVICE_SELECT).toBeUndefined();
    expect(options.env.GRU_KEEP_ME).toBe('yes');
    expect(existsSync(profile)).toBe(true);
    await browser.close();
    expect(seen[0].closed).toBe(true);
    expect(existsSync(profile)).toBe(false);
  });

  it('removes the profile when Chromium fails to start, and names a missing executable', async () => {
    const { launcher, seen } = fakeLauncher(new Error('no display'));
    await expect(launchWebGpuChromium(launcher, process.execPath)).rejects.toThrow('no display');
    expect(existsSync(seen[0].profile)).toBe(false);
    await expect(launchWebGpuChromium(launcher, '/nonexistent/chromium')).rejects.toThrow(
      /Chromium is not at \/nonexistent\/chromium: install Debian's 'chromium' package .* or set GRU_CHROMIUM/,
    );
    expect(seen).toHaveLength(1);
  });
});
