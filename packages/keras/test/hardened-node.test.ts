import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers.js';

// The built package, as an app runs it, in a Node started with hardening flags.
const DIST = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;

function loadIn(flags: string[], file: string) {
  const script = `import { loadModel } from ${JSON.stringify(DIST)};
const model = await loadModel(${JSON.stringify(join(FIXTURES, file))});
console.log('loaded', model.name, model.parameterCount);`;
  return spawnSync(process.execPath, [...flags, '--no-warnings', '--input-type=module', '-e', script], { encoding: 'utf8' });
}

describe('loading a model in a hardened Node', () => {
  it('--frozen-intrinsics (a frozen console, as SES lockdown leaves it): HDF5 files still load', () => {
    for (const file of ['k3_embed_stack.keras', 'k3_functional.h5']) {
      const r = loadIn(['--frozen-intrinsics'], file);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^loaded \S+ \d+\n$/);
      expect(r.status).toBe(0);
    }
  });

  it('--jitless (no WebAssembly): a path loads without touching fetch, which Node 20 and 22 cannot start there', () => {
    const r = loadIn(['--jitless'], 'k3_embed_stack.keras');
    // V8 itself says it turned WebAssembly off; nothing else may be printed.
    expect(r.stderr.replace(/^Warning: disabling flag --expose_wasm due to conflicting flags\n/, '')).toBe('');
    expect(r.stdout).toMatch(/^loaded embed_stack \d+\n$/);
    expect(r.status).toBe(0);
  });
});
