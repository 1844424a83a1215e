import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The built declarations name GPUDevice, GPU, GPURequestAdapterOptions...: a TypeScript user
 * must get them from the package (its dependency @webgpu/types) without adding anything, or tsc
 * stops at "Cannot find name 'GPUDevice'" inside dist/. Runs against dist/ (turbo builds first).
 */
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/types-consumer/', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const REFERENCE = '/// <reference types="@webgpu/types" />';

/** tsc's diagnostics for one fixture project ('' when it compiles). */
async function typeErrors(project: string): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', join(fixture, project)], { cwd: fixture });
    return '';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
  }
}

describe('the published type declarations stand alone', () => {
  for (const file of ['index.d.ts', 'index.d.cts']) {
    it(`dist/${file} references @webgpu/types`, () => {
      expect(readFileSync(join(dist, file), 'utf8').split('\n')[0]).toBe(REFERENCE);
    });
  }

  it('a consumer with no WebGPU types of its own compiles against dist/, from ESM and from CommonJS', async () => {
    // Two separate programs, so that one declaration file's reference cannot cover for the other's.
    const [esm, cjs] = await Promise.all([typeErrors('tsconfig.esm.json'), typeErrors('tsconfig.cjs.json')]);
    expect(esm).toBe('');
    expect(cjs).toBe('');
  }, 300_000);
});
