import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';
import { describeWithApp } from '../src/app-env.js';
import { SCRIPTED_PACKAGES } from '../src/global-setup-impl.js';
import { COMPILER_TOOLS, reachableCompilers } from '../src/no-compiler-path.js';
import { PUBLIC_PACKAGES, repoRoot } from '../src/workspace.js';

const app = inject('smokeApp');
const describeApp = describeWithApp(app);

if (app.unavailable) it.skip(`every smoke test: ${app.unavailable}`, () => {});
const installed = (name: string) => join(app.dir, 'node_modules', ...name.split('/'));

describeApp('npm install of the packed tarballs into a fresh app, with no C++ compiler on PATH', () => {
  it(`the install ran where none of ${COMPILER_TOOLS.join(', ')} is reachable`, () => {
    expect(reachableCompilers(app.path)).toEqual([]);
    expect(existsSync(join(app.dir, 'package-lock.json'))).toBe(true);
    expect(repoRoot.startsWith(app.dir) || app.dir.startsWith(repoRoot)).toBe(false);
  });

  for (const name of PUBLIC_PACKAGES) {
    it(`${name} is installed from its tarball, at the workspace's version`, () => {
      const manifest = JSON.parse(readFileSync(join(installed(name), 'package.json'), 'utf8'));
      const workspaceDir = name === '@gru/conformance' ? 'conformance' : join('packages', name.slice(5));
      const source = JSON.parse(readFileSync(join(repoRoot, workspaceDir, 'package.json'), 'utf8'));
      expect(manifest.version).toBe(source.version);
      const lock = JSON.parse(readFileSync(join(app.dir, 'package-lock.json'), 'utf8'));
      expect(lock.packages[`node_modules/${name}`].resolved).toMatch(/^file:/);
      // One copy of core for every package that extends it (a peer dependency, never nested).
      expect(existsSync(join(installed(name), 'node_modules', '@gru', 'core'))).toBe(false);
    });
  }

  it(`the install scripts of ${SCRIPTED_PACKAGES.join(', ')} ran (the app approves them, as older npm runs them unasked)`, () => {
    expect(app.installLog).not.toMatch(/install-scripts|not yet covered by allowScripts/);
  });

  const prebuiltHere = process.platform === 'linux' && process.arch === 'x64';
  if (prebuiltHere)
    it('@gru/cpu installed its prebuilt linux-x64 binary: nothing was compiled, no warning', () => {
      const cpu = installed('@gru/cpu');
      expect(existsSync(join(cpu, 'prebuilds', 'linux-x64', 'gru_cpu.node'))).toBe(true);
      expect(existsSync(join(cpu, 'build')), 'a build/ folder means node-gyp ran').toBe(false);
      expect(app.installLog).not.toMatch(/@gru\/cpu:/);
    });
  else it.skip(`@gru/cpu's prebuilt binary: only checked on linux-x64 (this is ${process.platform}-${process.arch})`, () => {});

  if (prebuiltHere)
    it('@gru/cudnn installed its prebuilt linux-x64 binary: nothing was compiled, no warning', () => {
      const cudnn = installed('@gru/cudnn');
      expect(existsSync(join(cudnn, 'prebuilds', 'linux-x64', 'gru_cudnn.node'))).toBe(true);
      expect(existsSync(join(cudnn, 'build')), 'a build/ folder means node-gyp ran').toBe(false);
      expect(app.installLog).not.toMatch(/@gru\/cudnn:|gyp ERR!/);
    });
  else
    it('@gru/cudnn installs without a compiler: one clear warning that says why, and the install goes on', () => {
      expect(existsSync(join(installed('@gru/cudnn'), 'package.json'))).toBe(true);
      const lines = app.installLog.split('\n');
      expect(lines.filter((l) => l.startsWith('gyp ERR!'))).toEqual([]);
      const own = lines.filter((l) => l.startsWith('@gru/cudnn:'));
      expect(own).toHaveLength(1);
      expect(own.join(' ')).toMatch(/compiler/);
    });
});
