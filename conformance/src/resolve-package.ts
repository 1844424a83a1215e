import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where a package specifier was looked for, for error messages. */
export interface PackageLookup {
  /** The file URL to import, when the package was found. */
  url?: string;
  /** The package's root directory, when found. */
  root?: string;
  /** Every place that was tried, in order. */
  looked: string[];
  /** Why a found package could not be resolved to a file (bad `exports`, missing entry). */
  problem?: string;
  /** Node's resolver's own word when the package was not found (yarn PnP says which dependency is undeclared). */
  error?: string;
}

const CONDITIONS = ['node', 'import', 'default'];

function splitSpecifier(spec: string): { name: string; subpath: string } {
  const parts = spec.split('/');
  const n = spec.startsWith('@') ? 2 : 1;
  const rest = parts.slice(n).join('/');
  return { name: parts.slice(0, n).join('/'), subpath: rest ? `./${rest}` : '.' };
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** A conditional `exports` target, with Node's conditions for `import` (node, import, default). */
function pickTarget(target: unknown, star?: string): string | undefined {
  if (typeof target === 'string') return star === undefined ? target : target.split('*').join(star);
  if (Array.isArray(target)) {
    for (const t of target) {
      const picked = pickTarget(t, star);
      if (picked) return picked;
    }
    return undefined;
  }
  if (target && typeof target === 'object') {
    for (const [cond, value] of Object.entries(target)) {
      if (!CONDITIONS.includes(cond)) continue;
      const picked = pickTarget(value, star);
      if (picked) return picked;
    }
  }
  return undefined;
}

/** Resolves `subpath` ('.' or './x') through a package.json `exports` field. */
function resolveExports(exportsField: unknown, subpath: string): string | undefined {
  const isSubpathMap =
    exportsField && typeof exportsField === 'object' && !Array.isArray(exportsField) && Object.keys(exportsField).some((k) => k.startsWith('.'));
  const map: Record<string, unknown> = isSubpathMap ? (exportsField as Record<string, unknown>) : { '.': exportsField };
  if (subpath in map) return pickTarget(map[subpath]);
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf('*');
    if (star < 0) continue;
    const [before, after] = [key.slice(0, star), key.slice(star + 1)];
    if (subpath.startsWith(before) && subpath.endsWith(after) && subpath.length >= key.length - 1) {
      return pickTarget(value, subpath.slice(before.length, subpath.length - after.length));
    }
  }
  return undefined;
}

/** The entry file of a package without `exports` (CommonJS-style `main` probing). */
function legacyEntry(root: string, pkg: Record<string, unknown>, subpath: string): string | undefined {
  const base = subpath === '.' ? (typeof pkg.main === 'string' ? pkg.main : 'index.js') : subpath;
  for (const candidate of [base, `${base}.js`, `${base}.mjs`, `${base}.cjs`, join(base, 'index.js')]) {
    const p = resolve(root, candidate);
    if (isFile(p)) return p;
  }
  return undefined;
}

/** Node's resolver as a module in `fromDir` sees it (yarn PnP patches it, so this finds packages without node_modules). */
function requireFrom(fromDir: string): NodeJS.Require {
  // createRequire wants a file; it need not exist.
  return createRequire(join(resolve(fromDir), 'noop.js'));
}

/** The folders Node looks in for `name` from `fromDir` (`<dir>/node_modules/<name>` up to the root, then the global folders). */
function nodeLookupPaths(req: NodeJS.Require, name: string): string[] {
  return (req.resolve.paths(name) ?? []).map((p) => join(p, name));
}

/**
 * A package's root when its `exports` hide `./package.json` (Node then refuses `<name>/package.json`):
 * yarn PnP's own answer where PnP runs, else the first of Node's lookup folders that holds it.
 */
