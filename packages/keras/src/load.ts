import { compatFor, modelSpec } from './config/model.js';
import type { ModelSpec, ParsedModel } from './config/spec.js';
import { ByteBudget } from './budget.js';
import { SUBCLASSED_MODEL_HINT } from './config/safety.js';
import { KerasFileError } from './errors.js';
import { checkDeadlineOptions, Deadline, DEFAULT_TIMEOUT_MS } from './io/deadline.js';
import { H5File, HDF5_SIGNATURE, type H5FileOptions } from './io/h5.js';
import { isObject, parseJson, preview } from './io/json.js';
import { givenSiblings, readSource, type ModelSource, type ReadContext, type SiblingFiles, type SiblingReader } from './io/source.js';
import { compactWeights } from './weights/compact.js';
import { readKerasArchive } from './io/zip.js';
import { resolveLimits, type LoadLimits } from './limits.js';
import { KerasModel } from './model.js';
import { keras3WeightsFileBound, readKeras3Weights } from './weights/keras3.js';
import { readLegacyWeights } from './weights/legacy.js';
import { readTfjsWeights } from './weights/tfjs.js';

export interface LoadOptions {
  /** Bounds on what a file may make the loader allocate (see LoadLimits). */
  limits?: Partial<LoadLimits>;
  /**
   * The model config, for a weights-only file (`.weights.h5`, or a Keras 2 `save_weights` .h5):
   * a Keras model config object (`model.get_config()`, `json.loads(model.to_json())`, the
   * `config.json` of a .keras archive) or its JSON text.
   */
  config?: Record<string, unknown> | string;
  /** Keras semantics to use when the file does not record which Keras wrote it. */
  compat?: 'keras2' | 'keras3';
  /** For a TF.js model.json given as bytes: its weight shards by relative path, or a function reading them. */
  files?: SiblingFiles;
  /** Run the model's GRUs on this registered backend by default (see @gru/core's backends). */
  backend?: string;
  /** Cancels the load: fetches, reading response bodies and files stop, and the load rejects with a KerasFileError. */
  signal?: AbortSignal;
  /**
   * Deadline for the load's fetches, body reads and file reads, in milliseconds (default 60,000;
   * `Infinity` for none). A slow or stalled server then fails the load with a clear error instead
   * of hanging it.
   */
  timeoutMs?: number;
}

const KNOWN_OPTIONS = ['limits', 'config', 'compat', 'files', 'backend', 'signal', 'timeoutMs'];

type Kind = 'zip' | 'hdf5' | 'json';

/** What a file is, from its first bytes (not its name, which may be missing or wrong). */
export function sniff(bytes: Uint8Array, label: string): Kind {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6)) return 'zip';
  if (bytes.length >= 8 && HDF5_SIGNATURE.every((b, i) => bytes[i] === b)) return 'hdf5';
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 byte order mark
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b) return 'json';
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  // saved_model.pb is a SavedModel protocol buffer: field 1 (schema version 1), then field 2 (meta graphs).
  const savedModel =
    /(^|[\\/])saved_model\.pb$/.test(label) || (bytes[0] === 0x08 && bytes[1] === 0x01 && bytes[2] === 0x12)
      ? " It looks like a TensorFlow SavedModel's saved_model.pb (model.export() or tf.saved_model.save), which holds TensorFlow graphs: save the model in Python with model.save('model.keras') instead."
      : '';
  throw new KerasFileError(
    `${label} is not a Keras model file: expected a .keras archive (zip), an HDF5 file (.h5, .weights.h5) or a TF.js model.json, but it starts with bytes ${head || '(empty)'}.${savedModel}`,
  );
}

function checkOptions(options: LoadOptions): void {
  if (typeof options !== 'object' || options === null) throw new KerasFileError(`loadModel options must be an object, received ${String(options)}.`);
  const unknown = Object.keys(options).filter((k) => !KNOWN_OPTIONS.includes(k));
  if (unknown.length) throw new KerasFileError(`Unknown loadModel option(s): ${unknown.join(', ')}. Known options: ${KNOWN_OPTIONS.join(', ')}.`);
  if (options.compat !== undefined && options.compat !== 'keras2' && options.compat !== 'keras3') {
    throw new KerasFileError(`Option \`compat\` must be 'keras2' or 'keras3', received ${preview(options.compat)}.`);
  }
  checkDeadlineOptions(options.timeoutMs, options.signal);
}

function givenConfig(options: LoadOptions, limits: LoadLimits, label: string): unknown {
  const config = options.config;
  if (config === undefined) {
    throw new KerasFileError(
      `${label} holds weights only; pass the model config as options.config (for example the config.json of a .keras archive, or model.to_json()).`,
    );
  }
  return typeof config === 'string' ? parseJson(config, 'options.config', limits) : config;
}

