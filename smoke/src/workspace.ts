import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this package sits at <root>/smoke). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every package a release publishes: what a user installs. */
export const PUBLIC_PACKAGES = [
  '@gru/core',
  '@gru/cpu',
  '@gru/wasm',
  '@gru/webgpu',
  '@gru/cudnn',
  '@gru/keras',
  '@gru/conformance',
  '@gru/native-build',
] as const;

/** The workspace's pnpm (scripts/bootstrap.sh installs it into .tools), else the one on PATH. */
export const pnpmBin = existsSync(join(repoRoot, '.tools', 'bin', 'pnpm')) ? join(repoRoot, '.tools', 'bin', 'pnpm') : 'pnpm';

/** Where CI's Chromium lives (scripts/ci-system-deps.sh installs Debian's `chromium`). */
export const chromiumPath = process.env.GRU_CHROMIUM ?? '/usr/bin/chromium';

/** A missing prerequisite is a skip with its reason on a developer machine, and a failure under CI=true. */
export const mustRun = process.env.CI === 'true';
