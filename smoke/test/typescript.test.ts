import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';
import { describeWithApp, runInApp } from '../src/app-env.js';

const app = inject('smokeApp');
const describeApp = describeWithApp(app);

/** The resolution modes a TypeScript user picks, with the files each one checks. */
const MODES = [
  { name: 'node16', module: 'node16', moduleResolution: 'node16', files: ['typed/app.mts', 'typed/app.cts'] },
  { name: 'nodenext', module: 'nodenext', moduleResolution: 'nodenext', files: ['typed/app.mts', 'typed/app.cts'] },
  // A bundler app writes ESM; CommonJS files are a Node-resolution concern.
  { name: 'bundler', module: 'esnext', moduleResolution: 'bundler', files: ['typed/app.mts'] },
  // Node's types only, no DOM lib: every package but @gru/webgpu (WebGPU's types build on the DOM's).
  { name: 'node-only', module: 'nodenext', moduleResolution: 'nodenext', files: ['typed/node-only.mts'], lib: ['es2022'] },
  // Legacy resolution (no `exports`): roots through `types`, subpaths through `typesVersions`.
  { name: 'node10', module: 'commonjs', moduleResolution: 'node', files: ['typed/node10.ts'], esModuleInterop: true },
];

describeApp('tsc --strict --noEmit of a typed program against the installed packages', () => {
  for (const mode of MODES) {
    it(`module/moduleResolution ${mode.name}: no type errors, and the types are real (the @ts-expect-error lines hold)`, () => {
      const config = `tsconfig.${mode.name}.json`;
      writeFileSync(
        join(app.dir, config),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'es2022',
            module: mode.module,
            moduleResolution: mode.moduleResolution,
            types: ['node'],
            lib: mode.lib ?? ['es2022', 'dom'],
            ...(mode.esModuleInterop ? { esModuleInterop: true } : {}),
            // The installed .d.ts files are checked too: a broken declaration fails here.
            skipLibCheck: false,
          },
          files: mode.files,
        }),
      );
      const r = runInApp(app, 'node', ['node_modules/typescript/bin/tsc', '-p', config]);
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status, r.log).toBe(0);
    });
  }
});
