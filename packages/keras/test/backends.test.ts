import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { listBackends, loadBackend, UnsupportedCallError } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../src/index.js';
import { expectClose, FIXTURES, readJson, SAVED, type JsonTensor } from './helpers.js';

/**
 * Loaded models predict as Keras did on every GRU backend this checkout has built. Backend
 * packages register themselves when imported; they are found beside this package (built by the
 * workspace's turbo run) rather than declared as dependencies, so that a backend that cannot
 * build on a machine (no compiler, no GPU) does not stop the loader's own tests. A backend that
 * is missing or cannot load here is listed with its reason, not counted as a pass.
 */
const here = dirname(fileURLToPath(import.meta.url));
const PACKAGES = ['cpu', 'wasm', 'webgpu', 'cudnn'];

const notAvailable: string[] = [];
for (const name of PACKAGES) {
  const entry = join(here, '..', '..', name, 'dist', 'index.js');
  if (!existsSync(entry)) {
    notAvailable.push(`@gru/${name}: not built in this checkout`);
    continue;
  }
  try {
    await import(pathToFileURL(entry).href);
  } catch (err) {
    notAvailable.push(`@gru/${name}: import failed: ${(err as Error).message.split('\n')[0]}`);
  }
}
const backends: string[] = [];
for (const backend of listBackends()) {
  try {
    await loadBackend(backend.name);
    backends.push(backend.name);
  } catch (err) {
    notAvailable.push(`${backend.name}: cannot load here: ${(err as Error).message.split('\n')[0]}`);
  }
}
if (notAvailable.length) console.log(`backends not run on this machine:\n  ${notAvailable.join('\n  ')}`);

const MODELS: { file: string; json: string; config?: boolean }[] = [
  { file: join(SAVED, 'gru_small.keras'), json: join(SAVED, 'gru_small.json') },
  { file: join(SAVED, 'gru_small_reset_before.keras'), json: join(SAVED, 'gru_small_reset_before.json') },
  { file: join(FIXTURES, 'k3_embed_stack.keras'), json: join(FIXTURES, 'k3_embed_stack.json') },
  { file: join(FIXTURES, 'k3_masked_bidir.keras'), json: join(FIXTURES, 'k3_masked_bidir.json') },
  { file: join(FIXTURES, 'k3_functional.keras'), json: join(FIXTURES, 'k3_functional.json') },
  { file: join(FIXTURES, 'k2_hard_sigmoid.h5'), json: join(FIXTURES, 'k2_hard_sigmoid.json') },
  { file: join(FIXTURES, 'tfjs_embed_bidir', 'model.json'), json: join(FIXTURES, 'tfjs_embed_bidir.json') },
];

describe('saved models on every available backend', () => {
  it('the reference backend is always available', () => {
    expect(backends).toContain('reference');
  });

  for (const backend of backends) {
    it(`${backend}: predicts within tolerance, or declines a layer with its reason`, async () => {
      let ran = 0;
      for (const m of MODELS) {
        const ref = readJson<{ inputs?: JsonTensor; input?: JsonTensor; expected?: JsonTensor[]; expected_prediction?: JsonTensor }>(m.json);
        const model = await loadModel(m.file, { backend });
        const input = (ref.input ?? ref.inputs) as JsonTensor;
        const want = (ref.expected?.[0] ?? ref.expected_prediction) as JsonTensor;
        try {
          expectClose(await model.predict(input), want, `${backend} on ${m.file}`);
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
