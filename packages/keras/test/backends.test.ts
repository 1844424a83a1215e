import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { listBackends, loadBackend, UnsupportedCallError } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
import { GRAPH, GRAPH_FIXTURES, graphFiles, graphInputs } from './graph-fixtures.js';
import { expectClose, expectedInOutputOrder, FIXTURES, readJson, SAVED, type JsonTensor } from './helpers.js';
import { TFJS_FIXTURES, TFJS_REAL } from './tfjs-fixtures.js';

/**
 * Loaded models predict as Keras did on every GRU backend. Backend packages register themselves
 * when imported; they are found beside this package (built by the workspace's turbo run) rather
 * than declared as dependencies, so that a backend that cannot build on a machine (no compiler,
 * no GPU) does not stop the loader's own tests. Each backend is one test: one that is missing or
 * cannot load here is a vitest skip with its reason, never a pass or a silent log line. In CI
 * (CI=true) the backends CI provides must load, or their test fails: cpu and wasm always, webgpu
 * when a Vulkan driver is configured (the pinned lavapipe that @gru/webgpu's setup:lavapipe
 * unpacks, which vitest.config.ts hands to Dawn through @gru/webgpu's own test set-up).
 */
const here = dirname(fileURLToPath(import.meta.url));
const PACKAGES = ['cpu', 'wasm', 'webgpu', 'cudnn'];
const EXPECTED_IN_CI = new Set(['cpu', 'wasm', ...(process.env.VK_ICD_FILENAMES ? ['webgpu'] : [])]);
const expected = (name: string) => name === 'reference' || (process.env.CI === 'true' && EXPECTED_IN_CI.has(name));

/** Why a backend did not load here, by backend (= package) name. */
const unavailable = new Map<string, string>();
for (const name of PACKAGES) {
  const entry = join(here, '..', '..', name, 'dist', 'index.js');
  if (!existsSync(entry)) {
    unavailable.set(name, `@gru/${name} is not built in this checkout (${entry} is missing)`);
    continue;
  }
  try {
    const mod = await import(pathToFileURL(entry).href);
    if (name === 'webgpu') {
      // Where there is no GPU, the adapter is lavapipe, a software (fallback) adapter: allow it, as @gru/webgpu's tests do.
      const setup = await import(pathToFileURL(join(here, '..', '..', 'webgpu', 'test', 'gpu-setup.ts')).href);
      setup.useSoftwareAdapterInTests(mod.backend);
    }
  } catch (err) {
    unavailable.set(name, `@gru/${name} failed to import: ${(err as Error).message.split('\n')[0]}`);
  }
}
const backendNames = [...new Set(['reference', ...PACKAGES, ...listBackends().map((b) => b.name)])];
for (const name of backendNames) {
  if (unavailable.has(name)) continue;
  if (!listBackends().some((b) => b.name === name)) {
    unavailable.set(name, `@gru/${name} was imported but registered no backend named '${name}'`);
    continue;
  }
  try {
    await loadBackend(name);
  } catch (err) {
    unavailable.set(name, `cannot load here: ${(err as Error).message.split('\n')[0]}`);
  }
}

const GRAPH_MODELS = GRAPH_FIXTURES.flatMap((f) => graphFiles(f).map((g) => ({ file: g.path, json: join(GRAPH, `${f.name}.json`), options: g.options })));

const MODELS: { file: string; json: string; options?: { config?: Record<string, unknown> } }[] = [
  { file: join(SAVED, 'gru_small.keras'), json: join(SAVED, 'gru_small.json') },
  { file: join(SAVED, 'gru_small_reset_before.keras'), json: join(SAVED, 'gru_small_reset_before.json') },
  { file: join(FIXTURES, 'k3_embed_stack.keras'), json: join(FIXTURES, 'k3_embed_stack.json') },
  { file: join(FIXTURES, 'k3_masked_bidir.keras'), json: join(FIXTURES, 'k3_masked_bidir.json') },
  { file: join(FIXTURES, 'k3_functional.keras'), json: join(FIXTURES, 'k3_functional.json') },
  { file: join(FIXTURES, 'k2_hard_sigmoid.h5'), json: join(FIXTURES, 'k2_hard_sigmoid.json') },
  { file: join(FIXTURES, 'tfjs_embed_bidir', 'model.json'), json: join(FIXTURES, 'tfjs_embed_bidir.json') },
  ...GRAPH_MODELS,
  ...TFJS_FIXTURES.map((f) => ({ file: join(TFJS_REAL, f.name, 'model.json'), json: join(TFJS_REAL, `${f.name}.json`) })),
];

describe('saved models on every backend', () => {
  for (const backend of backendNames) {
    it(`${backend}: predicts within tolerance, or declines a layer with its reason`, async (ctx) => {
      const reason = unavailable.get(backend);
      if (reason !== undefined) {
        if (expected(backend)) {
          throw new Error(
            `backend '${backend}' is expected here (${backend === 'reference' ? 'always' : `CI=true, expected: ${[...EXPECTED_IN_CI].join(', ')}`}) but did not load: ${reason}`,
          );
        }
        ctx.skip(`${backend} not run on this machine: ${reason}`);
      }
      let ran = 0;
      for (const m of MODELS) {
        const ref = readJson<{
          inputs?: JsonTensor | JsonTensor[];
          input?: JsonTensor;
          input_names?: string[];
          expected?: JsonTensor[];
          expected_prediction?: JsonTensor;
          output_names?: string[];
        }>(m.json);
        const model = await loadModel(m.file, { backend, ...m.options });
        const given = ref.input ?? ref.inputs;
        const input = ref.input_names
          ? graphInputs({ inputs: given as JsonTensor[], input_names: ref.input_names })
          : Array.isArray(given)
            ? given.length === 1
              ? given[0]
              : given
            : (given as JsonTensor);
        const want = expectedInOutputOrder(
          { expected: ref.expected ?? [ref.expected_prediction as JsonTensor], output_names: ref.output_names },
          model.outputKeys,
        );
        try {
          const got = await model.predictOutputs(input);
          expect(got.length, m.file).toBe(want.length);
          got.forEach((o, i) => expectClose(o, want[i], `${backend} on ${m.file}, output ${i}`));
          ran++;
        } catch (err) {
          // A backend may decline a configuration (an activation it lacks); it must say which and why.
          if (!(err instanceof UnsupportedCallError)) throw err;
          expect(err.backend).toBe(backend);
          expect(err.reason.length).toBeGreaterThan(0);
          console.log(`${backend} declined ${m.file}: ${err.reason}`);
        } finally {
          model.dispose();
        }
      }
      expect(ran, `${backend} ran none of the saved models`).toBeGreaterThan(0);
    });
  }
});
