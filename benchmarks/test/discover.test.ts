import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RUNNERS_DIR, discoverRunners, runnerFromModule, selectRunners } from '../src/discover.mjs';

const FIXTURES = fileURLToPath(new URL('./fixtures/runners/', import.meta.url));
const noop = async () => true;

describe('discoverRunners', () => {
  it('finds the reference backend runner in benchmarks/src/runners', async () => {
    const runners = await discoverRunners();
    const ref = runners.find((r) => r.name === 'gru:reference');
    expect(ref).toBeDefined();
    expect(ref?.kind).toBe('gru');
    expect(ref?.file.startsWith(DEFAULT_RUNNERS_DIR)).toBe(true);
    expect(typeof ref?.slow).toBe('function');
  });

  it('loads every .mjs of a directory, named or default exports, in file order', async () => {
    const runners = await discoverRunners(FIXTURES);
    expect(runners.map((r) => [r.name, r.kind])).toEqual([
      ['fake:broken', 'peer'],
      ['fake:gru', 'gru'],
      ['fake:peer', 'peer'],
      ['fake:unavailable', 'peer'],
    ]);
    expect(runners.find((r) => r.name === 'fake:peer')?.note).toBe('resetAfter=false | test only');
  });

  describe('with a scratch directory', () => {
    let dir = '';
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses two runners with one name, naming both files', async () => {
      dir = mkdtempSync(join(tmpdir(), 'gru-bench-'));
      const body = "export const name = 'dup'; export const kind = 'peer'; export const available = async () => true; export const setup = async () => 'no';\n";
      writeFileSync(join(dir, 'a.mjs'), body);
      writeFileSync(join(dir, 'b.mjs'), body);
      writeFileSync(join(dir, 'README.md'), 'not a runner');
      await expect(discoverRunners(dir)).rejects.toThrow("runner name 'dup' is used by both a.mjs and b.mjs");
    });

    it('names the file of a module that breaks the contract', async () => {
      dir = mkdtempSync(join(tmpdir(), 'gru-bench-'));
      writeFileSync(join(dir, 'bad.mjs'), "export const name = 'bad'; export const kind = 'gpu';\n");
      await expect(discoverRunners(dir)).rejects.toThrow(`runner module bad.mjs ('bad'): \`kind\` must be 'gru' or 'peer'; received "gpu".`);
    });
  });

  it('says which directory cannot be read', async () => {
    await expect(discoverRunners('/nonexistent/runners')).rejects.toThrow("runners directory '/nonexistent/runners' cannot be read");
  });
});

describe('runnerFromModule', () => {
  const ok = { name: 'x', kind: 'peer', available: noop, setup: noop };

  it('accepts named exports and a default-exported object', () => {
    expect(runnerFromModule(ok, 'x.mjs').name).toBe('x');
    expect(runnerFromModule({ default: { ...ok, name: 'y' } }, 'y.mjs').name).toBe('y');
  });

  it('reports each missing or mistyped field with the file name', () => {
    expect(() => runnerFromModule({ ...ok, name: '' }, 'r.mjs')).toThrow('runner module r.mjs: `name` must be a non-empty string; received "".');
    expect(() => runnerFromModule({ ...ok, setup: undefined }, 'r.mjs')).toThrow("runner module r.mjs ('x'): `setup` must be a function; received undefined.");
    expect(() => runnerFromModule({ ...ok, available: 'yes' }, 'r.mjs')).toThrow('`available` must be a function; received string.');
    expect(() => runnerFromModule({ ...ok, note: 3 }, 'r.mjs')).toThrow('`note` must be a string when present; received number.');
    expect(() => runnerFromModule({ ...ok, slow: true }, 'r.mjs')).toThrow('`slow` must be a function (shape) => boolean when present; received boolean.');
    expect(() => runnerFromModule({ ...ok, nodeFlags: '--expose-gc' }, 'r.mjs')).toThrow(
      `\`nodeFlags\` must be an array of '--flag' strings when present; received "--expose-gc".`,
    );
    expect(() => runnerFromModule({ ...ok, nodeFlags: ['--expose-gc', 'evil.js'] }, 'r.mjs')).toThrow('`nodeFlags` must be an array');
    expect(runnerFromModule({ ...ok, nodeFlags: ['--expose-gc'] }, 'r.mjs').nodeFlags).toEqual(['--expose-gc']);
  });
});

describe('selectRunners', () => {
  it('keeps the named runners in the order given', async () => {
    const runners = await discoverRunners(FIXTURES);
    expect(selectRunners(runners, 'fake:peer,fake:gru').map((r) => r.name)).toEqual(['fake:peer', 'fake:gru']);
    expect(selectRunners(runners, undefined)).toHaveLength(4);
  });

  it('names an unknown runner and lists the discovered ones', async () => {
    const runners = await discoverRunners(FIXTURES);
    expect(() => selectRunners(runners, 'gru:cpu')).toThrow(
      "--runners: no runner named 'gru:cpu'; discovered: fake:broken, fake:gru, fake:peer, fake:unavailable.",
    );
  });
});
