#!/usr/bin/env node
/**
 * Bundles the demo page's script (demo/main.ts) for browsers with esbuild: @gru/core, this
 * backend (from source), @gru/wasm, and the conformance suite's case runners (run-case.ts and
 * friends, which need no Node APIs). Output: demo/build/demo.js.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(pkg, 'demo', 'main.ts')],
  outfile: join(pkg, 'demo', 'build', 'demo.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
  // The backend reaches Dawn for Node through a computed import the browser never takes.
  external: ['webgpu'],
});
