// The prebuild command of an addon package (its scripts/prebuild.mjs calls this): builds the
// prebuilt binaries that ship in the package (prebuilds/<platform>-<arch>/<name>.node), so that
// installing it needs no compiler on those platforms. Built on Linux with Debian's cross compilers:
// g++ (or g++-x86-64-linux-gnu), g++-aarch64-linux-gnu and g++-mingw-w64-x86-64 (its -posix
// variant, for std::thread).
//
//   node scripts/prebuild.mjs                       every target
//   node scripts/prebuild.mjs linux-arm64 win32-x64 some targets
//   node scripts/prebuild.mjs --if-compilers        every target whose compiler is installed (a
//                                                   dev machine's build: it names what it skipped,
//                                                   and the package's prepack check refuses to pack
//                                                   without those)
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TARGETS, hasCompiler } from './native-build.mjs';

/**
 * Builds the addon's prebuilt binaries as `argv` asks; returns the exit code (1 when one failed,
 * 2 for an unknown target). Object files stay in build-prebuilds/<target>/ for the next run.
 * @param {ReturnType<typeof import('./native-build.mjs').nativeAddon>} addon
 * @param {string[]} argv
 * @returns {Promise<number>}
 */
export async function prebuild(addon, argv) {
  const ifCompilers = argv.includes('--if-compilers');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !addon.targets.includes(n));
  if (unknown.length) {
    console.error(`prebuild: ${addon.name}: unknown target(s) ${unknown.join(', ')}; its targets: ${addon.targets.join(', ')}`);
    return 2;
  }
  let failed = 0;
  /** @type {string[]} */
  const skipped = [];
  for (const name of names.length ? names : addon.targets) {
    const target = TARGETS[name];
    if (!hasCompiler(target)) {
      const msg = `prebuild: ${addon.name} ${name}: the compiler ${target.cxx} is not installed`;
      if (ifCompilers) {
        skipped.push(name);
        continue;
      }
      console.error(msg);
      failed++;
      continue;
    }
    try {
      const binary = await addon.build({ out: join(addon.pkg, 'build-prebuilds', name), target });
      const dest = join(addon.pkg, 'prebuilds', name);
      mkdirSync(dest, { recursive: true });
      copyFileSync(binary, join(dest, addon.file));
      console.log(`prebuild: ${addon.name} ${name}: prebuilds/${name}/${addon.file}`);
    } catch (err) {
      console.error(`prebuild: ${addon.name} ${name}: ${err instanceof Error ? err.message : String(err)}`);
      failed++;
    }
  }
  if (skipped.length) console.warn(skippedWarning(addon, skipped));
  return failed ? 1 : 0;
}

/**
 * The warning that --if-compilers gives for the targets it skipped: it exits 0 (a dev machine
 * without cross compilers still builds and tests), so the warning says what that package lacks.
 * @param {{ name: string, file: string }} addon
 * @param {string[]} skipped
 */
export function skippedWarning(addon, skipped) {
  const compilers = [...new Set(skipped.map((t) => `${TARGETS[t].cxx} (Debian: ${TARGETS[t].apt})`))];
  return [
    `prebuild: WARNING: ${addon.name}: SKIPPED ${skipped.join(', ')}: the compiler${compilers.length > 1 ? 's' : ''} ${compilers.join(', ')} ${compilers.length > 1 ? 'are' : 'is'} not installed.`,
    `prebuild: not built: ${skipped.map((t) => `prebuilds/${t}/${addon.file}`).join(', ')}. The package cannot be packed or published (its prepack check refuses a missing or stale binary) until \`node scripts/prebuild.mjs ${skipped.join(' ')}\` builds ${skipped.length > 1 ? 'them' : 'it'}.`,
  ].join('\n');
}
