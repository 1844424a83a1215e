import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWasmBackend, defaultWasmUrl, relaxedSimdAvailable } from '../src/index.js';

// Issue 15: the relaxed-SIMD builds (GEMM multiply-adds as f32x4.relaxed_madd) load where the
// engine has relaxed SIMD, the plain SIMD128 builds elsewhere. Node 20 has it only behind
// --experimental-wasm-relaxed-simd, so the relaxed path runs in a child Node with that flag: the
// kit in strict mode, and a check that one thread and two workers agree bitwise.

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const FLAG = '--experimental-wasm-relaxed-simd';
/** Node flags that give this Node relaxed SIMD ([] where it has it already), or undefined. */
const relaxedFlags = relaxedSimdAvailable() ? [] : spawnSync(process.execPath, [FLAG, '-e', '0']).status === 0 ? [FLAG] : undefined;
/** In CI the relaxed build must be checked: a Node without relaxed SIMD fails there instead of skipping. */
const mustCheckRelaxed = relaxedFlags !== undefined || (Boolean(process.env.CI) && process.env.CI !== 'false');

function flagsOrFail(): string[] {
  if (relaxedFlags === undefined) {
    throw new Error(`this Node (${process.version}) has no relaxed SIMD, not even with ${FLAG}; CI must run the relaxed-SIMD checks`);
  }
  return relaxedFlags;
}

describe('relaxed SIMD builds', () => {
  it('feature detection agrees with the engine compiling the relaxed build', () => {
    const bytes = readFileSync(fileURLToPath(defaultWasmUrl(false, true)));
    expect(relaxedSimdAvailable()).toBe(WebAssembly.validate(bytes));
    // The plain builds need only SIMD128 (and threads).
    expect(WebAssembly.validate(readFileSync(fileURLToPath(defaultWasmUrl(false, false))))).toBe(true);
  });

  it('the default backend loads the build the engine can run, and says which', async () => {
    const b = createWasmBackend({ name: 'wasm-isa-check' });
    expect(b.isa).toBeUndefined();
    await b.load();
    expect(b.isa).toBe(relaxedSimdAvailable() ? 'relaxed-simd128' : 'simd128');
    b.dispose();
    const plain = createWasmBackend({ name: 'wasm-plain-check', relaxedSimd: false });
    await plain.load();
    expect(plain.isa).toBe('simd128');
    plain.dispose();
  });

  it('relaxedSimd: a non-boolean is refused at once; true where the engine lacks it rejects at load, saying why', async () => {
    expect(() => createWasmBackend({ relaxedSimd: 'yes' as unknown as boolean })).toThrow(/relaxedSimd must be true, false or left out; received yes/);
    if (relaxedSimdAvailable()) return;
    await expect(createWasmBackend({ name: 'wasm-relaxed-forced', relaxedSimd: true }).load()).rejects.toThrow(/no WebAssembly relaxed SIMD/);
  });

  it.runIf(mustCheckRelaxed)(
    'in a Node with relaxed SIMD: relaxed build loaded, within tolerance of the reference backend and of the plain build, bitwise the same on 1 and 2 threads, stepped and whole, a row alone and in a batch',
    () => {
      const child = spawnSync(process.execPath, [...flagsOrFail(), join(pkg, 'test', 'fixtures', 'relaxed-check.mjs')], { cwd: pkg, encoding: 'utf8' });
      expect(child.status, child.stderr).toBe(0);
      const report = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}');
      expect(report).toMatchObject({ available: true, isa: 'relaxed-simd128', threadedIsa: 'relaxed-simd128', plainIsa: 'simd128', fallback: null });
      expect(report.cases).toHaveLength(3);
      for (const c of report.cases) {
        const what = `${JSON.stringify(c.options)}: max |relaxed - reference| ${c.maxAbsDiff}, max |relaxed - plain| ${c.maxAbsDiffFromPlain}`;
        expect(c, what).toMatchObject({ bitwiseOneVsTwoThreads: true, withinTolerance: true, withinToleranceOfPlain: true });
      }
      // Each build's one-row GEMV agrees bitwise with its other tiles: stream steps == one call, a row alone == its row of a batch.
      expect(report.consistency).toHaveLength(6);
      for (const c of report.consistency) expect(c, JSON.stringify(c)).toMatchObject({ streamBitwise: true, rowsBitwise: true });
    },
    120_000,
  );

  it.runIf(mustCheckRelaxed)(
    'in a Node with relaxed SIMD: the conformance kit passes in strict mode on the relaxed build',
    () => {
      const cli = join(pkg, '..', '..', 'conformance', 'bin', 'gru-conformance.mjs');
      const args = [...flagsOrFail(), cli, '--backend', './dist/index.js', '--strict', '--quiet', '--expectations', 'conformance.expectations.json'];
      const child = spawnSync(process.execPath, args, { cwd: pkg, encoding: 'utf8' });
      expect(child.status, `${child.stdout}\n${child.stderr}`).toBe(0);
      expect(child.stdout).toMatch(/backend checks: [1-9]\d* passed; .* 0 failed/);
    },
    300_000,
  );
});
