import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What an install may use on a slim machine: Node and npm, a POSIX shell and the basic tools that
 * npm and install scripts call. No C++ compiler, no make, no Python, so node-gyp cannot build.
 */
const ALLOWED = [
  'node',
  'npm',
  'npx',
  'sh',
  'bash',
  'env',
  'cat',
  'cp',
  'mv',
  'rm',
  'ln',
  'ls',
  'mkdir',
  'rmdir',
  'chmod',
  'touch',
  'uname',
  'sed',
  'grep',
  'head',
  'tail',
  'dirname',
  'basename',
  'readlink',
  'realpath',
  'tar',
  'gzip',
  'true',
  'false',
  'test',
  'echo',
  'printf',
  'id',
  'whoami',
  'sleep',
];

/** Tools whose absence is what this PATH is for: any of them found is a broken test setup. */
export const COMPILER_TOOLS = ['g++', 'c++', 'cc', 'gcc', 'clang', 'clang++', 'make', 'python3', 'python'];

function which(tool: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    const candidate = join(dir, tool);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Fills `binDir` with symlinks to the allowed tools found on the current PATH; returns that PATH. */
export function makeNoCompilerPath(binDir: string): string {
  mkdirSync(binDir, { recursive: true });
  const path = process.env.PATH ?? '';
  for (const tool of ALLOWED) {
    // node must be the Node running this test, not whichever a package manager put first on PATH.
    const target = tool === 'node' ? process.execPath : which(tool, path);
    if (target && !existsSync(join(binDir, tool))) symlinkSync(realpathSync(target), join(binDir, tool));
  }
  for (const tool of ['node', 'npm', 'npx', 'sh']) {
    if (!existsSync(join(binDir, tool))) throw new Error(`the smoke test needs '${tool}' on PATH to build its no-compiler PATH; it was not found in ${path}`);
  }
  return binDir;
}

/** The compiler tools a shell with `path` as its PATH can still reach (an empty list is the goal). */
export function reachableCompilers(path: string): string[] {
  return COMPILER_TOOLS.filter((tool) => spawnSync(join(path, 'sh'), ['-c', `command -v ${tool}`], { env: { PATH: path } }).status === 0);
}
