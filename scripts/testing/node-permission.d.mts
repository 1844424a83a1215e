import type { SpawnSyncReturns } from 'node:child_process';

export const permissionFlag: string | undefined;
export function requirePermissionFlag(): string;
export function runUnderPermission(
  script: string,
  options?: { allowRead?: string[]; flags?: string[]; cwd?: string; env?: NodeJS.ProcessEnv },
): SpawnSyncReturns<string>;