/** `keras_version` of a .keras archive's metadata.json, when present and readable. */
function archiveVersion(metadata: Uint8Array | undefined, limits: LoadLimits, label: string): string | undefined {
  if (!metadata) return undefined;
  const meta = parseJson(metadata, `${label}: metadata.json`, limits);
  return isObject(meta) && typeof meta.keras_version === 'string' ? meta.keras_version : undefined;
}

function parseArchive(bytes: Uint8Array, label: string, limits: LoadLimits, budget: ByteBudget, owned: boolean): ParsedModel {
  const specOf = (configBytes: Uint8Array, metadata: Uint8Array | undefined): ModelSpec => {
    const config = parseJson(configBytes, `${label}: config.json`, limits);
    // A .keras archive is Keras 3's format; an archive without a version is still Keras 3.
    const version = archiveVersion(metadata, limits, label) ?? '3';
    return modelSpec(config, version, compatFor(version, 'keras3', label), limits, `${label}: config.json`);
  };
  // Keras writes config.json before model.weights.h5: the config then bounds how far the weights
  // entry may inflate, and the spec made for that is reused.
  let early: { config: Uint8Array; metadata: Uint8Array | undefined; spec: ModelSpec } | undefined;
  const archive = readKerasArchive(bytes, limits, {
    label,
    weightsBound: (config, metadata) => {
      early = { config, metadata, spec: specOf(config, metadata) };
      return keras3WeightsFileBound(early.spec);
    },
    budget,
    reuseInput: owned,
  });
  const spec = early && early.config === archive.config && early.metadata === archive.metadata ? early.spec : specOf(archive.config, archive.metadata);
  // The inflated entry is the loader's own buffer: weights may be views of it.
  const file = new H5File(archive.weights, `${label}: model.weights.h5`, { budget, owned: true });
  return { format: 'keras', spec, weights: compactWeights(readKeras3Weights(file, spec), file.buffer, budget) };
}

function parseHdf5(bytes: Uint8Array, label: string, options: LoadOptions, limits: LoadLimits, h5: Required<H5FileOptions>): ParsedModel {
  const file = new H5File(bytes, label, h5);
  const parsed = parseHdf5File(file, options, limits);
  return { ...parsed, weights: compactWeights(parsed.weights, file.buffer, h5.budget) };
}

function parseHdf5File(file: H5File, options: LoadOptions, limits: LoadLimits): ParsedModel {
  const label = file.label;
  const root = file.root;
  const version = root.stringAttr('keras_version');
  const embedded = root.stringAttr('model_config');
  if (embedded !== undefined) {
    if (options.config !== undefined) throw new KerasFileError(`${label} is a full model with its own config; omit options.config.`);
    const config = parseJson(embedded, `${label}: model_config`, limits);
    const spec = modelSpec(config, version ?? 'unknown', compatFor(version, options.compat, label), limits, `${label}: model_config`);
    if (!root.has('model_weights')) throw new KerasFileError(`${label} has a model_config but no 'model_weights' group.`);
    return { format: 'h5', spec, weights: readLegacyWeights(root.group('model_weights'), spec, label) };
  }
  if (root.has('vars') && !root.has('layers')) {
    const members = root.keys();
    // Keras 3 writes a model's own variables under `vars` and its layers under `layers/<name>`;
    // a subclassed model's layers go under the attribute names its code gave them instead.
    throw new KerasFileError(
      `${label} is a Keras 3 weights file of a subclassed model: its layers are stored under the model's attribute names ` +
        `(${members.filter((m) => m !== 'vars' && m !== 'optimizer').join(', ') || 'none'}), not under \`layers\`, so they cannot be matched ` +
        `to a config's layers; ${SUBCLASSED_MODEL_HINT}`,
    );
  }
  const config = givenConfig(options, limits, label);
  if (root.has('layers')) {
    // A Keras 3 .weights.h5 records no version; the config's own Keras decides the semantics.
    const spec = modelSpec(config, version ?? '3', compatFor(version, options.compat ?? 'keras3', label), limits, 'options.config');
    return { format: 'keras-weights', spec, weights: readKeras3Weights(file, spec) };
  }
  if (root.stringListAttr('layer_names') !== undefined) {
    const spec = modelSpec(config, version ?? 'unknown', compatFor(version, options.compat, label), limits, 'options.config');
    return { format: 'h5-weights', spec, weights: readLegacyWeights(root, spec, label) };
  }
  throw new KerasFileError(`${label} is an HDF5 file but not a Keras model or weights file (top-level members: ${root.keys().join(', ') || 'none'}).`);
}

