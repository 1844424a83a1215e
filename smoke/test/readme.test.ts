import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, expect, inject, it } from 'vitest';
import { describeWithApp, runInApp } from '../src/app-env.js';
import { extractBlocks, readmeFiles, runFileName, typeFileName, type ReadmeBlock } from '../src/readme-blocks.js';
import { repoRoot } from '../src/workspace.js';

const app = inject('smokeApp');
const describeApp = describeWithApp(app);
const blocks = readmeFiles().flatMap(extractBlocks);
const runnable = blocks.filter((b) => !b.fragment);

/**
 * Type errors a README block shows today because @gru/core's types are too loose, not because the
 * README is wrong. Another branch improves those types; after it merges, each entry here fails the
 * test ("no longer fails: remove it") until it is deleted. An entry names the README, a piece of the
 * offending source line, and the TypeScript error code.
 */
const CORE_TYPES = 'needs the core types from the types branch';
const TYPE_EXPECTATIONS: { readme: string; line: string; code: string; reason: string }[] = [
  // returnState: true should give a non-optional `state`.
  { readme: 'README.md', line: 'console.log(result.state.shape);', code: 'TS18048', reason: CORE_TYPES },
  { readme: 'packages/core/README.md', line: 'console.log(result.state.shape);', code: 'TS18048', reason: CORE_TYPES },
  // `states` is null before the first call of a stateful layer.
  { readme: 'README.md', line: 'console.log(gru.states[0].shape);', code: 'TS18047', reason: CORE_TYPES },
  // `reduce` on the Float32Array | Float64Array union (and so its callback's untyped parameters).
  { readme: 'README.md', line: 'losses.push(output.data.reduce(', code: 'TS2349', reason: CORE_TYPES },
  { readme: 'README.md', line: 'losses.push(output.data.reduce(', code: 'TS7006', reason: CORE_TYPES },
  // describeChoice should accept `lastChoice` before any call (undefined).
  { readme: 'README.md', line: 'console.log(describeChoice(gru.lastChoice));', code: 'TS2345', reason: CORE_TYPES },
  { readme: 'packages/core/README.md', line: 'console.log(describeChoice(gru.lastChoice));', code: 'TS2345', reason: CORE_TYPES },
  // A backend written as a plain JS object literal: `specVersion: GRU_BACKEND_SPEC_VERSION` widens to
  // number (core declares the constant without a literal type annotation), and its methods'
  // parameters are implicitly any. Core could fix both (`: 1` on the constant, a typed
  // `defineBackend(...)` helper to wrap the literal); the README cannot in JavaScript.
  { readme: 'conformance/README.md', line: 'supports(spec, call) {', code: 'TS7006', reason: 'untyped JS object literal: needs a typed helper from core' },
  { readme: 'conformance/README.md', line: 'prepare: (spec, weights) =>', code: 'TS7006', reason: 'untyped JS object literal: needs a typed helper from core' },
  { readme: 'conformance/README.md', line: 'registerBackend(backend);', code: 'TS2345', reason: 'specVersion widens to number: needs GRU_BACKEND_SPEC_VERSION typed as the literal 1 in core' },
  { readme: 'conformance/README.md', line: 'runConformance(backend);', code: 'TS2345', reason: 'specVersion widens to number (my-backend.mjs): needs GRU_BACKEND_SPEC_VERSION typed as the literal 1 in core' },
  { readme: 'conformance/README.md', line: 'describeConformance(backend);', code: 'TS2345', reason: 'specVersion widens to number (my-backend.mjs): needs GRU_BACKEND_SPEC_VERSION typed as the literal 1 in core' },
];

/** Dawn in Node finds the lavapipe (as in bundle.test.ts); the webgpu README's forced backend accepts it. */
const lavapipeIcd = join(repoRoot, 'packages', 'webgpu', '.vulkan', 'lvp_icd.json');
const runEnv: Record<string, string> = {
  ...(process.env.VK_ICD_FILENAMES ? { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES } : { VK_ICD_FILENAMES: lavapipeIcd, NODEVICE_SELECT: '1' }),
  GRU_WEBGPU_ALLOW_FALLBACK: '1',
};

