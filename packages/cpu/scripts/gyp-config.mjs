// Whether node-gyp must configure (again) before building: the generated makefiles list the
// sources, so a source added to native/sources.json (or a changed binding.gyp) since the last
// configure would otherwise be left out, and the link would miss its symbols.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const mtime = (/** @type {string} */ p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/**
 * @param {string} pkg  the package folder (binding.gyp, native/, build/)
 * @returns {boolean}
 */
export function needsConfigure(pkg) {
  const gypi = mtime(join(pkg, 'build', 'config.gypi'));
  if (!gypi) return true;
  // MSBuild projects on Windows, makefiles elsewhere: the older of what configure wrote.
  const makefile = mtime(join(pkg, 'build', 'Makefile'));
  const configured = makefile ? Math.min(gypi, makefile) : gypi;
  return configured < Math.max(mtime(join(pkg, 'native', 'sources.json')), mtime(join(pkg, 'binding.gyp')));
}
