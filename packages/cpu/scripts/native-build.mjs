// Compiles the addon straight with a compiler, without node-gyp, for the builds node-gyp cannot
// make: prebuilt binaries for other platforms and CPUs (cross compilers), and the
// AddressSanitizer build. The sources and flags are native/sources.json's, as binding.gyp's are.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(pkg, 'package.json'));
/** @type {{ addon: string[], x64Kernels: { source: string, flags: string[] }[], defines: string[], cflags: string[] }} */
export const SOURCES = JSON.parse(readFileSync(join(pkg, 'native', 'sources.json'), 'utf8'));

/**
 * A prebuilt binary's target: where it goes (prebuilds/<platform>-<arch>/, as the loader looks),
 * the compiler, and how to link an N-API module there.
 * @typedef {{ platform: string, arch: string, cxx: string, compile: string[], link: string[], sources?: string[], windows?: boolean }} Target
 */

const LINUX_LINK = [
  '-shared',
  '-static-libstdc++',
  `-Wl,--version-script=${join(pkg, 'native', 'prebuild', 'exports.map')}`,
  '-pthread',
  '-Wl,-z,noexecstack',
  '-Wl,--as-needed',
  '-s',
];
const LINUX_COMPAT = ['native/prebuild/glibc_compat.cc'];

/** @type {Record<string, Target>} */
export const TARGETS = {
  'linux-x64': {
    platform: 'linux',
    arch: 'x64',
    cxx: process.arch === 'x64' ? 'g++' : 'x86_64-linux-gnu-g++',
    compile: ['-fPIC', '-fvisibility=hidden'],
    // libstdc++ inside the binary (only N-API's entry points exported: native/prebuild/exports.map), so it runs whatever C++ runtime the
    // system has and interposes on nothing; libgcc_s stays shared (every glibc system has it; the
    // static one needs glibc 2.35's _dl_find_object). N-API symbols stay undefined: Node provides
    // them. Needs glibc 2.34 or newer.
    link: LINUX_LINK,
    sources: LINUX_COMPAT,
  },
  'linux-arm64': {
    platform: 'linux',
    arch: 'arm64',
    cxx: process.arch === 'arm64' ? 'g++' : 'aarch64-linux-gnu-g++',
    compile: ['-fPIC', '-fvisibility=hidden', '-march=armv8-a'],
    link: LINUX_LINK,
    sources: LINUX_COMPAT,
  },
  'win32-x64': {
    platform: 'win32',
    arch: 'x64',
    cxx: 'x86_64-w64-mingw32-g++-posix',
    windows: true,
    compile: ['-D_WIN32_WINNT=0x0A00'],
    // Everything static (libstdc++, libgcc, winpthread): the DLL needs only Windows and node.exe.
    link: ['-shared', '-static', '-s'],
  },
};

/** Node-API's headers and .def files (the npm package node-api-headers), the same for every target. */
function napiHeaders() {
  const root = dirname(require.resolve('node-api-headers/package.json'));
  return { include: join(root, 'include'), def: join(root, 'def', 'node_api.def') };
}

const mtime = (/** @type {string} */ p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/** The newest header or build input: an object file older than it is rebuilt. */
function newestInput() {
  const native = join(pkg, 'native');
  const headers = readdirSync(native)
    .filter((f) => f.endsWith('.h'))
    .map((f) => mtime(join(native, f)));
  return Math.max(...headers, mtime(join(native, 'sources.json')), mtime(fileURLToPath(import.meta.url)));
}

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
 * Compiles and links gru_cpu.node into `out`.
 * @param {object} o
 * @param {string} o.out            the folder for objects and the binary
 * @param {Target} o.target
 * @param {string[]} [o.optimize]   replaces -O3 (the ASan build uses -O1 -g)
 * @param {string[]} [o.extra]      more flags, for compiling and linking (-fsanitize=address)
 * @param {string[]} [o.strip]      flags of the target to leave out (-s for a debuggable build)
 * @returns {Promise<string>}       the binary's path
 */
export async function buildAddon({ out, target, optimize, extra = [], strip = [] }) {
  mkdirSync(out, { recursive: true });
  const headers = napiHeaders();
  const x64 = target.arch === 'x64';
  const cflags = SOURCES.cflags.flatMap((f) => (f === '-O3' && optimize ? optimize : [f]));
  const common = [
    ...cflags,
    ...target.compile,
    ...extra,
    `-I${headers.include}`,
    `-I${require('node-addon-api').include_dir}`,
    ...SOURCES.defines.map((d) => `-D${d}`),
    ...(x64 ? ['-DGRU_HAVE_X86_KERNELS'] : []),
  ];
  const plain = [...SOURCES.addon, ...(target.sources ?? [])];
  const units = [...plain.map((source) => ({ source, flags: /** @type {string[]} */ ([]) })), ...(x64 ? SOURCES.x64Kernels : [])];
  const newest = newestInput();
  const objects = units.map((u) =>
    join(
      out,
      u.source
        .replace(/^native\//, '')
        .replace(/\//g, '-')
        .replace(/\.cc$/, '.o'),
    ),
  );
  const queue = units.map((u, i) => ({ ...u, obj: objects[i] }));
  const jobs = Math.max(1, Math.min(4, availableParallelism()));
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      for (let u = queue.shift(); u; u = queue.shift()) {
        const src = join(pkg, u.source);
        if (mtime(u.obj) > Math.max(mtime(src), newest)) continue;
        await run(target.cxx, [...common, ...u.flags, '-c', src, '-o', u.obj], `compiling ${u.source}`);
      }
    }),
  );
  const binary = join(out, 'gru_cpu.node');
  const libs = [];
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

/** Whether the target's compiler is on PATH (cross compilers come from Debian's g++-<triple> packages). */
export function hasCompiler(/** @type {Target} */ target) {
  return spawnSync(target.cxx, ['--version'], { stdio: 'ignore' }).status === 0;
}