const runDir = (b: ReadmeBlock) => join(app.dir, 'readme', b.folder);
const typeDir = join(app.dir, 'readme-types');
const diagnostics = new Map<string, { line: number; code: string; text: string; source: string }[]>();

describeApp('README code blocks, as a user copies them into the app', () => {
  beforeAll(() => {
    for (const b of runnable) {
      mkdirSync(runDir(b), { recursive: true });
      writeFileSync(join(runDir(b), runFileName(b)), b.code);
      mkdirSync(join(typeDir, b.folder), { recursive: true });
      writeFileSync(join(typeDir, b.folder, typeFileName(b)), b.code);
    }
    writeFileSync(
      join(typeDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], lib: ['es2022', 'dom'], skipLibCheck: true },
        include: ['**/*.mts'],
      }),
    );
    const r = runInApp(app, 'node', [join(app.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: typeDir });
    for (const m of r.stdout.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/gm)) {
      const file = relative(typeDir, join(typeDir, m[1]));
      const list = diagnostics.get(file) ?? [];
      const block = runnable.find((b) => join(b.folder, typeFileName(b)) === file);
      list.push({ line: Number(m[2]), code: m[3], text: m[4], source: block?.code.split('\n')[Number(m[2]) - 1]?.trim() ?? '' });
      diagnostics.set(file, list);
    }
    const unknown = [...diagnostics.keys()].filter((f) => !runnable.some((b) => join(b.folder, typeFileName(b)) === f));
    if (unknown.length || (r.status !== 0 && diagnostics.size === 0)) throw new Error(`tsc failed outside the README blocks:\n${r.log}`);
  });

  it('finds the blocks of every README', () => {
    expect(readmeFiles().length).toBeGreaterThanOrEqual(8);
    expect(runnable.length).toBeGreaterThan(15);
  });

  for (const b of runnable) {
    const title = `${b.id} (${runFileName(b)})`;
    it(`${title} runs`, () => {
      let file = runFileName(b);
      if (b.lang === 'ts') {
        // Node 20 runs no TypeScript: the app's esbuild strips the types, nothing else.
        const js = file.replace(/\.mts$/, '.run.mjs');
        const t = runInApp(app, join(app.dir, 'node_modules', '.bin', 'esbuild'), [file, '--format=esm', `--outfile=${js}`, '--log-level=warning'], { cwd: runDir(b) });
        expect(t.status, t.log).toBe(0);
        file = js;
      }
      const r = /\.test\.m?js$/.test(file)
        ? runInApp(app, 'node', [join(app.dir, 'node_modules', 'vitest', 'vitest.mjs'), 'run', file, '--root', '.'], { cwd: runDir(b), env: runEnv, timeoutMs: 600_000 })
        : runInApp(app, 'node', [file], { cwd: runDir(b), env: runEnv });
      expect(r.status, r.log).toBe(0);
    });

    it(`${title} type-checks under tsc --strict`, () => {
      const found = diagnostics.get(join(b.folder, typeFileName(b))) ?? [];
      const expected = TYPE_EXPECTATIONS.filter((e) => e.readme === b.readme && b.code.includes(e.line));
      const unexpected = found.filter((d) => !expected.some((e) => e.code === d.code && d.source.includes(e.line)));
      expect(unexpected.map((d) => `line ${d.line}: ${d.code} ${d.text}  [${d.source}]`)).toEqual([]);
      const fixed = expected.filter((e) => !found.some((d) => d.code === e.code && d.source.includes(e.line)));
      expect(fixed.map((e) => `${e.code} on '${e.line}' no longer fails: remove it from TYPE_EXPECTATIONS`)).toEqual([]);
    });
  }
});
