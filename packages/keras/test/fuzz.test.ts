import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers.js';

/**
 * Seeded mutations of real model files (bit flips, huge declared sizes, byte runs, truncation,
 * splices; for model.json also number, key and character mutations): every mutated input must
 * either load (and then predict, or refuse the prediction with an Error) or be refused with an
 * Error that has a message. Each target runs in a worker thread with a memory cap and a
 * deadline, so a hang or a runaway allocation fails the test instead of stalling CI.
 * Deterministic: the same seeds give the same inputs on every run.
 */
const here = dirname(fileURLToPath(import.meta.url));
const DIST = join(here, '..', 'dist', 'index.js');
const WORKER = join(here, 'fuzz-worker.mjs');

/** Per-input bound: parsing a 30 KB file takes milliseconds; seconds would mean a loop ran away. */
const MAX_INPUT_MS = 60_000; // generous: 2 shared cores, busy with a parallel CI run and more
/** Per-target deadline: catches a runaway loop, with room for a machine loaded several times over. */
const DEADLINE_MS = 480_000;
/** Heap cap for a worker: far above what 30 KB inputs may legitimately need. */
const HEAP_MB = 512;

interface Target {
  kind: 'binary' | 'tfjs' | 'config';
  file: string;
  json: string;
  count: number;
  seed: number;
  configFrom?: string;
  shards?: string[];
}

interface Stats {
  count: number;
  loaded: number;
  refused: number;
  slowestMs: number;
  problems: string[];
  messages: Record<string, number>;
}

function runTarget(target: Target, deadlineMs = DEADLINE_MS): Promise<Stats> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: { dist: DIST, fixtures: FIXTURES, target }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
    let last = -1;
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`${target.file}: input #${last} (seed ${target.seed}) did not finish within the ${deadlineMs} ms deadline`));
    }, deadlineMs);
    worker.on('message', (m: { progress?: number; done?: Stats }) => {
      if (m.progress !== undefined) last = m.progress;
      if (m.done) {
        clearTimeout(timer);
        void worker.terminate();
        resolve(m.done);
      }
    });
    worker.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${target.file}: the worker died at input #${last} (seed ${target.seed}): ${err.message}`));
    });
  });
}

async function fuzz(target: Target): Promise<void> {
  const stats = await runTarget(target);
  const top = Object.entries(stats.messages)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  console.log(
    `${target.file}: ${stats.count} inputs, ${stats.loaded} loaded, ${stats.refused} refused, slowest ${stats.slowestMs.toFixed(1)} ms; ` +
      `top errors: ${top.map(([m, n]) => `${n}x ${m}`).join(' | ')}`,
  );
  expect(stats.problems, 'inputs that failed without a proper Error').toEqual([]);
  expect(stats.loaded + stats.refused).toBe(target.count);
  expect(stats.refused, 'mutations that had to be refused').toBeGreaterThan(target.count / 10);
  expect(stats.slowestMs).toBeLessThan(MAX_INPUT_MS);
}

describe('fuzz: mutated files load or fail with an Error, quickly and in bounded memory', () => {
  it('the built package exists (the workspace builds before testing)', () => {
    expect(existsSync(DIST), `${DIST} is missing: run the build first`).toBe(true);
  });

  it('.keras archives (zip + HDF5 + JSON)', async () => {
    await fuzz({ kind: 'binary', file: 'k3_embed_stack.keras', json: 'k3_embed_stack.json', count: 700, seed: 1 });
  }, 600_000);

  it('legacy Keras 2 .h5 models', async () => {
    await fuzz({ kind: 'binary', file: 'k2_embed_bidir.h5', json: 'k2_embed_bidir.json', count: 600, seed: 2 });
  }, 600_000);

  it('legacy Keras 3 .h5 models', async () => {
    await fuzz({ kind: 'binary', file: 'k3_functional.h5', json: 'k3_functional.json', count: 300, seed: 3 });
  }, 600_000);

  it('.weights.h5 with a config', async () => {
    await fuzz({ kind: 'binary', file: 'k3_functional.weights.h5', json: 'k3_functional.json', count: 400, seed: 4, configFrom: 'k3_functional.json' });
  }, 600_000);

  it('TF.js model.json and shards', async () => {
    await fuzz({
      kind: 'tfjs',
      file: 'tfjs_embed_bidir',
      json: 'tfjs_embed_bidir.json',
      count: 800,
      seed: 5,
      shards: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
    });
  }, 600_000);

  it('TF.js model.json and weights.bin as tfjs-layers saves them (an encoder-decoder with initial state)', async () => {
    await fuzz({ kind: 'tfjs', file: 'tfjs_real/tfjs_seq2seq', json: 'tfjs_real/tfjs_seq2seq.json', count: 400, seed: 15, shards: ['weights.bin'] });
  }, 600_000);

  it('graph models: .keras archives with op nodes, several inputs and outputs, attention', async () => {
    await fuzz({ kind: 'binary', file: 'graph/gru_mha.keras', json: 'graph/gru_mha.json', count: 300, seed: 6 });
  }, 600_000);

  it('graph model configs (Keras 3 calls, mask= and initial_state= arguments, merges, wrappers, op nodes), mutated as JSON text', async () => {
    for (const [name, seed] of [
      ['multi_io', 7],
      ['bidir_seq2seq', 8],
      ['gru_attention', 9],
      ['tagger', 10],
      ['conv_gru', 11],
      ['simple_1d', 12],
      ['td_words', 13],
      ['td_bidir_words', 14],
    ] as const) {
      await fuzz({ kind: 'config', file: `graph/${name}.weights.h5`, json: `graph/${name}.json`, count: 150, seed });
    }
  }, 900_000);

  it('the harness itself fails loudly: on a deadline, and when a worker dies', async () => {
    const target: Target = { kind: 'binary', file: 'k3_functional.h5', json: 'k3_functional.json', count: 300, seed: 3 };
    await expect(runTarget(target, 1)).rejects.toThrow(/did not finish within the 1 ms deadline/);
    await expect(runTarget({ ...target, file: 'no-such-file', count: 1 })).rejects.toThrow(/worker died at input #-1/);
  });
});
