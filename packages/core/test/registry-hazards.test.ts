// Two copies of @gru/core in one process must share one backend registry: the ESM and CommonJS
// builds loaded side by side (the dual-package hazard), or two installed versions (a backend's
// nested copy). A backend built against another interface version is passed over with the reason.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = join(__dirname, '..', 'dist');

/** Runs an ES module script in a fresh Node process and returns what it printed, as JSON. */
function run(script: string): unknown {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`the script failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
}

/** A second installed copy of @gru/core's build in its own folder, optionally speaking another interface version. */
function secondCopy(specVersion?: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'gru-core-copy-'));
  cpSync(dist, join(dir, 'dist'), { recursive: true });
  if (specVersion !== undefined) {
    for (const f of ['index.js', 'index.cjs']) {
      const file = join(dir, 'dist', f);
      const text = readFileSync(file, 'utf8');
      const patched = text.replace(/GRU_BACKEND_SPEC_VERSION = 1;/, `GRU_BACKEND_SPEC_VERSION = ${specVersion};`);
      expect(patched).not.toBe(text);
      writeFileSync(file, patched);
    }
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@gru/core', version: '0.0.1', type: 'module' }));
  return dir;
}

/** A script body that registers a fake backend (priority 1000) through `reg` and runs a layer of `use`. */
const FAKE = `
function fake(core, specVersion) {
  return {
    specVersion, name: 'fake', priority: 1000,
    async load() {}, isLoaded: () => true, supports: () => true,
    prepare: (spec, w) => core.referenceBackend.prepare(spec, w),
  };
}
async function runLayer(core) {
  const r = await new core.GRU({ units: 2, seed: 1 }).forward([[[1, 2]]]);
  return { backend: r.backend, skipped: r.skipped };
}`;

describe('one backend registry per process', () => {
  it('ESM and CommonJS builds loaded side by side: a backend registered through one runs layers of the other', () => {
    const out = run(`
      import { createRequire } from 'node:module';
      ${FAKE}
      const cjs = createRequire(${JSON.stringify(join(dist, 'x.cjs'))})('./index.cjs');
      const esm = await import(${JSON.stringify(join(dist, 'index.js'))});
      cjs.registerBackend(fake(cjs, cjs.GRU_BACKEND_SPEC_VERSION));
      console.log(JSON.stringify({ esm: await runLayer(esm), listed: esm.listBackends().map((b) => b.name), sameRef: esm.getBackend('reference') === cjs.getBackend('reference') }));
    `) as { esm: { backend: string }; listed: string[]; sameRef: boolean };
    expect(out.esm.backend).toBe('fake');
    expect(out.listed).toEqual(['fake', 'reference']);
    expect(out.sameRef).toBe(true);
  });

  it('two installed copies of the same interface version share the registry', () => {
    const copy = secondCopy();
    const out = run(`
      ${FAKE}
      const top = await import(${JSON.stringify(join(dist, 'index.js'))});
      const nested = await import(${JSON.stringify(join(copy, 'dist', 'index.js'))});
      nested.registerBackend(fake(nested, nested.GRU_BACKEND_SPEC_VERSION));
      console.log(JSON.stringify(await runLayer(top)));
    `) as { backend: string };
    expect(out.backend).toBe('fake');
  });

  it('a backend registered through a copy that speaks another interface version: passed over, with the reason', () => {
    const copy = secondCopy(2);
    const out = run(`
      ${FAKE}
      const top = await import(${JSON.stringify(join(dist, 'index.js'))});
      const other = await import(${JSON.stringify(join(copy, 'dist', 'index.js'))});
      other.registerBackend(fake(other, 2));
      console.log(JSON.stringify(await runLayer(top)));
    `) as { backend: string; skipped: { name: string; reason: string }[] };
    expect(out.backend).toBe('reference');
    expect(out.skipped.find((s) => s.name === 'fake')?.reason).toBe(
      'it implements backend interface version 2, but the @gru/core running this layer implements version 1: two versions of @gru/core are installed (see `npm ls @gru/core`); install matching versions',
    );
  });

  it("a harness that resets the registry's global: later copies count their own map's writes, so selection sees what they register", () => {
    const copy = secondCopy();
    const out = run(`
      ${FAKE}
      await import(${JSON.stringify(join(dist, 'index.js'))});
      delete globalThis[Symbol.for('@gru/core:backend-registry')];
      const core = await import(${JSON.stringify(join(copy, 'dist', 'index.js'))});
      await runLayer(core);
      core.registerBackend(fake(core, core.GRU_BACKEND_SPEC_VERSION));
      console.log(JSON.stringify({ listed: core.listBackends().map((b) => b.name), ...(await runLayer(core)) }));
    `) as { listed: string[]; backend: string };
    // Before: the write counter was a global of its own that outlived the map, so 'fake' was missed.
    expect(out.listed).toEqual(['fake', 'reference']);
    expect(out.backend).toBe('fake');
  });

  it("the registry map's counting wrappers can be wrapped again (a spy, or a later copy of core) and still count", () => {
    const copy = secondCopy();
    const out = run(`
      ${FAKE}
      const top = await import(${JSON.stringify(join(dist, 'index.js'))});
      await runLayer(top);
      const map = globalThis[Symbol.for('@gru/core:backend-registry')];
      // What vi.spyOn(map, 'set') or a later core with another counting scheme does: it threw "Cannot redefine property: set".
      const sets = [];
      const inner = map.set;
      Object.defineProperty(map, 'set', { value: (k, v) => (sets.push(k), inner.call(map, k, v)), configurable: true, writable: true });
      delete globalThis[Symbol.for('@gru/core:backend-registry-writes')];
      const nested = await import(${JSON.stringify(join(copy, 'dist', 'index.js'))});
      nested.registerBackend(fake(nested, nested.GRU_BACKEND_SPEC_VERSION));
      console.log(JSON.stringify({ sets, listed: top.listBackends().map((b) => b.name), ...(await runLayer(top)) }));
    `) as { sets: string[]; listed: string[]; backend: string };
    expect(out.sets).toEqual(['fake']);
    expect(out.listed).toEqual(['fake', 'reference']);
    expect(out.backend).toBe('fake');
  });
});
