// Compiles an N-API addon of this repository (@gru/cpu, @gru/cudnn) straight with a compiler,
// without node-gyp, for the builds node-gyp cannot make: prebuilt binaries for other platforms and
// CPUs (cross compilers), and sanitizer builds. Each addon lists its sources and flags in its
// native/sources.json, which its binding.gyp reads too, so both builds compile the same code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's own folder (the shared link files live in its native/). */
const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const ownRequire = createRequire(join(here, 'package.json'));

/**
 * An addon's native/sources.json. `x64Kernels` are compiled with their own flags on x64 only (and
 * the addon then gets -DGRU_HAVE_X86_KERNELS); `libs` are linked per platform ('linux', 'win32').
 * @typedef {{ addon: string[], x64Kernels?: { source: string, flags: string[] }[], defines: string[], cflags: string[], libs?: Record<string, string[]> }} Sources
 */

/**
 * A prebuilt binary's target: where it goes (prebuilds/<platform>-<arch>/, as the loader looks),
 * the compiler, and how to link an N-API module there.
 * `apt`: the Debian package that installs `cxx`.
 * @typedef {{ platform: string, arch: string, cxx: string, apt: string, compile: string[], link: string[], sources?: string[], windows?: boolean }} Target
 */

const LINUX_LINK = [
  '-shared',
  '-static-libstdc++',
  `-Wl,--version-script=${join(here, 'native', 'exports.map')}`,
  '-pthread',
  '-Wl,-z,noexecstack',
  '-Wl,--as-needed',
  '-s',
];
/** Headers shared by the addons (native/include), compiled by every build of each. */
const SHARED_INCLUDE = join(here, 'native', 'include');
/** Linked into every Linux prebuilt binary: see native/glibc_compat.cc. */
const LINUX_COMPAT = [join(here, 'native', 'glibc_compat.cc')];

/** @type {Record<string, Target>} */
export const TARGETS = {
  'linux-x64': {
    platform: 'linux',
    arch: 'x64',
    cxx: process.arch === 'x64' ? 'g++' : 'x86_64-linux-gnu-g++',
    apt: process.arch === 'x64' ? 'g++' : 'g++-x86-64-linux-gnu',
    compile: ['-fPIC', '-fvisibility=hidden'],
    // libstdc++ inside the binary (only N-API's entry points exported: native/exports.map), so it
    // runs whatever C++ runtime the system has and interposes on nothing; libgcc_s stays shared (every glibc system has it; the
    // static one needs glibc 2.35's _dl_find_object). N-API symbols stay undefined: Node provides
    // them. Needs glibc 2.34 or newer.
    link: LINUX_LINK,
    sources: LINUX_COMPAT,
  },
  'linux-arm64': {
    platform: 'linux',
    arch: 'arm64',
    cxx: process.arch === 'arm64' ? 'g++' : 'aarch64-linux-gnu-g++',
    apt: process.arch === 'arm64' ? 'g++' : 'g++-aarch64-linux-gnu',
    compile: ['-fPIC', '-fvisibility=hidden', '-march=armv8-a'],
    link: LINUX_LINK,
    sources: LINUX_COMPAT,
  },
  'win32-x64': {
    platform: 'win32',
    arch: 'x64',
    cxx: 'x86_64-w64-mingw32-g++-posix',
    apt: 'g++-mingw-w64-x86-64-posix',
    windows: true,
    compile: ['-D_WIN32_WINNT=0x0A00'],
    // Everything static (libstdc++, libgcc, winpthread): the DLL needs only Windows and node.exe.
    link: ['-shared', '-static', '-s'],
  },
};

/** Node-API's headers and .def files (the npm package node-api-headers), the same for every target. */
function napiHeaders() {
  const root = dirname(ownRequire.resolve('node-api-headers/package.json'));
  return { include: join(root, 'include'), def: join(root, 'def', 'node_api.def') };
}

