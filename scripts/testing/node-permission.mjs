// Node's permission model, for tests that run code under it in a child process (the flag's name
// changed: a test must not pass on one Node and fail on the next for that alone).
import { spawnSync } from 'node:child_process';

/** The flag that turns the model on in this Node: --permission (22+; 24 knows no other) or --experimental-permission (20). */
export const permissionFlag = ['--permission', '--experimental-permission'].find((f) => spawnSync(process.execPath, [f, '-e', '0']).status === 0);

/** `permissionFlag`, or a failure naming this Node where it has none. */
export function requirePermissionFlag() {
  if (permissionFlag === undefined) throw new Error(`this Node (${process.version}) has no permission model flag`);
  return permissionFlag;
}

/**
 * Runs the ES module source `script` in a child Node with the permission model on, allowed to
 * read only `allowRead`, with `flags` added (--allow-addons...). Returns spawnSync's result.
 */
export function runUnderPermission(script, { allowRead = [], flags = [], cwd, env } = {}) {
  const args = [requirePermissionFlag(), ...allowRead.map((p) => `--allow-fs-read=${p}`), ...flags, '--no-warnings', '--input-type=module', '-e', script];
  return spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
}
