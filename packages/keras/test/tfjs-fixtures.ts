import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, readJson, type JsonTensor } from './helpers.js';

export const TFJS_REAL = join(FIXTURES, 'tfjs_real');

/** A TF.js layers model saved by tfjs-layers itself (scripts/tfjs-fixtures.mjs), with tfjs's and Keras's predictions. */
export interface TfjsFixture {
  name: string;
  description: string;
  files: string[];
  source: string;
  inputs: JsonTensor[];
  /** Keras 3's predictions, from a twin model given the file's weights (generate_fixtures.py tfjs_real). */
  expected: JsonTensor[];
  keras_source: string;
  /** tfjs-layers' own predictions, and their largest difference from Keras's. */
  tfjs_expected: JsonTensor[];
  tfjs_vs_keras: number;
}

export const TFJS_FIXTURES: TfjsFixture[] = readdirSync(TFJS_REAL)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => readJson<TfjsFixture>(join(TFJS_REAL, f)));
