import { unzipSync, Zip, ZipDeflate } from 'fflate';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, KerasFileError, LimitError, loadModel, parseModel } from '../src/index.js';
import { FIXTURES, readBytes, readJson } from './helpers.js';

/**
 * A scaled-down version of the 748 KB `.keras` of 192M zero weights that made the loader hold
 * 2.2 GB: a GRU(1024) of 3,163,138 zero weights (12.7 MB of float32) in a 14 KB deflated archive
 * (made by bench/make-gru-model.py). What a load may allocate is bounded by limits.maxBytes,
 * checked before each allocation; weights are read straight from the file's bytes.
 */
const KERAS = join(FIXTURES, 'zeros_gru1024.keras');
const config = readJson<Record<string, unknown>>(join(FIXTURES, 'zeros_gru1024.json'));
const PARAMETERS = 3163138;
const WEIGHT_BYTES = 4 * PARAMETERS;
const MiB = 1 << 20;

/** Growth of ArrayBuffer memory while `load` runs (and holds its result); the error if it threw. */
async function arrayBuffersOf<T>(load: () => Promise<T>): Promise<{ result?: T; error?: any; growth: number }> {
  const before = process.memoryUsage().arrayBuffers;
  try {
    const result = await load();
    return { result, growth: process.memoryUsage().arrayBuffers - before };
  } catch (error) {
    return { error, growth: process.memoryUsage().arrayBuffers - before };
  }
}

function weightsEntry(): Uint8Array {
  return unzipSync(readBytes(KERAS))['model.weights.h5'];
}