function hiddenRoot(req: NodeJS.Require, name: string, fromDir: string, looked: string[]): string | undefined {
  if (process.versions.pnp) {
    try {
      const pnp = req('pnpapi') as { resolveToUnqualified(request: string, issuer: string): string | null };
      const root = pnp.resolveToUnqualified(name, `${resolve(fromDir)}/`);
      looked.push(`yarn PnP's location of ${name} from ${fromDir}: ${root ?? 'none'}`);
      if (root && existsSync(join(root, 'package.json'))) return root;
    } catch (err) {
      looked.push(`yarn PnP's location of ${name} from ${fromDir}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  for (const candidate of nodeLookupPaths(req, name)) {
    looked.push(candidate);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  return undefined;
}

/**
 * Whether require.resolve found `name` (at `pkgJson`) only on NODE_PATH or in Node's global
 * folders (Module.globalPaths), which import() never searches: not in a node_modules folder at
 * `fromDir` or above. A copy found only there is not the one the app's own import would run.
 * Resolver hooks (yarn PnP) place packages elsewhere and are kept.
 */
function onlyOnGlobalPaths(pkgJson: string, name: string, fromDir: string): boolean {
  for (let dir = resolve(fromDir); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return false;
    if (dirname(dir) === dir) break;
  }
  const globals = (Module as unknown as { globalPaths?: string[] }).globalPaths ?? [];
  return globals.some((g) => {
    if (!existsSync(g)) return false;
    const real = realpathSync(g);
    return pkgJson.startsWith(real + sep) || pkgJson.startsWith(resolve(g) + sep);
  });
}

/**
 * Resolves a bare package specifier (`@gru/wasm`, `my-backend`, `pkg/sub`) for `import`, as Node
 * would from a module in `fromDir`. The package's root comes from Node's own resolver
 * (`require.resolve('<name>/package.json')` from `fromDir`: the package itself through `exports`,
 * `node_modules` in `fromDir` and every folder above it, and whatever a resolver hook adds, as
 * yarn PnP does with no node_modules at all; not NODE_PATH, which import() ignores); its entry is then read from its `exports`
 * with the `import` conditions. Used so that `gru-conformance --backend <name>` finds the backend
 * the user's project depends on, which pnpm's strict layout and yarn PnP do not make visible to
 * @gru/conformance itself, and so that the backend's own files (its expectations) are found beside it.
 */
export function resolvePackageFrom(spec: string, fromDir: string): PackageLookup {
  const { name, subpath } = splitSpecifier(spec);
  const looked: string[] = [];
  const found = (root: string): PackageLookup => {
    const pkg = readJson(join(root, 'package.json')) ?? {};
    let file: string | undefined;
    if (pkg.exports !== undefined) {
      const target = resolveExports(pkg.exports, subpath);
      if (!target) return { root, looked, problem: `${join(root, 'package.json')} exports no '${subpath}' for import` };
      file = resolve(root, target);
      if (!isFile(file))
        return { root, looked, problem: `${join(root, 'package.json')} exports '${subpath}' as ${target}, which does not exist (is the package built?)` };
    } else {
      file = legacyEntry(root, pkg, subpath);
      if (!file) return { root, looked, problem: `${root} has no entry file for '${subpath}' (is the package built?)` };
    }
    return { url: pathToFileURL(file).href, root, looked };
  };
  // Self-reference: the nearest package.json above fromDir, when it is this package with `exports`
  // (Node's resolver finds it too, but not when its exports hide package.json).
  for (let dir = resolve(fromDir); ; dir = dirname(dir)) {
    const pkgPath = join(dir, 'package.json');
    if (existsSync(pkgPath)) {
      const pkg = readJson(pkgPath);
      looked.push(`${pkgPath} (the package itself)`);
      if (pkg?.name === name && pkg.exports !== undefined) return found(dir);
      break;
    }
    if (dirname(dir) === dir) break;
  }
  const req = requireFrom(fromDir);
  // Either way the root is found, a copy only on NODE_PATH or in a global folder is not the app's.
  const importable = (root: string): PackageLookup => {
    const pkgJson = join(root, 'package.json');
    if (!onlyOnGlobalPaths(pkgJson, name, fromDir)) return found(root);
    looked.push(`${pkgJson} was found only through NODE_PATH or Node's global folders, which import() does not search: not used`);
    return { looked, error: `${name} is not installed where an import from ${fromDir} finds it (node_modules of that folder or above)` };
  };
  try {
    const pkgJson = req.resolve(`${name}/package.json`);
    looked.push(`require.resolve('${name}/package.json') from ${fromDir}: ${pkgJson}`);
    return importable(dirname(pkgJson));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      const root = hiddenRoot(req, name, fromDir, looked);
      if (root) return importable(root);
    } else {
      looked.push(...nodeLookupPaths(req, name));
    }
    return { looked, error: `require.resolve('${name}/package.json') from ${fromDir}: ${e.message.split('\n')[0]}` };
  }
}
