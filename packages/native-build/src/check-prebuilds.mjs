#!/usr/bin/env node
// The packing check of an addon package (its `prepack` script, which `pnpm pack`, `pnpm publish`,
// `npm pack` and `npm publish` run): the package is refused unless prebuilds/ holds a binary for
// every target it ships (its scripts/addon.mjs: nativeAddon(..., { targets })), each one for the
// right platform and CPU, and, where the binary carries its interface tag (gru_napi/interface_tag.h),
// of the interface this package's JavaScript speaks. Without it a release would ship a package that
// compiles itself at install time, or cannot load at all.
//
//   node node_modules/@gru/native-build/src/check-prebuilds.mjs scripts/addon.mjs
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readBinary } from './binary-format.mjs';
import { TARGETS } from './native-build.mjs';

const kind = (/** @type {string} */ format) => (format === 'elf' ? 'an ELF' : 'a PE');
const TAG = /gru addon interface: ([A-Za-z0-9_]+) (\d+)\0/g;

/**
 * The interface tags written into a binary (GRU_ADDON_INTERFACE_TAG).
 * @param {Uint8Array} bytes
 * @returns {{ name: string, version: number }[]}
 */
export function interfaceTags(bytes) {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return [...text.matchAll(TAG)].map((m) => ({ name: m[1], version: Number(m[2]) }));
}

/**
 * The interface the addon's sources declare: the constant named in their GRU_ADDON_INTERFACE_TAG
 * (`constexpr int kAddonAbi = 6;`), or undefined where no source has one.
 * @param {{ pkg: string, name: string, sources: { addon: string[] } }} addon
 * @returns {{ version: number, where: string } | undefined}
 */
export function declaredInterface(addon) {
  for (const source of addon.sources.addon) {
    const text = readFileSync(join(addon.pkg, source), 'utf8');
    const use = /GRU_ADDON_INTERFACE_TAG\("([A-Za-z0-9_]+)",\s*(\w+)\)/.exec(text);
    if (!use) continue;
    if (use[1] !== addon.name) throw new Error(`${source} tags the addon '${use[1]}', expected '${addon.name}'`);
    const version = /^\d+$/.test(use[2]) ? use[2] : new RegExp(`constexpr int ${use[2]} = (\\d+);`).exec(text)?.[1];
    if (version === undefined) throw new Error(`${source}: GRU_ADDON_INTERFACE_TAG names ${use[2]}, which is not a constexpr int there`);
    return { version: Number(version), where: /^\d+$/.test(use[2]) ? source : `${use[2]} in ${source}` };
  }
  return undefined;
}

/**
 * What is wrong with the addon's prebuilt binaries, one line each (empty: every target is there and right).
 * @param {{ pkg: string, name: string, file: string, targets: string[], sources: { addon: string[] } }} addon
 * @returns {{ missing: string[], problems: string[] }}  `missing`: the targets to (re)build; `problems`: why
 */
export function prebuildProblems(addon) {
  const declared = declaredInterface(addon);
  /** @type {string[]} */
  const missing = [];
  /** @type {string[]} */
  const problems = [];
  for (const name of addon.targets) {
    const target = TARGETS[name];
    const rel = `prebuilds/${name}/${addon.file}`;
    const path = join(addon.pkg, rel);
    const wrong = (/** @type {string} */ why) => {
      missing.push(name);
      problems.push(`${rel} ${why}`);
    };
    if (!existsSync(path)) {
      wrong('is missing');
      continue;
    }
    const bytes = new Uint8Array(readFileSync(path));
    let facts;
    try {
      facts = readBinary(bytes);
    } catch (err) {
      wrong(`is not a shared library: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const format = target.windows ? 'pe' : 'elf';
    if (facts.format !== format || facts.arch !== target.arch) {
      wrong(`is ${kind(facts.format)} file for ${facts.arch}; ${name} needs ${kind(format)} file for ${target.arch}`);
      continue;
    }
    if (!declared) continue;
    const tags = interfaceTags(bytes).filter((t) => t.name === addon.name);
    if (tags.length === 0)
      wrong(`carries no interface tag (it was built from older sources); this package speaks interface ${declared.version} (${declared.where})`);
    else if (tags.some((t) => t.version !== declared.version))
      wrong(
        `speaks addon interface ${tags.map((t) => t.version).join(', ')}, this package speaks ${declared.version} (${declared.where}): its loader would refuse the binary`,
      );
  }
  return { missing, problems };
}

/**
 * The message that refuses the pack, with the commands that build what is missing.
 * @param {{ pkg: string, name: string, file: string, targets: string[] }} addon
 * @param {{ missing: string[], problems: string[] }} found
 */
export function refusal(addon, found) {
  const manifest = JSON.parse(readFileSync(join(addon.pkg, 'package.json'), 'utf8'));
  const folder = relative(process.cwd(), addon.pkg) || '.';
  const compilers = [...new Set(found.missing.map((t) => `${TARGETS[t].cxx} (Debian: ${TARGETS[t].apt})`))];
  return [
    `${manifest.name}: refusing to pack without the prebuilt binaries it ships (prebuilds/<target>/${addon.file} for ${addon.targets.join(', ')}):`,
    ...found.problems.map((p) => `  - ${p}`),
    `Build them, then pack again: \`pnpm turbo run prebuilds --filter=${manifest.name}\` at the repository root, or \`node scripts/prebuild.mjs ${found.missing.join(' ')}\` in ${folder === '.' ? 'this package' : folder}.`,
    `Needs the compiler${compilers.length > 1 ? 's' : ''} ${compilers.join(', ')}; \`--if-compilers\` skips a target whose compiler is missing.`,
  ].join('\n');
}

/** The nativeAddon(...) that a module (the package's scripts/addon.mjs) exports. */
async function addonFrom(/** @type {string} */ modulePath) {
  const mod = await import(pathToFileURL(resolve(modulePath)).href);
  const found = Object.values(mod).filter((v) => v && typeof v === 'object' && Array.isArray(v.targets) && typeof v.build === 'function');
  if (found.length !== 1) throw new Error(`${modulePath} must export one nativeAddon(...), found ${found.length}`);
  return found[0];
}

// Run as a script (through node_modules' link, hence realpath), not imported by a test.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const modulePath = process.argv[2];
  if (!modulePath) {
    console.error('usage: check-prebuilds.mjs <module exporting the nativeAddon(...)>, e.g. scripts/addon.mjs');
    process.exit(2);
  }
  const addon = await addonFrom(modulePath);
  const found = prebuildProblems(addon);
  // A development machine without the cross compilers may pack for local use (the repository's
  // smoke test outside CI does): absent binaries are then warned about, never wrong or stale ones.
  const absentOnly = found.problems.every((p) => p.endsWith(' is missing'));
  if (found.problems.length && absentOnly && process.env.GRU_PREBUILDS_ALLOW_MISSING === '1') {
    console.warn(`warning (GRU_PREBUILDS_ALLOW_MISSING=1: this tarball is for local use, not a release): ${refusal(addon, found)}`);
    process.exit(0);
  }
  if (found.problems.length) {
    console.error(refusal(addon, found));
    process.exit(1);
  }
  console.log(`${addon.name}: prebuilt binaries for ${addon.targets.join(', ')} checked`);
}
