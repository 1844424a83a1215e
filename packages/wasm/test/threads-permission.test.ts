import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requirePermissionFlag } from '../../../scripts/testing/node-permission.mjs';

// Under Node's permission model without --allow-worker, `new Worker` throws ERR_ACCESS_DENIED.
// load() used to blame the file ("could not load gru-threads.wasm: Access to this API has been
// restricted"), though the file loaded fine.

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('threads under Node permission model', () => {
  it('a refused worker is named as the cause, with --allow-worker and threads: 1 as the ways out', () => {
    const child = spawnSync(process.execPath, [requirePermissionFlag(), '--allow-fs-read=*', join(pkg, 'test', 'fixtures', 'threads-permission.mjs')], {
      cwd: pkg,
      encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(0);
    const out = JSON.parse(child.stdout.trim().split('\n').at(-1) as string) as {
      two: { loaded: boolean; message?: string };
      one: { loaded: boolean; threads?: number };
    };
    expect(out.two.loaded).toBe(false);
    expect(out.two.message).toMatch(
      /^the wasm backend could not start 2 wasm worker threads: creating worker threads was refused \(.+\): Node's permission model is on, so run it with --allow-worker, or use threads: 1$/,
    );
    expect(out.two.message).not.toContain('gru-threads.wasm');
    expect(out.one).toEqual({ loaded: true, threads: 0 });
  });
});