/** The same archive written by a streaming zip writer: sizes only in data descriptors, after the data. */
function sizelessArchive(): Uint8Array {
  const files = unzipSync(readBytes(KERAS));
  const parts: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    parts.push(chunk);
  });
  for (const name of ['metadata.json', 'config.json', 'model.weights.h5']) {
    const entry = new ZipDeflate(name, { level: 9 });
    zip.add(entry);
    entry.push(files[name], true);
  }
  zip.end();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe('a load allocates at most limits.maxBytes, and legitimate models load holding about one copy of their weights', () => {
  it('the 14 KB archive of 12.7 MB of zero weights loads, its weights views of one buffer (no per-value decode, no second copy)', async () => {
    const weights = (await parseModel(KERAS)).weights.flat();
    expect(weights.reduce((n, w) => n + w.length, 0)).toBe(PARAMETERS);
    // All views of the inflated weights entry (no ArrayBuffer growth figure here: the inflater's
    // discarded pieces stay counted until the collector runs; the .weights.h5 case below has none).
    expect(new Set(weights.map((w) => w.buffer)).size).toBe(1);
    expect(weights[1].buffer.byteLength).toBeLessThan(WEIGHT_BYTES + 64 * 1024);
    expect(weights.every((w) => w.every((v) => v === 0))).toBe(true);
  }, 60000);

  it('a .weights.h5 read from disk: the weights are views of the file bytes the loader read', async () => {
    const path = join(FIXTURES, 'zeros_gru1024.weights.h5');
    const { writeFileSync, rmSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'gru-keras-'));
    try {
      writeFileSync(join(dir, 'w.weights.h5'), weightsEntry());
      const { result, growth } = await arrayBuffersOf(() => parseModel(join(dir, 'w.weights.h5'), { config }));
      const weights = result!.weights.flat();
      expect(new Set(weights.map((w) => w.buffer)).size).toBe(1);
      expect(growth).toBeLessThan(1.5 * WEIGHT_BYTES);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(path).toContain('zeros'); // the fixture name documents what the file holds
  }, 60000);

  it('a stored .keras read from disk: its weights entry is moved to the start of the archive buffer, not copied', async () => {
    const { zipSync } = await import('fflate');
    const { writeFileSync, rmSync, mkdtempSync, statSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'gru-keras-'));
    try {
      const path = join(dir, 'stored.keras');
      writeFileSync(path, zipSync(unzipSync(readBytes(KERAS)), { level: 0 }));
      const parsed = await parseModel(path);
      const buffers = new Set(parsed.weights.flat().map((w) => w.buffer));
      expect(buffers.size).toBe(1);
      expect([...buffers][0].byteLength).toBe(statSync(path).size); // the archive's own buffer
      // Building the model copies the weights into the layers (core's setWeights): the parsed arrays are not aliased.
      const { modelFromParsed } = await import('../src/index.js');
      const model = modelFromParsed(parsed);
      parsed.weights[1][0][0] = 42;
      expect(model.getLayer('gru').getWeights()[0].data[0]).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);

  it('over limits.maxBytes, the weights entry is refused from its declared size, before inflating', async () => {
    const { error, growth } = await arrayBuffersOf(() => parseModel(KERAS, { limits: { maxBytes: 8 * MiB } }));
    expect(error).toBeInstanceOf(LimitError);
    expect(error.limit).toBe('maxBytes');
    expect(error.message).toMatch(
      /\.keras archive entry 'model\.weights\.h5' needs \d+ bytes, and this load has already allocated \d+ of the 8388608 bytes allowed by limits\.maxBytes\. If the file is trusted, raise the bound: loadModel\(source, \{ limits: \{ maxBytes: 67108864 \} \}\)/,
    );
    expect(growth).toBeLessThan(2 * MiB);
  });

  it('an entry whose local header declares no size (data descriptor) is sized by the central directory: refused before inflating, loaded holding one copy', async () => {
    const zip = sizelessArchive();
    expect(zip.length).toBeLessThan(64 << 10);
    const loaded = await parseModel(zip);
    expect(loaded.weights.flat().reduce((n, w) => n + w.length, 0)).toBe(PARAMETERS);
    const { error, growth } = await arrayBuffersOf(() => parseModel(zip, { limits: { maxBytes: 4 * MiB } }));
    expect(error).toBeInstanceOf(LimitError);
    const m =
      /\.keras archive entry 'model\.weights\.h5' needs (\d+) bytes, and this load has already allocated \d+ of the 4194304 bytes allowed by limits\.maxBytes/.exec(
        error.message,
      );
    expect(m, error.message).not.toBeNull();
    expect(growth).toBeLessThan(2 * MiB);
    // One copy of the inflated weights fits a bound of their size plus the small entries (it needed
    // twice that while pieces were joined).
    const weightsBytes = Number(m![1]);
    const fits = await parseModel(zip, { limits: { maxBytes: weightsBytes + MiB } }).catch((e) => e);
    expect(fits instanceof Error ? fits.message : 'loaded').toBe('loaded');
  });

  it('bytes a caller passes are copied once (never aliased), and the copies count against maxBytes', async () => {
    const bytes = weightsEntry();
    const parsed = await parseModel(bytes, { config });
    expect(parsed.weights.flat().every((w) => w.buffer !== bytes.buffer)).toBe(true);
    await expect(parseModel(bytes, { config, limits: { maxBytes: 8 * MiB } })).rejects.toThrow(
      /layer 'gru' recurrent_kernel .* needs 12582912 bytes, .* limits\.maxBytes/,
    );
  });

  it('chunked, gzip-compressed datasets (a 59 KB file of 12.7 MB of zeros) are refused before anything is inflated', async () => {
    const { error, growth } = await arrayBuffersOf(() => parseModel(join(FIXTURES, 'gzip_zeros_gru1024.weights.h5'), { config }));
    expect(error).toBeInstanceOf(KerasFileError);
    expect(error.message).toMatch(
      /kernel \('\/layers\/gru\/cell\/vars\/0'\) is stored with filters \(compression\); Keras writes contiguous, unfiltered datasets/,
    );
    expect(growth).toBeLessThan(2 * MiB);
  });

  it('TF.js shards count too', async () => {
    await expect(loadModel(join(FIXTURES, 'tfjs_embed_bidir', 'model.json'), { limits: { maxBytes: 4096 } })).rejects.toThrow(/limits\.maxBytes/);
  });

  it('the defaults are honest: a float32 model of maxParameters weights fits maxFileBytes and maxBytes (checked at this scale)', async () => {
    // The ratios of the defaults, applied to this model: as many parameters as it has.
    const scale = PARAMETERS / DEFAULT_LIMITS.maxParameters;
    const limits = {
      maxParameters: PARAMETERS,
      maxBytes: Math.ceil(DEFAULT_LIMITS.maxBytes * scale),
      maxFileBytes: Math.ceil(DEFAULT_LIMITS.maxFileBytes * scale),
      maxEntryBytes: Math.ceil(DEFAULT_LIMITS.maxEntryBytes * scale),
    };
    // A stored archive (as Keras writes it) read from disk: the archive plus its weights entry.
    const { zipSync } = await import('fflate');
    const { writeFileSync, rmSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'gru-keras-'));
    try {
      writeFileSync(join(dir, 'm.keras'), zipSync(unzipSync(readBytes(KERAS)), { level: 0 }));
      writeFileSync(join(dir, 'm.weights.h5'), weightsEntry());
      expect((await parseModel(join(dir, 'm.keras'), { limits })).spec.parameterCount).toBe(PARAMETERS);
      expect((await parseModel(join(dir, 'm.weights.h5'), { config, limits })).spec.parameterCount).toBe(PARAMETERS);
      await expect(parseModel(join(dir, 'm.keras'), { limits: { ...limits, maxParameters: PARAMETERS - 1 } })).rejects.toThrow(/limits\.maxParameters/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
});
