import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What launchWebGpuChromium uses of playwright's `chromium` (playwright-core's or playwright's):
 * the caller passes it in, so the kit itself depends on no browser driver.
 */
export interface PersistentContextLauncher<Context extends { close(): Promise<void> }> {
  launchPersistentContext(
    userDataDir: string,
    options: { executablePath: string; headless: boolean; env: Record<string, string>; args: string[] },
  ): Promise<Context>;
}

/** A running Chromium: its browser context, and close(), which also removes its profile. */
export interface WebGpuChromium<Context> {
  context: Context;
  close(): Promise<void>;
}

/** Chromium's flags for WebGPU on SwiftShader (its CPU Vulkan), headless, with nothing phoning home. */
export const WEBGPU_CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-gpu-sandbox',
]);

/**
 * Starts headless Chromium (`executablePath`, default $GRU_CHROMIUM or /usr/bin/chromium) with
 * WebGPU on SwiftShader, in a fresh temporary profile. A Vulkan driver chosen for Dawn in this
 * Node process (VK_ICD_FILENAMES, NODEVICE_SELECT) is kept out of Chromium's environment, where it
 * would replace SwiftShader.
 */
export async function launchWebGpuChromium<Context extends { close(): Promise<void> }>(
  chromium: PersistentContextLauncher<Context>,
  executablePath: string = process.env.GRU_CHROMIUM ?? '/usr/bin/chromium',
): Promise<WebGpuChromium<Context>> {
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium is not at ${executablePath}: install Debian's 'chromium' package (scripts/ci-system-deps.sh) or set GRU_CHROMIUM.`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'gru-chromium-'));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'VK_ICD_FILENAMES' && k !== 'NODEVICE_SELECT'),
  ) as Record<string, string>;
  const removeProfile = () => rmSync(profile, { recursive: true, force: true });
  let context: Context;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, env, args: [...WEBGPU_CHROMIUM_ARGS] });
  } catch (err) {
    removeProfile();
    throw err;
  }
  return {
    context,
    async close() {
      try {
        await context.close();
      } finally {
        removeProfile();
      }
    },
  };
}
