import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fileReadRefused } from '../src/index.js';
import { requirePermissionFlag } from '../../../scripts/testing/node-permission.mjs';

/** What Node's permission model throws when `file` is read outside --allow-fs-read (its own fields, from a real child). */
function refusedRead(file: string): Error {
  const script = join(mkdtempSync(join(tmpdir(), 'gru-read-refused-')), 'read.cjs');
  writeFileSync(
    script,
    `try { require('node:fs').readFileSync(${JSON.stringify(file)}); console.log('{}'); } catch (e) { console.log(JSON.stringify({ message: e.message, code: e.code, permission: e.permission, resource: e.resource })); }`,
  );
  const child = spawnSync(process.execPath, [requirePermissionFlag(), `--allow-fs-read=${script}`, '--no-warnings', script], { encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  const fields = JSON.parse(child.stdout) as { message: string };
  return Object.assign(new Error(fields.message), fields);
}

describe('fileReadRefused', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'gru-refused-file-')), 'model.keras');
  writeFileSync(file, 'x');

  it("names the file and the --allow-fs-read that allows it, for a read Node's permission model refused", () => {
    const err = refusedRead(file);
    expect(err).toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    expect(fileReadRefused(file, err)).toBe(
      `${file} cannot be read: Node's permission model is on and its --allow-fs-read does not cover it; run node with --allow-fs-read=${file} (or its folder: --allow-fs-read=${dirname(file)})`,
    );
  });

  it('says a file: URL as its path, and a relative path as the absolute one in the flag', () => {
    const err = refusedRead(file);
    expect(fileReadRefused(pathToFileURL(file), err)).toMatch(new RegExp(`^${file.replace(/[.\\]/g, '\\$&')} cannot be read: `));
    expect(fileReadRefused('models/m.keras', err)).toMatch(
      new RegExp(`^models/m\\.keras cannot be read: .*--allow-fs-read=${resolve('models/m.keras').replace(/[.\\]/g, '\\$&')} `),
    );
  });

  it('is undefined for any other error, including the permission model refusing something other than a read', () => {
    expect(fileReadRefused(file, Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBeUndefined();
    expect(
      fileReadRefused(file, Object.assign(new Error('Access to this API has been restricted'), { code: 'ERR_ACCESS_DENIED', permission: 'WorkerThreads' })),
    ).toBeUndefined();
    expect(fileReadRefused(file, undefined)).toBeUndefined();
    expect(fileReadRefused(file, 'a string')).toBeUndefined();
  });
});
