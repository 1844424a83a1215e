#!/usr/bin/env node
/**
 * Packs what scripts/device-run.sh needs on a GPU machine that has no Node.js and no network
 * into build/cudnn-device-bundle/ at the repository root (ignored by git; name it in the device
 * tool's `carry`). Not under packages/cudnn: there Node would resolve '@gru/cudnn' to the
 * package itself (self-reference) instead of the bundled copy.
 *   node.xz                      this machine's node binary, xz-compressed (x86-64 Linux)
 *   node_modules/@gru/*          core, conformance, cudnn (dist + the built addon), wasm and cpu
 *                                when built (for the benchmark's cross-checks and ratios)
 *   benchmarks/src/              the benchmark harness and runners
 *   scripts/device-check.mjs
 * The conformance cases and expectations are read from the repository, which travels anyway.
 * Build first: `.tools/bin/pnpm turbo run build` at the repository root.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const repo = dirname(dirname(pkg));
const out = join(repo, 'build', 'cudnn-device-bundle');

function need(path, hint) {
  if (!existsSync(path)) {
    console.error(`make-device-bundle: ${path} is missing (${hint}).`);
    process.exit(1);
  }
}

need(join(pkg, 'dist', 'index.js'), 'build @gru/cudnn first');
need(join(pkg, 'build', 'Release', 'gru_cudnn.node'), 'build the addon: node scripts/build-addon.mjs');
need(join(repo, 'packages', 'core', 'dist', 'index.js'), 'build @gru/core first');
need(join(repo, 'conformance', 'dist', 'index.js'), 'build @gru/conformance first');
if (process.arch !== 'x64' || process.platform !== 'linux') {
  console.error(`make-device-bundle: the device machines are x86-64 Linux; this node is ${process.platform}/${process.arch}.`);
  process.exit(1);
}

// node.xz is slow to make (minutes); keep it while the node binary is the same.
const nodeXz = join(out, 'node.xz');
const stamp = join(out, 'node.version');
const nodeId = `${process.version} ${statSync(process.execPath).size}`;
const keepNode = existsSync(nodeXz) && existsSync(stamp) && readFileSync(stamp, 'utf8') === nodeId;
for (const part of ['node_modules', 'benchmarks', 'scripts']) rmSync(join(out, part), { recursive: true, force: true });
mkdirSync(out, { recursive: true });
if (!keepNode) {
  console.log(`make-device-bundle: compressing ${process.execPath} (${process.version}); this takes a few minutes`);
  writeFileSync(nodeXz, execFileSync('xz', ['-T0', '-6', '-c', process.execPath], { maxBuffer: 1 << 30 }));
  writeFileSync(stamp, nodeId);
}

function copyPackage(from, name, parts) {
  const to = join(out, 'node_modules', '@gru', name);
  mkdirSync(to, { recursive: true });
  for (const part of ['package.json', ...parts]) {
    if (existsSync(join(from, part))) cpSync(join(from, part), join(to, part), { recursive: true });
  }
}

copyPackage(join(repo, 'packages', 'core'), 'core', ['dist']);
copyPackage(join(repo, 'conformance'), 'conformance', ['dist', 'bin']);
copyPackage(pkg, 'cudnn', ['dist', 'build/Release/gru_cudnn.node']);
if (existsSync(join(repo, 'packages', 'wasm', 'dist', 'index.js'))) copyPackage(join(repo, 'packages', 'wasm'), 'wasm', ['dist']);
if (existsSync(join(repo, 'packages', 'cpu', 'build', 'Release', 'gru_cpu.node'))) {
  copyPackage(join(repo, 'packages', 'cpu'), 'cpu', ['dist', 'build/Release/gru_cpu.node']);
}
cpSync(join(repo, 'benchmarks', 'src'), join(out, 'benchmarks', 'src'), { recursive: true });
cpSync(join(repo, 'benchmarks', 'package.json'), join(out, 'benchmarks', 'package.json'));
mkdirSync(join(out, 'scripts'), { recursive: true });
cpSync(join(pkg, 'scripts', 'device-check.mjs'), join(out, 'scripts', 'device-check.mjs'));

const size = execFileSync('du', ['-sh', out], { encoding: 'utf8' }).split('\t')[0];
console.log(`make-device-bundle: ${out} (${size}); carry "build/cudnn-device-bundle" and run scripts/device-run.sh`);
