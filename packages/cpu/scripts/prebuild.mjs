#!/usr/bin/env node
// Builds the prebuilt binaries that ship in the package (prebuilds/<platform>-<arch>/gru_cpu.node),
// so that installing @gru/cpu needs no compiler on those platforms. Built here, on Linux, with
// Debian's cross compilers: g++ (or g++-x86-64-linux-gnu), g++-aarch64-linux-gnu and
// g++-mingw-w64-x86-64 (its -posix variant, for std::thread), plus node-api-headers.
//
//   node scripts/prebuild.mjs                       every target
//   node scripts/prebuild.mjs linux-arm64 win32-x64 some targets
//   node scripts/prebuild.mjs --if-compilers        every target whose compiler is installed
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TARGETS, buildAddon, hasCompiler, pkg } from './native-build.mjs';

const args = process.argv.slice(2);
const ifCompilers = args.includes('--if-compilers');
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !(n in TARGETS));
if (unknown.length) {
  console.error(`prebuild: unknown target(s) ${unknown.join(', ')}; known: ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of names.length ? names : Object.keys(TARGETS)) {
  const target = TARGETS[name];
  if (!hasCompiler(target)) {
    const msg = `prebuild: ${name}: the compiler ${target.cxx} is not installed`;
    if (ifCompilers) {
      console.log(`${msg}; skipped`);
      continue;
    }
    console.error(msg);
    failed++;
    continue;
  }
  try {
    const binary = await buildAddon({ out: join(pkg, 'build-prebuilds', name), target });
    const dest = join(pkg, 'prebuilds', name);
    mkdirSync(dest, { recursive: true });
    copyFileSync(binary, join(dest, 'gru_cpu.node'));
    console.log(`prebuild: ${name}: prebuilds/${name}/gru_cpu.node`);
  } catch (err) {
    console.error(`prebuild: ${name}: ${err instanceof Error ? err.message : String(err)}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
