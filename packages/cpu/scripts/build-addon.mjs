#!/usr/bin/env node
// Builds the native addon with node-gyp (configure when the source list changed, then incremental builds).
//
//   node scripts/build-addon.mjs              configure if needed, then build
// (scripts/install.mjs, the package's install script, runs it when no prebuilt binary loads.)
//
// Node's headers are taken from the running Node (`<prefix>/include/node`) when they are there,
// so nothing is downloaded: package managers do not always pass npm's nodedir to scripts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needsConfigure } from './gyp-config.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(pkg, 'package.json'));

function nodeGyp() {
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    // Installed as a dependency: npm tells scripts where its own node-gyp is.
    const npmGyp = process.env.npm_config_node_gyp;
    if (npmGyp && existsSync(npmGyp)) return [process.execPath, npmGyp];
    return ['node-gyp'];
  }
}

const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
const nodedir = existsSync(join(headers, 'node_api.h')) ? [`--nodedir=${dirname(dirname(process.execPath))}`] : [];
const [cmd, ...pre] = nodeGyp();

function gyp(...args) {
  const r = spawnSync(cmd, [...pre, ...args, ...nodedir], { cwd: pkg, stdio: 'inherit' });
  if (r.error) {
    console.error(
      `@gru/cpu: could not run node-gyp (${r.error.message}). Building the addon needs node-gyp, python3 and a C++20 compiler (g++ 10+ or clang 12+).`,
    );
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`@gru/cpu: node-gyp ${args[0]} failed (exit ${r.status}). Building the addon needs python3 and a C++20 compiler (g++ 10+ or clang 12+).`);
    process.exit(r.status ?? 1);
  }
}

if (needsConfigure(pkg)) gyp('configure');
gyp('build', `--jobs=${Math.max(1, Math.min(4, (await import('node:os')).availableParallelism()))}`);
