import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environmentVariable, fileReadRefused } from '@gru/core';
import type { NativeBinding } from './native.js';

/** The JavaScript <-> native contract this package speaks (kAddonAbi in native/addon.cc). */
export const ADDON_ABI = 6;
/** Node-API version the addon is compiled against (NAPI_VERSION in binding.gyp). */
export const REQUIRED_NAPI = 8;
const FILE = 'gru_cpu.node';

/**
 * The platforms whose prebuilt binary ships in the package (scripts/addon.mjs builds them; a test
 * checks the two lists agree, and the package's prepack check refuses to pack without them).
 */
export const PREBUILT_PLATFORMS = ['linux-x64', 'linux-arm64', 'win32-x64'];

/** The package root (this file is in src/ or dist/). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where the addon may be, in order: an explicit path (option or GRU_CPU_ADDON), the one built from
 * source on this machine (node-gyp, at install time when no prebuilt binary loaded, or by a
 * developer), and the prebuilt binary for this platform and architecture that the package ships
 * (prebuilds/<platform>-<arch>/: linux-x64, linux-arm64 (glibc 2.34+), win32-x64).
 */
export function addonCandidates(explicit?: string): string[] {
  const given = explicit ?? environmentVariable('GRU_CPU_ADDON');
  // Resolved against the working directory, where it was checked to exist (require() would resolve a
  // relative path against this module's folder instead).
  if (given) return [resolve(given)];
  return [join(packageRoot, 'build', 'Release', FILE), join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, FILE)];
}

/** Turns a dlopen failure into its likely cause. */
export function explainLoadError(path: string, err: unknown): string {
  const refused = fileReadRefused(path, err);
  if (refused) return refused;
  const msg = err instanceof Error ? err.message : String(err);
  if (/NODE_MODULE_VERSION/.test(msg)) {
    return `${path} was built for another Node.js ABI (${msg.split('\n')[0]}); rebuild it for this Node.js ${process.version}: npm rebuild @gru/cpu`;
  }
  if (
    /invalid ELF header|wrong ELF class|ELFCLASS|not a mach-o|mach-o file, but is an incompatible architecture|incompatible architecture|not a valid Win32 application|Exec format error/i.test(
      msg,
    )
  ) {
    return `${path} was built for another platform or CPU architecture (this is ${process.platform}-${process.arch}): ${msg.split('\n')[0]}; rebuild it here: npm rebuild @gru/cpu`;
  }
  if (/undefined symbol: napi_|Symbol not found: _?napi_|napi_[a-z_]+ could not be located/i.test(msg)) {
    return `${path} needs a newer Node-API than this Node.js ${process.version} provides (Node-API ${process.versions.napi ?? '?'}): ${msg.split('\n')[0]}`;
  }
  if (/GLIBC_|GLIBCXX_|CXXABI_/.test(msg)) {
    return `${path} needs a newer C or C++ runtime library than this system has (${msg.split('\n')[0]}); rebuild it here: npm rebuild @gru/cpu`;
  }
  if ((err as { code?: unknown } | null)?.code === 'ERR_DLOPEN_DISABLED' || /loading addons is disabled/i.test(msg)) {
    return `${path} could not be loaded: Node.js's permission model forbids native addons (${msg.split('\n')[0].replace(/\.$/, '')}); run node with --allow-addons to use the cpu backend`;
  }
  return `${path} could not be loaded: ${msg.split('\n')[0]}`;
}

/** Why every candidate was missing, and what to do (`given`: where an explicit path came from). */
function missingHint(given: string | undefined): string {
  const here = `${process.platform}-${process.arch}`;
  if (given) return `The path came from ${given}: point it at a gru_cpu.node, or leave it unset to use the package's own binary`;
  if (PREBUILT_PLATFORMS.includes(here))
    return `This package should contain prebuilds/${here}/${FILE}: reinstall @gru/cpu (or run \`npm rebuild @gru/cpu\` with a compiler)`;
  return `@gru/cpu ships prebuilt binaries for linux-x64, linux-arm64 (glibc 2.34+) and win32-x64; elsewhere (this is ${here}) it is compiled when installed (node-gyp; it needs python3 and a C++20 compiler such as g++ 10+). Install a compiler, then \`npm rebuild @gru/cpu\``;
}

/** Why a loaded addon's exports cannot serve this package (another addon interface), or undefined. */
export function bindingProblem(path: string, binding: Partial<NativeBinding> | undefined): string | undefined {
  if (binding?.abi === ADDON_ABI && typeof binding.Layer === 'function') return undefined;
  return `${path} is from another version of @gru/cpu (addon interface ${String(binding?.abi)}, this package speaks ${ADDON_ABI}); rebuild it: npm rebuild @gru/cpu`;
}

/**
 * Why `path` is no addon file to load, or undefined. A read refused by Node's permission model
 * (existsSync and statSync throw there) is one candidate's problem: the next may be allowed.
 */
function fileProblem(path: string): string | undefined {
  try {
    if (!existsSync(path)) return `${path} does not exist`;
    // A folder named *.node would be loaded by require() through its package.json or index.js.
    if (!statSync(path).isFile()) return `${path} is not a file`;
    return undefined;
  } catch (err) {
    return fileReadRefused(path, err) ?? `${path} could not be read: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

/** Loads and checks the addon; throws an Error naming the cause when it cannot. */
export function loadAddon(explicit?: string): { binding: NativeBinding; path: string } {
  const napi = Number(process.versions.napi ?? 0);
  if (napi < REQUIRED_NAPI) {
    throw new Error(`the cpu backend needs Node-API ${REQUIRED_NAPI} or newer; this Node.js ${process.version} provides ${napi || 'none'}`);
  }
  const require = createRequire(import.meta.url);
  const candidates = addonCandidates(explicit);
  const problems: string[] = [];
  for (const path of candidates) {
    // require() picks its loader by the file's extension: any other name would be run as JavaScript.
    if (!path.endsWith('.node')) {
      problems.push(`${path} is not a .node file (the addon path must end in .node; any other file would be run as JavaScript)`);
      continue;
    }
    const unfit = fileProblem(path);
    if (unfit) {
      problems.push(unfit);
      continue;
    }
    let binding: NativeBinding;
    try {
      binding = require(path) as NativeBinding;
    } catch (err) {
      problems.push(explainLoadError(path, err));
      continue;
    }
    const problem = bindingProblem(path, binding);
    if (problem) {
      problems.push(problem);
      continue;
    }
    return { binding, path };
  }
  const missing = problems.every((p) => p.endsWith('does not exist'));
  const given = explicit ? 'the addonPath option' : environmentVariable('GRU_CPU_ADDON') ? 'GRU_CPU_ADDON' : undefined;
  // Each problem is a clause of one sentence, and the message ends without a period: @gru/core
  // joins backends' reasons with '; ' (result.skipped, describeChoice).
  const reasons = problems.map((p) => p.replace(/[.\s]+$/, '')).join('; ');
  const hint = missing ? missingHint(given) : given ? `The path came from ${given}` : '';
  throw new Error(`the cpu backend's native addon is ${missing ? 'missing' : 'unusable'}: ${reasons}${hint ? `. ${hint}` : ''}`);
}
