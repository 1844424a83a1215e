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
}

export const GRAPH_FIXTURES: GraphFixture[] = readdirSync(GRAPH)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => readJson<GraphFixture>(join(GRAPH, f)));

/** Each fixture's files, with the options each needs (a .weights.h5 takes the config). */
export function graphFiles(f: GraphFixture): { file: string; path: string; options: { config?: Record<string, unknown> } }[] {
  return f.files.map((file) => ({ file, path: join(GRAPH, file), options: file.endsWith('.weights.h5') ? { config: f.model_config } : {} }));
}

/** The fixture's inputs as predict takes them: one tensor, or a list. */
export const graphInputs = (f: GraphFixture) => (f.inputs.length === 1 ? f.inputs[0] : f.inputs);