async function parseTfjs(
  bytes: Uint8Array,
  label: string,
  siblings: ((p: string) => Promise<Uint8Array>) | undefined,
  options: LoadOptions,
  ctx: ReadContext,
): Promise<ParsedModel> {
  const { limits } = ctx;
  const json = parseJson(bytes, label, limits);
  if (!isObject(json)) throw new KerasFileError(`${label} must hold a JSON object.`);
  if (!('weightsManifest' in json) || !('modelTopology' in json)) {
    if ('class_name' in json || 'layers' in json) {
      throw new KerasFileError(`${label} is a model config without weights: load the weights file and pass this config as options.config.`);
    }
    throw new KerasFileError(`${label} is JSON but not a TF.js layers model (it has no modelTopology and weightsManifest).`);
  }
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new KerasFileError(`${label} is a TF.js ${preview(json.format)}; only TF.js layers models ('layers-model') hold a Keras model.`);
  }
  const topology = json.modelTopology;
  if (!isObject(topology)) throw new KerasFileError(`${label}: modelTopology must be an object, found ${preview(topology)}.`);
  const config = isObject(topology.model_config) ? topology.model_config : topology;
  const version = typeof topology.keras_version === 'string' ? topology.keras_version : undefined;
  // TF.js models come from the converter (Keras 2) or from tfjs-layers ('tfjs-layers x.y', Keras 2's
  // semantics); a '3.x' or '1.x' version decides, anything else follows Keras 2 unless told otherwise.
  const compat = version !== undefined && /^[13]\./.test(version) ? compatFor(version, undefined, label) : (options.compat ?? 'keras2');
  const spec: ModelSpec = modelSpec(config, version ?? 'unknown', compat, limits, `${label}: modelTopology`);
  const reader = options.files !== undefined ? givenSiblings(options.files, ctx) : siblings;
  if (!reader) {
    throw new KerasFileError(
      `${label} names its weight shards by relative path; when model.json is given as bytes, pass the shards as options.files ({'group1-shard1of1.bin': bytes}).`,
    );
  }
  return { format: 'tfjs', spec, weights: await readTfjsWeights(spec, json.weightsManifest, reader, limits, ctx.budget) };
}

/**
 * Reads and checks a model file without building layers: the result is plain data (specs and
 * typed arrays), so it can be made in a Worker and sent to the page with postMessage.
 */
export async function parseModel(source: ModelSource, options: LoadOptions = {}): Promise<ParsedModel> {
  checkOptions(options);
  const limits = resolveLimits(options.limits);
  const budget = new ByteBudget(limits.maxBytes);
  const deadline = new Deadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.signal);
  const ctx: ReadContext = { limits, budget, deadline };
  try {
    const { bytes, label, siblings, owned } = await readSource(source, ctx, 'loadModel source');
    const parsed = await parseBytes(bytes, label, siblings, options, ctx, owned);
    // A model built later from this (modelFromParsed, maybe in another thread) keeps the bound.
    if (options.limits?.maxPredictBytes !== undefined) parsed.maxPredictBytes = limits.maxPredictBytes;
    return parsed;
  } finally {
    deadline.dispose();
  }
}

async function parseBytes(
  bytes: Uint8Array,
  label: string,
  siblings: SiblingReader | undefined,
  options: LoadOptions,
  ctx: ReadContext,
  owned: boolean,
): Promise<ParsedModel> {
  const { limits, budget } = ctx;
  switch (sniff(bytes, label)) {
    case 'zip':
      if (options.config !== undefined) throw new KerasFileError(`${label} is a .keras archive with its own config; omit options.config.`);
      return parseArchive(bytes, label, limits, budget, owned);
    case 'hdf5':
      return parseHdf5(bytes, label, options, limits, { budget, owned });
    case 'json':
      return await parseTfjs(bytes, label, siblings, options, ctx);
  }
}

/** Builds a runnable model from `parseModel`'s result (`limits.maxPredictBytes` bounds its predicts). */
export function modelFromParsed(parsed: ParsedModel, options: Pick<LoadOptions, 'backend' | 'limits'> = {}): KerasModel {
  const resolved = resolveLimits(options.limits);
  const maxPredictBytes =
    options.limits?.maxPredictBytes === undefined && parsed.maxPredictBytes !== undefined ? parsed.maxPredictBytes : resolved.maxPredictBytes;
  return new KerasModel(parsed, { backend: options.backend, maxPredictBytes });
}

/**
 * Loads a trained Keras model: a `.keras` archive, a legacy `.h5` model (Keras 2 or 3), a
 * `.weights.h5` with `options.config`, or a TF.js layers `model.json`; from a path or URL, bytes,
 * an ArrayBuffer, a fetch Response or a Blob. No code from the file is ever run.
 */
export async function loadModel(source: ModelSource, options: LoadOptions = {}): Promise<KerasModel> {
  return modelFromParsed(await parseModel(source, options), { backend: options.backend, limits: options.limits });
}