const mtime = (/** @type {string} */ p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {string} what  for the error
 * @returns {Promise<void>}
 */
function run(cmd, args, what) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: 'inherit' });
    p.on('error', (e) => reject(new Error(`could not run ${cmd}: ${e.message}`)));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed ${what} (exit ${code})`))));
  });
}

/**
 * Options of one build of an addon.
 * @typedef {object} BuildOptions
 * @property {string} out            the folder for objects and the binary
 * @property {Target} target
 * @property {string[]} [optimize]   replaces -O3/-O2 (a sanitizer build uses -O1 -g)
 * @property {string[]} [extra]      more flags, for compiling and linking (-fsanitize=address)
 * @property {string[]} [strip]      flags of the target to leave out (-s for a debuggable build)
 */

/**
 * One addon of this repository: its package folder and binary name (gru_cpu, gru_cudnn), its
 * native/sources.json, and how to build it for a target.
 * @param {string} pkg   the addon package's folder
 * @param {string} name  the binary's name without .node
 * @param {{ targets?: string[] }} [options]  the TARGETS it is prebuilt for (default: all)
 */
export function nativeAddon(pkg, name, options = {}) {
  const targets = options.targets ?? Object.keys(TARGETS);
  const unknown = targets.filter((t) => !(t in TARGETS));
  if (unknown.length) throw new Error(`nativeAddon(${name}): unknown target(s) ${unknown.join(', ')}; known: ${Object.keys(TARGETS).join(', ')}`);
  /** @type {Sources} */
  const sources = JSON.parse(readFileSync(join(pkg, 'native', 'sources.json'), 'utf8'));
  const pkgRequire = createRequire(join(pkg, 'package.json'));
  const file = `${name}.node`;

  /** The newest header (the addon's or a shared one) or build input: an object file older than it is rebuilt. */
  function newestInput() {
    const native = join(pkg, 'native');
    const headers = [
      ...readdirSync(native)
        .filter((f) => f.endsWith('.h'))
        .map((f) => join(native, f)),
      ...readdirSync(SHARED_INCLUDE, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.h'))
        .map((f) => join(SHARED_INCLUDE, f)),
    ].map(mtime);
    return Math.max(...headers, mtime(join(native, 'sources.json')), mtime(fileURLToPath(import.meta.url)));
  }

  /**
   * Compiles and links `<name>.node` into `out`.
   * @param {BuildOptions} o
   * @returns {Promise<string>}  the binary's path
   */
  async function build({ out, target, optimize, extra = [], strip = [] }) {
    mkdirSync(out, { recursive: true });
    const headers = napiHeaders();
    const x64 = target.arch === 'x64';
    const kernels = x64 ? (sources.x64Kernels ?? []) : [];
    const cflags = sources.cflags.flatMap((f) => (/^-O[0-3s]$/.test(f) && optimize ? optimize : [f]));
    const common = [
      ...cflags,
      ...target.compile,
      ...extra,
      `-I${headers.include}`,
      `-I${pkgRequire('node-addon-api').include_dir}`,
      `-I${SHARED_INCLUDE}`,
      ...sources.defines.map((d) => `-D${d}`),
      ...(kernels.length ? ['-DGRU_HAVE_X86_KERNELS'] : []),
    ];
    const plain = [...sources.addon.map((s) => join(pkg, s)), ...(target.sources ?? [])];
    const units = [...plain.map((source) => ({ source, flags: /** @type {string[]} */ ([]) })), ...kernels.map((k) => ({ ...k, source: join(pkg, k.source) }))];
    const newest = newestInput();
    // Object files named for the source's path below its package (native/layer.cc: layer.o), or
    // for the file alone when it is this package's (glibc_compat.o).
    const objectName = (/** @type {string} */ src) => {
      const rel = src.startsWith(join(pkg, 'native')) ? src.slice(join(pkg, 'native').length + 1) : src.split(/[\\/]/).at(-1);
      return join(out, (rel ?? src).replace(/[\\/]/g, '-').replace(/\.cc$/, '.o'));
    };
    const queue = units.map((u) => ({ ...u, obj: objectName(u.source) }));
    const objects = queue.map((u) => u.obj);
    const jobs = Math.max(1, Math.min(4, availableParallelism()));
    await Promise.all(
      Array.from({ length: jobs }, async () => {
        for (let u = queue.shift(); u; u = queue.shift()) {
          if (mtime(u.obj) > Math.max(mtime(u.source), newest)) continue;
          await run(target.cxx, [...common, ...u.flags, '-c', u.source, '-o', u.obj], `compiling ${u.source}`);
        }
      }),
    );
    const binary = join(out, file);
    const libs = [...(sources.libs?.[target.platform] ?? [])];
    if (target.windows) {
      // The import library of node.exe's N-API exports, made from node-api-headers' .def file.
      const lib = join(out, 'libnode_api.a');
      if (mtime(lib) <= mtime(headers.def))
        await run('x86_64-w64-mingw32-dlltool', ['-d', headers.def, '-D', 'node.exe', '-l', lib], 'making the import library of node.exe');
      libs.push(lib);
    }
    const link = target.link.filter((f) => !strip.includes(f));
    await run(target.cxx, [...link, ...extra, '-o', binary, ...objects, ...libs], `linking ${binary}`);
    return binary;
  }

  return { pkg, name, file, sources, targets, build };
}

/** Whether the target's compiler is on PATH (cross compilers come from Debian's g++-<triple> packages). */
export function hasCompiler(/** @type {Target} */ target) {
  return spawnSync(target.cxx, ['--version'], { stdio: 'ignore' }).status === 0;
}
