import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_REPRODUCTIONS, runErrorEntry } from '../src/core-cases.js';
import { bundledCasesDir } from '../src/expectations.js';
import { loadCaseFiles } from '../src/format.js';
import { judge } from '../src/judge.js';
import { translateKerasCode, Untranslatable } from '../src/python-code.js';

const cli = join(__dirname, '..', 'bin', 'gru-conformance.mjs');
const UNITS_MSG = (n: number) => `Received an invalid value for argument \`units\`, expected a positive integer, got ${n}.`;

describe('translating Keras code from errors.json', () => {
  it('reads constructor keyword arguments of Python literals, snake_case to camelCase', () => {
    expect(translateKerasCode('GRU(units=-5)')).toEqual({ layer: 'GRU', options: { units: -5 } });
    expect(
      translateKerasCode(
        `GRU(4, recurrent_dropout=1e-1, go_backwards=True, seed=None, name="g\\"1", kernel_initializer={'class_name': 'Zeros', 'config': {}}, x=(1, [2.5, 'a'],)) -> note`,
      ),
    ).toEqual({
      layer: 'GRU',
      options: {
        units: 4,
        recurrentDropout: 0.1,
        goBackwards: true,
        seed: null,
        name: 'g"1',
        kernelInitializer: { class_name: 'Zeros', config: {} },
        x: [1, [2.5, 'a']],
      },
    });
    // Arguments Keras does not know keep their spelling, so the error names them as Keras does.
    expect(translateKerasCode('GRUCell(2, bad_arg=1)').options).toEqual({ units: 2, bad_arg: 1 });
  });

  it('reads a call on the standard input x, inline or as a second statement', () => {
    expect(translateKerasCode('GRU(3)(x)')).toEqual({ layer: 'GRU', options: { units: 3 }, call: {} });
    expect(translateKerasCode('l = GRU(3, dropout=0.5); l(x, training=True)')).toEqual({
      layer: 'GRU',
      options: { units: 3, dropout: 0.5 },
      call: { training: true },
    });
  });

  it('refuses what needs arrays or is prose, saying why', () => {
    const reason = (code: string) => {
      try {
        translateKerasCode(code);
      } catch (err) {
        expect(err).toBeInstanceOf(Untranslatable);
        return (err as Error).message;
      }
      return 'translated';
    };
    expect(reason('GRU(4)(x, mask=np.ones((2, 5)))')).toBe('the call argument `mask=np.ones((2, 5))` needs a tensor (numpy array), not a Python literal');
    expect(reason('GRU(4)(x of shape (B, F))')).toMatch(/^the call's input `x of shape \(B, F\)` is not the standard input `x`/);
    expect(reason('GRU(4, kernel_initializer=Zeros())')).toBe('`Zeros()` is not a Python literal');
    expect(reason('GRU(4): set_weights with 2 arrays')).toMatch(/^the code goes on with `: set_weights with 2 arrays`/);
    expect(reason('GRU.from_config(cfg)')).toMatch(/is not a GRU\(\.\.\.\) or GRUCell\(\.\.\.\) constructor call/);
    expect(reason('GRUCell(4)(x)')).toBe('a GRUCell call needs state tensors (numpy arrays)');
  });
});

describe('errors.json entries without a hand-written reproduction', () => {
  const entry = (e: Record<string, unknown>) => ({ stage: 'constructor', raises: true, exception_type: 'ValueError', ...e }) as never;

  it('are judged from their code: the exception kind and exact message', () => {
    expect(runErrorEntry(entry({ name: 'new_units', code: 'GRU(units=-5)', message_core: UNITS_MSG(-5) })).status).toBe('passed');
    const wrongMessage = runErrorEntry(entry({ name: 'new_units_msg', code: 'GRU(units=-5)', message_core: UNITS_MSG(-6) }));
    expect(wrongMessage.status).toBe('failed');
    expect(wrongMessage.detail).toContain('Keras says');
    const wrongKind = runErrorEntry(entry({ name: 'new_units_kind', code: 'GRU(units=-5)', exception_type: 'TypeError', message_core: UNITS_MSG(-5) }));
    expect(wrongKind).toMatchObject({ status: 'failed', detail: 'new GRU({"units":-5}): threw ValueError, Keras raises TypeError' });
    const accepted = runErrorEntry(entry({ name: 'new_accepts', code: 'GRU(4)', message_core: 'x' }));
    expect(accepted.status).toBe('failed');
    expect(accepted.detail).toMatch(/did not throw; Keras raises ValueError/);
  });

  it('are judged when Keras accepts them: recorded config values and shapes are compared', () => {
    const ok = { stage: 'constructor', raises: false } as const;
    expect(runErrorEntry({ ...ok, name: 'n1', code: 'GRU(4, dropout=3)', result: { dropout: 1.0 } }).status).toBe('passed');
    expect(runErrorEntry({ ...ok, name: 'n2', code: 'GRU(4, dropout=3)', result: { dropout: 3 } }).status).toBe('failed');
    expect(runErrorEntry({ ...ok, name: 'n3', code: "GRU(3, activation='gelu', return_sequences=True)(x)", result: [2, 5, 3] }).status).toBe('passed');
    expect(runErrorEntry({ ...ok, name: 'n4', code: 'GRU(3)(x)', result: [2, 5, 3] }).status).toBe('failed');
  });

  it('that cannot be translated are unsupported, saying so (not "declared by the backend")', () => {
    const out = runErrorEntry(entry({ name: 'new_mask', code: 'GRU(4)(x, mask=np.ones((2, 6)))', raises: false, result: [2, 4] }));
    expect(out.status).toBe('unsupported');
    const judged = judge('error:new_mask', out, {});
    expect(judged.status).toBe('unsupported');
    expect(judged.detail).toBe(
      "not judged: @gru/conformance has no JS reproduction of 'new_mask', and its code `GRU(4)(x, mask=np.ones((2, 6)))` cannot be translated into gru's API (the call argument `mask=np.ones((2, 6))` needs a tensor (numpy array), not a Python literal)",
    );
    expect(judged.detail).not.toMatch(/declared by the backend/);
  });

  it('every shipped entry that translates is judged as Keras recorded it (except the documented 2.0 deviation)', () => {
    const translatable = loadCaseFiles(bundledCasesDir()).errorEntries.filter((e) => {
      try {
        translateKerasCode(e.code);
        return true;
      } catch {
        return false;
      }
    });
    expect(translatable.length).toBeGreaterThan(15);
    for (const e of translatable) {
      expect(ERROR_REPRODUCTIONS[e.name], e.name).toBeDefined();
      const generic = runErrorEntry({ ...e, name: `unseen_${e.name}` });
      expect(generic.status, `${e.name}: ${generic.detail}`).toBe(e.name === 'units_float_2.0' ? 'failed' : 'passed');
    }
  });

  it('the CLI judges unseen entries in a new cases directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gru-errors-'));
    const entries = [
      {
        name: 'units_-5',
        code: 'GRU(units=-5)',
        stage: 'constructor',
        raises: true,
        exception_type: 'ValueError',
        message: UNITS_MSG(-5),
        message_core: UNITS_MSG(-5),
      },
      {
        name: 'units_-7_other_message',
        code: 'GRU(units=-7)',
        stage: 'constructor',
        raises: true,
        exception_type: 'ValueError',
        message_core: 'units must be positive',
      },
      {
        name: 'cell_bad_kwarg',
        code: 'GRUCell(2, bad_arg=1)',
        stage: 'constructor',
        raises: true,
        exception_type: 'ValueError',
        message_core: "Unrecognized keyword arguments passed to GRUCell: {'bad_arg': 1}",
      },
      { name: 'mask_numpy', code: 'GRU(4)(x, mask=np.ones((2, 6)))', stage: 'call', raises: false, result: [2, 4] },
    ];
    writeFileSync(join(dir, 'errors.json'), JSON.stringify({ keras_version: '3.99.0', entries }));
    const r = spawnSync(process.execPath, [cli, '--backend', 'reference', '--cases', dir], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^PASS {2}error:units_-5 judged from its code as new GRU\(\{"units":-5\}\)$/m);
    expect(r.stdout).toMatch(/^PASS {2}error:cell_bad_kwarg/m);
    expect(r.stdout).toMatch(/^FAIL {2}error:units_-7_other_message new GRU\(\{"units":-7\}\): message ".*got -7\.", Keras says "units must be positive"$/m);
    expect(r.stdout).toMatch(/^UNSUP error:mask_numpy not judged: .*needs a tensor \(numpy array\), not a Python literal\)$/m);
    // The contract checks and the sweep against the reference run too: 44 backend checks (8 contract checks, 35 sweep calls,
    // the activation kinks); contract:backend-reload is skipped (the reference backend has no dispose(); listed in its expectations).
    expect(r.stdout.trim().split('\n').at(-1)).toBe('backend checks: 44 passed; core-only checks (no backend code): 2 passed; 1 failed, 2 skipped');
    expect(r.status).toBe(1);
  });
});
