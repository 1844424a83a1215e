// The prepack check of a native package (@gru/native-build's src/check-prebuilds.mjs), as tests
// run it: on a copy of the package's manifest, scripts/addon.mjs and native/ sources, with the
// prebuilt binaries given copied in (or missing, swapped, made stale).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';

/**
 * A package folder as the check sees it. `addon` is the binary's name ('gru_cpu'); `binaries`
 * maps a target ('linux-x64') to a file to copy or the bytes to write as prebuilds/<target>/<addon>.node.
 */
export function packageCopy(pkg, addon, binaries = {}) {
  const dir = mkdtempSync(join(tmpdir(), `${addon.replace('_', '-')}-pack-`));
  copyFileSync(join(pkg, 'package.json'), join(dir, 'package.json'));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(pkg, 'scripts', 'addon.mjs'), join(dir, 'scripts', 'addon.mjs'));
  // native/test holds the addon's own C++ tests, which the check does not read.
  cpSync(join(pkg, 'native'), join(dir, 'native'), { recursive: true, filter: (src) => !src.includes(`${sep}native${sep}test`) });
  mkdirSync(join(dir, 'node_modules', '@gru'), { recursive: true });
  symlinkSync(join(pkg, 'node_modules', '@gru', 'native-build'), join(dir, 'node_modules', '@gru', 'native-build'), 'dir');
  for (const [target, from] of Object.entries(binaries)) {
    mkdirSync(join(dir, 'prebuilds', target), { recursive: true });
    const to = join(dir, 'prebuilds', target, `${addon}.node`);
    if (typeof from === 'string') copyFileSync(from, to);
    else writeFileSync(to, from);
  }
  return dir;
}

/** Runs the package's prepack script in `dir`, as `pnpm pack` does; `env` adds to (or, as undefined, removes from) the environment. */
export function prepack(dir, env = {}) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const merged = { ...process.env, GRU_PREBUILDS_ALLOW_MISSING: undefined, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const r = spawnSync('sh', ['-c', manifest.scripts.prepack], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: merged });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
