import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledCasesDir } from '../src/expectations.js';

const cli = join(__dirname, '..', 'bin', 'gru-conformance.mjs');
const repo = join(__dirname, '..', '..');
const run = (args: string[], env: Record<string, string> = {}, cwd?: string) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, cwd });
const lastLine = (s: string) => s.trim().split('\n').at(-1);
/** The summary's last line: backend checks and core-only checks counted apart. */
const counts = (backend: number, core: number, failed: number, skipped: number) =>
  `backend checks: ${backend} passed; core-only checks (no backend code): ${core} passed; ${failed} failed, ${skipped} skipped`;

function caseDir(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'gru-cases-'));
  for (const n of names) copyFileSync(join(bundledCasesDir(), `${n}.json`), join(dir, `${n}.json`));
  return dir;
}

describe('gru-conformance CLI', () => {
  it('a backend that cannot load here: the reason once, no case counted as failed, exit code 3', async () => {
    const fixture = join(__dirname, 'fixtures', 'unavailable-backend.mjs');
    const { REASON } = await import(fixture);
    const r = run(['--backend', fixture]);
    expect(r.status).toBe(3);
    expect(r.stdout.split(REASON).length - 1).toBe(1);
    expect(r.stdout).toMatch(/^Backend 'unavailable' is unavailable here, so none of its \d+ cases ran: no CUDA driver: /m);
    expect(r.stdout).not.toMatch(/^FAIL/m);
    expect(lastLine(r.stdout)).toBe(counts(0, 0, 0, 0));
  });

  it('runs the shipped cases on the reference backend and ends with the counts', () => {
    const r = run(['--backend', 'reference', '--only', 'defaults_last,mask_holes_seq_state,grad_cell']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}defaults_last/m);
    expect(r.stdout).toMatch(/^PASS {2}grad_cell:grads/m);
    expect(lastLine(r.stdout)).toBe(counts(4, 0, 0, 0));
  });

  it('judges cases it has never seen, including a wrong one, from any directory', () => {
    const dir = caseDir(['defaults_seq', 'act_gelu']);
    const renamed = JSON.parse(readFileSync(join(dir, 'defaults_seq.json'), 'utf8'));
    renamed.name = 'brand_new_case';
    writeFileSync(join(dir, 'brand_new_case.json'), JSON.stringify(renamed));
    const wrong = JSON.parse(readFileSync(join(dir, 'act_gelu.json'), 'utf8'));
    wrong.name = 'wrong_expected_values';
    wrong.outputs[0].data[3] += 0.01;
    writeFileSync(join(dir, 'wrong_expected_values.json'), JSON.stringify(wrong));
    const jsonPath = join(dir, 'report.out');
    const r = run(['--backend', 'reference', '--cases', dir, '--json', jsonPath]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^PASS {2}brand_new_case/m);
    expect(r.stdout).toMatch(/^FAIL {2}wrong_expected_values forward: outputs\[0\] at \[0, 1, 1\] of shape \[2, 8, 2\]: .* 1 of 32 elements out of tolerance/m);
    // suite:no-leak and contract:backend-reload are skipped: the reference backend holds no native
    // memory to check, and has no dispose(). 3 Keras cases, 8 contract checks, the 35-call sweep and
    // the activation kinks.
    expect(lastLine(r.stdout)).toBe(counts(47, 0, 1, 2));
    const report = JSON.parse(readFileSync(jsonPath, 'utf8'));
    expect(report.results.map((x: { name: string }) => x.name)).toContain('brand_new_case');
  });

  it('refuses a case in a newer format with a clear message', () => {
    const dir = caseDir(['defaults_last']);
    const c = JSON.parse(readFileSync(join(dir, 'defaults_last.json'), 'utf8'));
    writeFileSync(join(dir, 'defaults_last.json'), JSON.stringify({ ...c, format_version: 99 }));
    const r = run(['--backend', 'reference', '--cases', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/case format version 99 is newer than this runner understands \(1\)/);
  });

  it('loads a third-party backend from a module path and reports what it declines, by name and reason', () => {
    const fixture = join(__dirname, 'fixtures', 'declining-backend.mjs');
    const r = run(['--backend', fixture, '--only', 'defaults_last,backwards_seq,f64_cell']);
    expect(r.stdout).toMatch(/^PASS {2}defaults_last/m);
    expect(r.stdout).toMatch(/^UNSUP backwards_seq goBackwards is not implemented by the declining backend/m);
    expect(r.stdout).toMatch(/^UNSUP f64_cell float64 is not implemented by the declining backend/m);
    expect(lastLine(r.stdout)).toBe(counts(1, 0, 0, 2));
    expect(r.status).toBe(0);
  });

  it('--strict fails on skips the expectations do not list, and passes once they are listed', () => {
    const fixture = join(__dirname, 'fixtures', 'declining-backend.mjs');
    const args = ['--backend', fixture, '--only', 'defaults_last,backwards_seq', '--strict'];
    const r = run(args);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      /^--strict refuses this run on 'declining':\n {2}backwards_seq was skipped but is not listed in the expectations: goBackwards is not implemented/m,
    );
    const expectations = join(mkdtempSync(join(tmpdir(), 'gru-exp-')), 'exp.json');
    writeFileSync(expectations, JSON.stringify({ unsupported: [{ reason: 'no goBackwards yet', cases: ['backwards_seq'] }] }));
    const listed = run([...args, '--expectations', expectations]);
    expect(listed.stdout).not.toMatch(/--strict refuses/);
    expect(listed.status).toBe(0);
  });

  it('--strict fails a backend that declines everything, though every core-only check passes', () => {
    const fixture = join(__dirname, 'fixtures', 'declining-backend.mjs');
    const expectations = join(mkdtempSync(join(tmpdir(), 'gru-exp-')), 'exp.json');
    writeFileSync(expectations, JSON.stringify({ unsupported: [{ reason: 'no goBackwards yet', cases: ['backwards_seq'] }] }));
    const r = run(['--backend', fixture, '--only', 'backwards_seq,error:units_0', '--strict', '--expectations', expectations]);
    expect(r.stdout).toMatch(/^ {2}no backend case ran on 'declining'/m);
    expect(lastLine(r.stdout)).toBe(counts(0, 1, 0, 1));
    expect(r.status).toBe(1);
  });

  it('fails a backend whose numbers are off, and an expectations file cannot hide a passing case', () => {
    const fixture = join(__dirname, 'fixtures', 'declining-backend.mjs');
    const wrong = run(['--backend', fixture, '--only', 'defaults_seq'], { GRU_FAKE_WRONG: '1' });
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toMatch(/^FAIL {2}defaults_seq forward: outputs\[0\] at \[0, 0, 0\] of shape \[4, 8, 7\]/m);
    const expectations = join(mkdtempSync(join(tmpdir(), 'gru-exp-')), 'exp.json');
    writeFileSync(expectations, JSON.stringify({ unsupported: { defaults_last: 'pretend' } }));
    const r = run(['--backend', fixture, '--only', 'defaults_last', '--expectations', expectations]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/unexpected pass: listed as unsupported \(pretend\)/);
  });

  it('prints usage errors for bad arguments', () => {
    expect(run([]).stderr).toMatch(/--backend is required/);
    expect(run(['--backend', 'reference', '--bogus', '1']).stderr).toMatch(/Unknown option --bogus\./);
    // Last on the line, it is still unknown, not short of a value.
    const last = run(['--backend', 'reference', '--bogus-flag']);
    expect(last.stderr).toMatch(/^Unknown option --bogus-flag\./);
    expect(last.status).toBe(2);
    expect(run(['--backend', 'no-such-backend']).stderr).toMatch(/Cannot load backend 'no-such-backend'/);
    expect(execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' })).toMatch(/Usage: gru-conformance/);
  });

  it('resolves --backend cpu from the directory it runs in (pnpm: packages/cpu), not from @gru/conformance', () => {
    const r = run(['--backend', 'cpu', '--only', 'defaults_last'], {}, join(repo, 'packages', 'cpu'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^PASS {2}defaults_last/m);
    expect(r.stdout).toMatch(/^backend: cpu;/m);
    expect(lastLine(r.stdout)).toBe(counts(1, 0, 0, 0));
    expect(r.status).toBe(0);
  });

  it("finds a backend's expectations beside it, in its package's conformance.expectations.json (--strict accepts its listed gaps)", () => {
    const r = run(['--backend', 'cpu', '--only', 'f64_cell,defaults_last', '--strict'], {}, join(repo, 'packages', 'cpu'));
    expect(r.stdout).toMatch(/^UNSUP f64_cell the cpu backend computes in float32 only/m);
    expect(r.stdout).not.toMatch(/--strict refuses/);
    expect(lastLine(r.stdout)).toBe(counts(1, 0, 0, 1));
    expect(r.status).toBe(0);
  });

  it('resolves --backend wasm through node_modules of the current directory (a project depending on @gru/wasm)', () => {
    const project = mkdtempSync(join(tmpdir(), 'gru-project-'));
    mkdirSync(join(project, 'node_modules', '@gru'), { recursive: true });
    symlinkSync(join(repo, 'packages', 'wasm'), join(project, 'node_modules', '@gru', 'wasm'), 'dir');
    for (const spec of ['wasm', '@gru/wasm']) {
      const r = run(['--backend', spec, '--only', 'defaults_last'], {}, project);
      expect(r.stderr, spec).toBe('');
      expect(r.stdout, spec).toMatch(/^backend: wasm;/m);
      expect(lastLine(r.stdout), spec).toBe(counts(1, 0, 0, 0));
    }
  });

  it("resolves a third-party package by name with its exports' import condition", () => {
    const project = mkdtempSync(join(tmpdir(), 'gru-project-'));
    const pkgDir = join(project, 'node_modules', 'my-gru-backend');
    mkdirSync(join(pkgDir, 'esm'), { recursive: true });
    writeFileSync(
      join(pkgDir, 'package.json'),
      JSON.stringify({ name: 'my-gru-backend', type: 'module', exports: { '.': { require: './missing.cjs', import: './esm/index.js' } } }),
    );
    writeFileSync(join(pkgDir, 'esm', 'index.js'), `export { backend } from ${JSON.stringify(join(__dirname, 'fixtures', 'declining-backend.mjs'))};\n`);
    const r = run(['--backend', 'my-gru-backend', '--only', 'defaults_last,backwards_seq'], {}, project);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^UNSUP backwards_seq goBackwards is not implemented by the declining backend/m);
    expect(lastLine(r.stdout)).toBe(counts(1, 0, 0, 1));
  });

  it("finds a backend package and its expectations where only Node's resolver hooks reach it (yarn PnP: no node_modules)", () => {
    // `--backend pnp-like` means @gru/pnp-like, as `--backend cpu` means @gru/cpu. The package sits
    // outside any node_modules, as in yarn's cache; only the hooks map its name.
    const pkgDir = mkdtempSync(join(tmpdir(), 'gru-pnp-package-'));
    writeFileSync(
      join(pkgDir, 'package.json'),
      JSON.stringify({ name: '@gru/pnp-like', type: 'module', exports: { '.': './index.mjs', './package.json': './package.json' } }),
    );
    const fixture = JSON.stringify(join(__dirname, 'fixtures', 'declining-backend.mjs'));
    writeFileSync(join(pkgDir, 'index.mjs'), `import { backend as b } from ${fixture};\nexport const backend = { ...b, name: 'pnp-like' };\n`);
    const expectations = join(pkgDir, 'conformance.expectations.json');
    writeFileSync(expectations, JSON.stringify({ backend: 'pnp-like', unsupported: [{ reason: 'no goBackwards yet', cases: ['backwards_seq'] }] }));
    const project = mkdtempSync(join(tmpdir(), 'gru-pnp-project-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', dependencies: { '@gru/pnp-like': '1.0.0' } }));
    const r = spawnSync(
      process.execPath,
      [
        '--require',
        join(__dirname, 'fixtures', 'pnp-like', 'hook.cjs'),
        cli,
        '--backend',
        'pnp-like',
        '--only',
        'defaults_last,backwards_seq',
        '--strict',
        '--quiet',
      ],
      { encoding: 'utf8', cwd: project, env: { ...process.env, GRU_TEST_PNP_PACKAGES: JSON.stringify({ '@gru/pnp-like': pkgDir }) } },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`expectations: ${expectations}\n`);
    expect(r.stdout).not.toMatch(/--strict refuses/);
    expect(r.status).toBe(0);
  });

  it('says where it looked when a backend package cannot be found', () => {
    const project = mkdtempSync(join(tmpdir(), 'gru-project-'));
    // Without NODE_PATH, which Node's resolver reads: pnpm's vitest shim points it at this workspace's packages.
    const env = { ...process.env, NODE_PATH: undefined };
    const r = spawnSync(process.execPath, [cli, '--backend', 'cpu'], { encoding: 'utf8', env, cwd: project });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`Cannot load backend 'cpu': package '@gru/cpu' was not found from the current directory ${project}`);
    expect(r.stderr).toContain(join(project, 'node_modules', '@gru', 'cpu'));
    expect(r.stderr).toContain(`require.resolve('@gru/cpu/package.json') from ${project}: Cannot find module '@gru/cpu/package.json'`);
    expect(r.stderr).toMatch(/importing it from @gru\/conformance \(.*\) failed too/);
  });

  /** A third party's package: package.json, its backend module (the declining fixture under `name`, at `priority`), and maybe its expectations. */
  function thirdParty(expectations?: unknown, backend: { name?: string; priority?: number; prepareSync?: boolean } = {}): string {
    const project = mkdtempSync(join(tmpdir(), 'gru-third-party-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-backend', type: 'module' }));
    const fixture = JSON.stringify(join(__dirname, 'fixtures', 'declining-backend.mjs'));
    const sync = backend.prepareSync ? `, prepareSync() { throw new Error('the backend under test ran'); }` : '';
    writeFileSync(
      join(project, 'my-backend.mjs'),
      `import { backend as b } from ${fixture};\nexport const backend = { ...b, name: ${JSON.stringify(backend.name ?? 'my-backend')}, priority: ${backend.priority ?? -1}${sync} };\n`,
    );
    if (expectations !== undefined) writeFileSync(join(project, 'conformance.expectations.json'), JSON.stringify(expectations));
    return project;
  }

  it("finds a third-party backend's conformance.expectations.json at the root of the package its module is in, and says which file it used", () => {
    const project = thirdParty({ backend: 'my-backend', unsupported: [{ reason: 'no goBackwards yet', cases: ['backwards_seq'] }] });
    const r = run(['--backend', './my-backend.mjs', '--only', 'defaults_last,backwards_seq', '--strict', '--quiet'], {}, project);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`expectations: ${join(project, 'conformance.expectations.json')}\n`);
    expect(r.stdout).not.toMatch(/--strict refuses/);
    expect(r.status).toBe(0);
    const none = run(['--backend', './my-backend.mjs', '--only', 'defaults_last', '--quiet'], {}, thirdParty());
    expect(none.stdout).toMatch(/^expectations: none \(no expectations file at .*conformance\.expectations\.json/m);
  });

  it("finds the expectations past a build's marker package.json (dist/esm/package.json with only a type, as tshy writes)", () => {
    const project = thirdParty({ backend: 'my-backend', unsupported: [{ reason: 'no goBackwards yet', cases: ['backwards_seq'] }] });
    mkdirSync(join(project, 'dist', 'esm'), { recursive: true });
    writeFileSync(join(project, 'dist', 'esm', 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(project, 'dist', 'esm', 'index.mjs'), readFileSync(join(project, 'my-backend.mjs'), 'utf8'));
    // Run from elsewhere: only the module's own package can tell where its expectations are.
    const elsewhere = mkdtempSync(join(tmpdir(), 'gru-elsewhere-'));
    const r = run(['--backend', join(project, 'dist', 'esm', 'index.mjs'), '--only', 'defaults_last,backwards_seq', '--strict', '--quiet'], {}, elsewhere);
    expect(r.stdout).toContain(`expectations: ${join(project, 'conformance.expectations.json')}\n`);
    expect(r.status).toBe(0);
  });

  it('with cases of its own (--cases), entries naming bundled cases are not stale: --strict accepts the run', () => {
    const project = thirdParty({ backend: 'my-backend', unsupported: [{ reason: 'no goBackwards yet', cases: ['backwards_seq'] }] });
    const cases = join(project, 'my-cases');
    mkdirSync(cases);
    copyFileSync(join(__dirname, '..', 'cases', 'keras-3.15.1', 'defaults_last.json'), join(cases, 'defaults_last.json'));
    const r = run(['--backend', './my-backend.mjs', '--cases', cases, '--only', 'defaults_last', '--strict', '--quiet'], {}, project);
    expect(r.stdout).not.toMatch(/no check of this run/);
    expect(r.stdout).not.toMatch(/--strict refuses/);
    expect(r.status).toBe(0);
  });

  it('refuses an expectations file with an unknown key or for another backend, naming the mistake (exit code 2)', () => {
    const typo = run(['--backend', './my-backend.mjs', '--only', 'defaults_last'], {}, thirdParty({ unsuported: [{ reason: 'x', cases: ['backwards_seq'] }] }));
    expect(typo.stderr).toMatch(/conformance\.expectations\.json': unknown key\(s\) 'unsuported'; expected 'backend', 'unsupported' and 'failing'\./);
    expect(typo.status).toBe(2);
    const groupTypo = run(
      ['--backend', './my-backend.mjs', '--only', 'defaults_last'],
      {},
      thirdParty({ unsupported: [{ reason: 'x', case: ['backwards_seq'] }] }),
    );
    expect(groupTypo.stderr).toMatch(/'unsupported\[0\]': unknown key\(s\) 'case'/);
    expect(groupTypo.status).toBe(2);
    const other = run(['--backend', './my-backend.mjs', '--only', 'defaults_last'], {}, thirdParty({ backend: 'cpu', unsupported: [] }));
    expect(other.stderr).toMatch(/are for backend 'cpu', not 'my-backend'/);
    expect(other.status).toBe(2);
  });

  it("takes a file given with --expectations for another instance of its backend (a package's own file, the backend registered under another name)", () => {
    const project = thirdParty(
      { backend: 'my-backend', unsupported: [{ reason: 'no goBackwards yet', cases: ['backwards_seq'] }] },
      { name: 'my-backend-threads' },
    );
    const file = join(project, 'conformance.expectations.json');
    const r = run(['--backend', './my-backend.mjs', '--expectations', file, '--only', 'defaults_last,backwards_seq', '--strict', '--quiet'], {}, project);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`expectations: ${file}\n`);
    expect(r.status).toBe(0);
  });

  it('warns about expectations entries that name no check, and --strict refuses them', () => {
    const project = thirdParty({
      unsupported: [
        { reason: 'no goBackwards yet', cases: ['backwards_seq', 'backwards_seqq'] },
        { reason: 'gone', match: '^no_such_prefix_' },
      ],
    });
    const r = run(['--backend', './my-backend.mjs', '--only', 'defaults_last,backwards_seq', '--quiet'], {}, project);
    expect(r.stdout).toMatch(/^WARNING expectations: 'unsupported' lists 'backwards_seqq', which is no check of this run$/m);
    expect(r.stdout).toMatch(/^WARNING expectations: 'unsupported' match "\^no_such_prefix_" matches no check of this run$/m);
    expect(r.status).toBe(0);
    const strict = run(['--backend', './my-backend.mjs', '--only', 'defaults_last,backwards_seq', '--quiet', '--strict'], {}, project);
    expect(strict.stdout).toMatch(/^--strict refuses this run on 'my-backend':\n {2}expectations .*: 'unsupported' lists 'backwards_seqq'/m);
    expect(strict.status).toBe(1);
  });

  it('--only with a name that is no check: names it, exit code 2', () => {
    const r = run(['--backend', 'reference', '--only', 'defaults_last,no_such_case']);
    expect(r.stderr).toMatch(/^--only names no check: 'no_such_case'\./);
    expect(r.status).toBe(2);
  });

  it('without --strict, says loudly that nothing about a backend that declined everything was checked (exit code stays 0)', () => {
    const fixture = join(__dirname, 'fixtures', 'declining-backend.mjs');
    const r = run(['--backend', fixture, '--only', 'backwards_seq,error:units_0']);
    expect(r.stdout).toMatch(
      /^WARNING: no backend check ran on 'declining': it declined or skipped every backend check, so nothing about the backend was checked/m,
    );
    expect(lastLine(r.stdout)).toBe(counts(0, 1, 0, 1));
    expect(r.status).toBe(0);
  });

  it('--only naming core-only checks alone says so, not that the backend declined them', () => {
    const r = run(['--backend', 'reference', '--only', 'error:units_0']);
    expect(r.stdout).toMatch(/^WARNING: no backend check ran on 'reference': the checks selected \(--only\) are all core-only, so nothing/m);
    expect(r.stdout).not.toMatch(/declined/);
    expect(r.status).toBe(0);
    const strict = run(['--backend', 'reference', '--only', 'error:units_0', '--strict']);
    expect(strict.stdout).toMatch(/^ {2}no backend case ran on 'reference' \(the checks selected \(--only\) are all core-only\)/m);
    expect(strict.status).toBe(1);
  });

  it('core-only checks run on the reference backend, never on a backend under test with a higher priority', () => {
    const project = thirdParty(undefined, { name: 'eager', priority: 100, prepareSync: true });
    const r = run(['--backend', './my-backend.mjs', '--only', 'error:mask_float_0_1,error:feature_change_after_build', '--quiet'], {}, project);
    expect(r.stdout).not.toMatch(/the backend under test ran/);
    expect(lastLine(r.stdout)).toBe(counts(0, 2, 0, 0));
    expect(r.status).toBe(0);
  });
});
