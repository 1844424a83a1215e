// What load() says when the addon itself cannot be loaded: run in child processes on a copy of the
// built package (dist/, as turbo's build leaves it) without its binaries, as a tarball packed
// without prebuilds/ unpacks; the addon is loaded once per process, so each case needs its own.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PREBUILT_PLATFORMS } from '../src/native.js';
import { requirePermissionFlag } from '../../../scripts/testing/node-permission.mjs';

const pkg = join(__dirname, '..');
const here = `${process.platform}-${process.arch}`;
const built = join(pkg, 'build', 'Release', 'gru_cudnn.node');

function bare(): string {
  const root = mkdtempSync(join(tmpdir(), 'gru-cudnn-bare-'));
  cpSync(join(pkg, 'dist'), join(root, 'dist'), { recursive: true });
  cpSync(join(pkg, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(pkg, 'node_modules'), join(root, 'node_modules'), 'dir');
  return root;
}

/** The message load() rejects with, in a fresh process (`node`: its flags). */
function loadMessage(root: string, env: Record<string, string> = {}, node: string[] = []): string {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!env.GRU_CUDNN_ADDON) delete e.GRU_CUDNN_ADDON;
  const script = `const { createCudnnBackend } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))}); await createCudnnBackend({ name: 'cudnn-t', python: false }).load().then(() => console.log('loaded'), (e) => console.log(e.message));`;
  const r = spawnSync(process.execPath, [...node, '--input-type=module', '-e', script], { cwd: root, env: e, encoding: 'utf8', timeout: 60_000 });
  return r.stdout.trim() || r.stderr;
}

describe("the addon's load errors", () => {
  it('the platforms the loader calls prebuilt are the ones scripts/addon.mjs builds (and the prepack check requires)', () => {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "const { cudnnAddon } = await import('./scripts/addon.mjs'); console.log(JSON.stringify(cudnnAddon.targets))"],
      {
        cwd: pkg,
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(PREBUILT_PLATFORMS);
  });

  (process.platform === 'linux' && PREBUILT_PLATFORMS.includes(here) ? it : it.skip)(
    `the package's own binary missing on ${here}, which has a prebuilt one: says the package should contain it, to reinstall or npm rebuild`,
    () => {
      const root = bare();
      expect(loadMessage(root)).toBe(
        `cuDNN backend unavailable: the native addon could not be loaded (${join(root, 'build', 'Release', 'gru_cudnn.node')}: not there; ${join(root, 'prebuilds', here, 'gru_cudnn.node')}: not there). ` +
          `This package should contain prebuilds/${here}/gru_cudnn.node: reinstall @gru/cudnn (or run \`npm rebuild @gru/cudnn\` with a compiler)`,
      );
    },
  );

  (process.platform === 'linux' ? it : it.skip)('a GRU_CUDNN_ADDON that names nothing: says the path came from there, no hint about prebuilt binaries', () => {
    const message = loadMessage(bare(), { GRU_CUDNN_ADDON: '/nowhere/gru_cudnn.node' });
    expect(message).toBe(
      "cuDNN backend unavailable: the native addon could not be loaded (/nowhere/gru_cudnn.node: not there). The path came from GRU_CUDNN_ADDON: point it at a gru_cudnn.node, or leave it unset to use the package's own binary",
    );
  });

  (process.platform === 'linux' && existsSync(built) ? it : it.skip)(
    "under Node's permission model: suggests --allow-addons, in one sentence (no '..' or '.;')",
    () => {
      const root = bare();
      for (const folder of [join(root, 'build', 'Release'), join(root, 'prebuilds', here)]) {
        mkdirSync(folder, { recursive: true });
        cpSync(built, join(folder, 'gru_cudnn.node'));
      }
      const message = loadMessage(root, {}, [requirePermissionFlag(), '--allow-fs-read=*', '--no-warnings']);
      expect(message).toMatch(
        /^cuDNN backend unavailable: the native addon could not be loaded \(.*gru_cudnn\.node: Cannot load native addon because loading addons is disabled: Node\.js's permission model forbids native addons; run node with --allow-addons to use the cuDNN backend; .*--allow-addons to use the cuDNN backend\)$/,
      );
      expect(message).not.toMatch(/\.\.|\.;/);
    },
  );

  /** Node's permission model with addons allowed, reading only the bare package and the workspace it runs from. */
  const readOnly = (root: string) => {
    const allowed = [root, join(pkg, '..', '..')];
    return [requirePermissionFlag(), ...allowed.map((p) => `--allow-fs-read=${p}`), '--allow-addons', '--no-warnings'];
  };
  const withBuilt = () => {
    const root = bare();
    mkdirSync(join(root, 'build', 'Release'), { recursive: true });
    cpSync(built, join(root, 'build', 'Release', 'gru_cudnn.node'));
    return root;
  };

  (process.platform === 'linux' && existsSync(built) ? it : it.skip)(
    "a GRU_CUDNN_ADDON that Node's permission model may not read: names the file and the --allow-fs-read that allows it",
    () => {
      const root = withBuilt();
      const elsewhere = mkdtempSync(join(tmpdir(), 'gru-cudnn-unreadable-'));
      const addon = join(elsewhere, 'gru_cudnn.node');
      cpSync(built, addon);
      expect(loadMessage(root, { GRU_CUDNN_ADDON: addon }, readOnly(root))).toBe(
        `cuDNN backend unavailable: the native addon could not be loaded (${addon} cannot be read: Node's permission model is on and its --allow-fs-read does not cover it; ` +
          `run node with --allow-fs-read=${addon} (or its folder: --allow-fs-read=${elsewhere})). The path came from GRU_CUDNN_ADDON: point it at a gru_cudnn.node, or leave it unset to use the package's own binary`,
      );
    },
  );

  (process.platform === 'linux' && existsSync(built) ? it : it.skip)(
    "the driver look outside --allow-fs-read does not end load() with Node's bare refusal: it counts as a driver seen, and Python is asked",
    () => {
      const root = withBuilt();
      const script = `const { createCudnnBackend } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))}); await createCudnnBackend({ name: 'cudnn-t' }).load().then(() => console.log('loaded'), (e) => console.log(e.message));`;
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.GRU_CUDNN_ADDON;
      const r = spawnSync(process.execPath, [...readOnly(root), '--input-type=module', '-e', script], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
      // Loaded where a GPU is, else the search's own account, which includes the Python probe:
      // refused too (no --allow-child-process), and said so with both ways out.
      expect(r.stdout.trim()).toMatch(
        /^loaded$|pip wheel nvidia-cudnn via python3: python3 could not be run: Access to this API has been restricted.* \(Node's permission model is on: run node with --allow-child-process, or set GRU_CUDNN_PYTHON=0 to not ask Python\)/,
      );
    },
  );
});
