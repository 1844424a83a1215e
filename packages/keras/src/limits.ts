import { KerasFileError } from './errors.js';

/**
 * Bounds on everything a file can make the loader allocate or loop over. The defaults are
 * consistent with each other: a float32 model of `maxParameters` weights loads from any format
 * within `maxFileBytes` and `maxBytes`. Raise them for larger models, lower them for uploads.
 */
export interface LoadLimits {
  /** Largest input accepted: a .keras archive, an .h5 file, a model.json or one TF.js shard. */
  maxFileBytes: number;
  /** Most entries a .keras archive may list. */
  maxArchiveEntries: number;
  /** Largest uncompressed size of one archive entry. */
  maxEntryBytes: number;
  /** Largest uncompressed / compressed ratio of a deflated archive entry (deflate's own maximum is ~1032). */
  maxCompressionRatio: number;
  /** Largest JSON document (config.json, model.json, an HDF5 `model_config` attribute). */
  maxJsonBytes: number;
  /** Deepest nesting of a JSON document. */
  maxJsonDepth: number;
  /** Most layers a model may have. */
  maxLayers: number;
  /** Most weight values (all layers together) a model may declare. */
  maxParameters: number;
  /**
   * Most bytes one load may allocate, all together: the file and shard bytes it reads, archive
   * entries it inflates and the weight arrays it decodes (a weight read straight from a buffer the
   * loader owns costs nothing more). Checked before each allocation, so a small archive or a lying
   * header cannot make the loader hold more.
   */
  maxBytes: number;
  /** Most TF.js weight shards. */
  maxShards: number;
  /**
   * Most bytes of intermediate arrays one `predict` may hold at once for each sample of its batch
   * (layer outputs not yet read for the last time, and what the running call has allocated; the
   * caller's inputs are not counted): a predict of 32 samples may hold 32 times this. Checked
   * before each array a layer makes, so a file cannot make predict allocate without bound; at
   * load, every layer's output for one sample must fit it.
   */
  maxPredictBytes: number;
}

export const DEFAULT_LIMITS: Readonly<LoadLimits> = Object.freeze({
  maxFileBytes: 1 << 30,
  maxArchiveEntries: 1000,
  maxEntryBytes: 1 << 30,
  maxCompressionRatio: 1100,
  maxJsonBytes: 64 << 20,
  maxJsonDepth: 100,
  maxLayers: 1000,
  // 64 Mi values: 256 MiB of float32 weights, which with the file holding them (a .keras archive
  // plus its inflated weights entry) stays well inside maxBytes.
  maxParameters: 1 << 26,
  maxBytes: 1 << 30,
  maxShards: 1000,
  maxPredictBytes: 1 << 30,
});

export function resolveLimits(given: Partial<LoadLimits> | undefined): LoadLimits {
  const limits = { ...DEFAULT_LIMITS };
  if (given === undefined) return limits;
  if (typeof given !== 'object' || given === null) {
    throw new KerasFileError(`Option \`limits\` must be an object such as {maxFileBytes: 1e8}, received ${String(given)}.`);
  }
  for (const [key, value] of Object.entries(given)) {
    if (!(key in DEFAULT_LIMITS)) {
      throw new KerasFileError(`Unknown limit \`${key}\`. Known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}.`);
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new KerasFileError(`Limit \`${key}\` must be a positive integer, received ${String(value)}.`);
    }
    limits[key as keyof LoadLimits] = value;
  }
  return limits;
}
