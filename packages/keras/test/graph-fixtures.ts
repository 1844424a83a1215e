import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, readJson, type JsonTensor } from './helpers.js';

export const GRAPH = join(FIXTURES, 'graph');

/** A graph fixture made by generate_fixtures.py (graph_models): files, config, inputs and every output Keras predicted. */
export interface GraphFixture {
  name: string;
  description: string;
  files: string[];
  model_config: Record<string, unknown>;
  keras_reload: Record<string, string>;
  layers: { name: string; class_name: string; weights: { path: string; shape: number[]; data: number[] }[] }[];
  inputs: JsonTensor[];
  expected: JsonTensor[];
  /** A model built on a dict of inputs: its keys, in `inputs` order (predict takes them keyed). */
  input_names?: string[];
  /** A model returning a dict of outputs: the keys of Keras's predict result, in `expected` order. */
  output_names?: string[];
}

export const GRAPH_FIXTURES: GraphFixture[] = readdirSync(GRAPH)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => readJson<GraphFixture>(join(GRAPH, f)));

/** Each fixture's files, with the options each needs (a .weights.h5 takes the config). */
export function graphFiles(f: GraphFixture): { file: string; path: string; options: { config?: Record<string, unknown> } }[] {
  return f.files.map((file) => ({ file, path: join(GRAPH, file), options: file.endsWith('.weights.h5') ? { config: f.model_config } : {} }));
}

/** The fixture's inputs as predict takes them: one tensor, a list, or keyed for a model built on a dict of inputs. */
export const graphInputs = (f: Pick<GraphFixture, 'inputs' | 'input_names'>) =>
  f.input_names ? Object.fromEntries(f.input_names.map((k, i) => [k, f.inputs[i]])) : f.inputs.length === 1 ? f.inputs[0] : f.inputs;
