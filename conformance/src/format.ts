import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The newest case-file format this runner understands. Files without `format_version` are version 1. */
export const CASE_FORMAT_VERSION = 1;

export interface TensorJson {
  shape: number[];
  data: number[];
}

export interface StepJson {
  op: 'call' | 'reset_states' | 'assign_states';
  note?: string;
  inputs?: TensorJson;
  mask?: TensorJson | null;
  initial_state?: TensorJson[] | null;
  outputs?: TensorJson[];
  states_after?: TensorJson[];
  states?: TensorJson[];
}

/** One reference case (see cases/KERAS-REFS.md for every field). */
export interface CaseJson {
  format_version?: number;
  name: string;
  description?: string;
  keras_version?: string;
  layer: 'GRU' | 'GRUCell';
  config: Record<string, unknown>;
  dtype: 'float32' | 'float64';
  weights: { kernel: TensorJson; recurrent_kernel: TensorJson; bias?: TensorJson };
  inputs: TensorJson;
  mask?: TensorJson | null;
  initial_state?: TensorJson[] | null;
  training?: boolean;
  outputs: TensorJson[];
  dropout_mask?: TensorJson | TensorJson[] | null;
  recurrent_dropout_mask?: TensorJson[] | null;
  cotangent?: TensorJson;
  grads?: Record<string, unknown>;
  steps?: StepJson[];
  states_initial?: TensorJson[];
}

export interface ErrorEntryJson {
  name: string;
  code: string;
  stage: string;
  raises: boolean;
  exception_type?: string;
  message?: string;
  message_core?: string;
  result?: unknown;
}

export interface ConfigCaseJson {
  name: string;
  description?: string;
  layer: 'GRU' | 'GRUCell';
  config: Record<string, unknown>;
  config_equal_before_and_after_build?: boolean;
  from_config_get_config_equal?: boolean;
  serialize?: Record<string, unknown>;
}

export interface CaseFiles {
  /** Forward, stateful, cell and gradient cases, sorted by name. */
  cases: CaseJson[];
  errorEntries: ErrorEntryJson[];
  configCases: ConfigCaseJson[];
  /** Files that are not cases (index.json and other metadata), with why they were passed over. */
  ignored: { file: string; reason: string }[];
  /** Case files refused (newer format, unreadable), with the reason: each counts as a failure. */
  refused: { file: string; reason: string }[];
}

function listJson(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...listJson(path));
    else if (entry.endsWith('.json')) out.push(path);
  }
  return out;
}

/**
 * Reads every `.json` under `dir` (recursively) and sorts it into cases, error entries and
 * config cases by content, not by name, so new case files need no code change.
 */
export function loadCaseFiles(dir: string): CaseFiles {
  const files: CaseFiles = { cases: [], errorEntries: [], configCases: [], ignored: [], refused: [] };
  let paths: string[];
  try {
    paths = listJson(dir);
  } catch (err) {
    throw new Error(`Cannot read the cases directory '${dir}': ${(err as Error).message}`);
  }
  for (const path of paths) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      files.refused.push({ file: path, reason: `not valid JSON: ${(err as Error).message}` });
      continue;
    }
    const obj = json as Record<string, unknown>;
    const version = typeof obj.format_version === 'number' ? obj.format_version : 1;
    if (version > CASE_FORMAT_VERSION) {
      files.refused.push({
        file: path,
        reason: `case format version ${version} is newer than this runner understands (${CASE_FORMAT_VERSION}); upgrade @gru/conformance`,
      });
      continue;
    }
    if (typeof obj.layer === 'string' && obj.weights && obj.inputs && Array.isArray(obj.outputs)) {
      files.cases.push(obj as unknown as CaseJson);
    } else if (Array.isArray(obj.entries) && obj.entries.every((e: Record<string, unknown>) => typeof e.raises === 'boolean')) {
      files.errorEntries.push(...(obj.entries as ErrorEntryJson[]));
    } else if (Array.isArray(obj.cases) && obj.cases.length && obj.cases.every((c: Record<string, unknown>) => c.config && c.layer)) {
      files.configCases.push(...(obj.cases as ConfigCaseJson[]));
    } else {
      files.ignored.push({ file: basename(path), reason: 'not a case file (metadata)' });
    }
  }
  files.cases.sort((a, b) => a.name.localeCompare(b.name));
  return files;
}
