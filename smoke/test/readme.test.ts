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
 * Type errors a README block shows for a known reason other than the README being wrong. An entry
 * that stops failing fails the test ("no longer fails: remove it") until it is deleted. An entry
 * names the README, a piece of the offending source line, and the TypeScript error code.
 */
const TYPE_EXPECTATIONS: { readme: string; line: string; code: string; reason: string }[] = [];

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
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          types: ['node'],
          lib: ['es2022', 'dom'],
          skipLibCheck: true,
          allowJs: true,
          checkJs: true,
        },
        include: ['**/*.mts', '**/*.mjs'],
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
        const t = runInApp(app, join(app.dir, 'node_modules', '.bin', 'esbuild'), [file, '--format=esm', `--outfile=${js}`, '--log-level=warning'], {
          cwd: runDir(b),
        });
        expect(t.status, t.log).toBe(0);
        file = js;
      }
      const r = /\.test\.m?js$/.test(file)
        ? runInApp(app, 'node', [join(app.dir, 'node_modules', 'vitest', 'vitest.mjs'), 'run', file, '--root', '.'], {
            cwd: runDir(b),
            env: runEnv,
            timeoutMs: 600_000,
          })
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
