import type { ByteBudget } from '../budget.js';
import type { ModelSpec } from '../config/spec.js';
import { formatShape, KerasFileError, LimitError, UnsupportedLayerError } from '../errors.js';
import { isObject, preview } from '../io/json.js';
import type { SiblingReader } from '../io/source.js';
import type { LoadLimits } from '../limits.js';

/** One weight listed in a TF.js `weightsManifest`, with where its bytes sit in its group. */
interface ManifestWeight {
  name: string;
  shape: number[];
  /** Bytes per stored value and how to turn them into float32. */
  decode: Decoder;
  group: number;
  offset: number;
  byteLength: number;
}

interface Decoder {
  bytes: number;
  describe: string;
  read(view: DataView, offset: number, count: number): Float32Array;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface ManifestGroup {
  paths: string[];
  byteLength: number;
}

const float32: Decoder = {
  bytes: 4,
  describe: 'float32',
  // Shards are little-endian float32: on a little-endian host an aligned weight is a view of the
  // loader's own group buffer, an unaligned one a single copy; no per-value decode.
  read(view, offset, count) {
    const at = view.byteOffset + offset;
    if (HOST_LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(view.buffer, at, count);
    if (HOST_LITTLE_ENDIAN) return new Float32Array(view.buffer.slice(at, at + 4 * count));
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
    return out;
  },
};

/** Bytes a decoder allocates for `count` values (none for an aligned float32 view). */
function decodedBytes(decode: Decoder, offset: number, count: number): number {
  return decode === float32 && HOST_LITTLE_ENDIAN && offset % 4 === 0 ? 0 : 4 * count;
}

function affine(bytes: 1 | 2, scale: number, min: number): Decoder {
  return {
    bytes,
    describe: `uint${bytes * 8} quantized`,
    read(view, offset, count) {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = (bytes === 1 ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true)) * scale + min;
      return out;
    },
  };
}

const float16: Decoder = {
  bytes: 2,
  describe: 'float16 quantized',
  read(view, offset, count) {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(offset + 2 * i, true));
    return out;
  },
};

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Sizes of the dtypes TF.js stores, so offsets can be computed past weights gru does not decode. */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

function decoderFor(entry: Record<string, unknown>, where: string): Decoder | number {
  const q = entry.quantization;
  if (q !== undefined && q !== null) {
    if (!isObject(q)) throw new KerasFileError(`${where}: \`quantization\` must be an object, found ${preview(q)}.`);
    if (entry.dtype !== 'float32') throw new KerasFileError(`${where}: only float32 weights can be quantized, found dtype ${preview(entry.dtype)}.`);
    if (q.dtype === 'float16') return float16;
    if (q.dtype === 'uint8' || q.dtype === 'uint16') {
      if (typeof q.scale !== 'number' || typeof q.min !== 'number' || !Number.isFinite(q.scale) || !Number.isFinite(q.min)) {
        throw new KerasFileError(`${where}: ${q.dtype} quantization needs finite \`scale\` and \`min\`, found ${preview(q)}.`);
      }
      return affine(q.dtype === 'uint8' ? 1 : 2, q.scale, q.min);
    }
    throw new KerasFileError(`${where}: quantization dtype ${preview(q.dtype)} is not supported (float16, uint8, uint16 are).`);
  }
  if (entry.dtype === 'float32') return float32;
  const size = typeof entry.dtype === 'string' ? STORED_BYTES[entry.dtype] : undefined;
  if (size === undefined) throw new KerasFileError(`${where}: dtype ${preview(entry.dtype)} is not supported by the TF.js reader.`);
  return size;
}

/** Parses `weightsManifest`, computing each weight's byte offset within its group of shards. */
function parseManifest(manifest: unknown, limits: LoadLimits): { groups: ManifestGroup[]; weights: ManifestWeight[]; others: string[] } {
  if (!Array.isArray(manifest)) throw new KerasFileError(`model.json: \`weightsManifest\` must be a list of groups, found ${preview(manifest)}.`);
  const groups: ManifestGroup[] = [];
  const weights: ManifestWeight[] = [];
  const others: string[] = [];
  let shards = 0;
  manifest.forEach((g, gi) => {
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) {
      throw new KerasFileError(`model.json: weightsManifest[${gi}] must be {paths: [...], weights: [...]}, found ${preview(g)}.`);
    }
    shards += g.paths.length;
    if (shards > limits.maxShards) throw new LimitError('maxShards', `model.json lists more than ${limits.maxShards} weight shards (limits.maxShards).`);
    let offset = 0;
    g.weights.forEach((w, wi) => {
      const where = `model.json: weightsManifest[${gi}].weights[${wi}]`;
      if (!isObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape))
        throw new KerasFileError(`${where} must be {name, shape, dtype}, found ${preview(w)}.`);
      if (!w.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 2 ** 31))
        throw new KerasFileError(`${where} ('${w.name}') has an invalid shape ${preview(w.shape)}.`);
      const count = (w.shape as number[]).reduce((a, b) => a * b, 1);
      const decoder = decoderFor(w, `${where} ('${w.name}')`);
      const bytes = count * (typeof decoder === 'number' ? decoder : decoder.bytes);
      if (!Number.isSafeInteger(bytes) || bytes > limits.maxFileBytes * limits.maxShards) {
        throw new LimitError('maxFileBytes', `${where} ('${w.name}') declares ${bytes} bytes of data, more than the shards can hold.`);
      }
      if (typeof decoder === 'number') others.push(w.name);
      else weights.push({ name: w.name, shape: w.shape as number[], decode: decoder, group: gi, offset, byteLength: bytes });
      offset += bytes;
    });
    groups.push({ paths: g.paths as string[], byteLength: offset });
  });
  return { groups, weights, others };
}

/**
 * Finds the manifest entry for each weight the model needs, by name. Converters name weights
 * after the layer ('gru/gru_cell/kernel', 'sequential/gru/kernel', 'bidirectional/forward_gru/...'),
 * so an entry belongs to a layer when one of its path parts is the layer's name, and to a
 * weight when its last part is the weight's name (and, inside Bidirectional, a later part says
 * forward or backward). Ambiguous, missing and left-over entries are errors.
 */
function matchWeights(spec: ModelSpec, entries: ManifestWeight[]): ManifestWeight[][] {
  const nested = spec.layers.find((l) => l.nestedIn !== undefined);
  if (nested) {
    // Converters name a nested model's weights in ways gru has no sample of: refuse rather than guess.
    throw new UnsupportedLayerError(
      'Functional',
      nested.nestedIn as string,
      `model.json: layer '${nested.nestedIn}' is a model used as a layer (a nested model), which gru does not support in TensorFlow.js files; load the .keras or .h5 file instead.`,
    );
  }
  const used = new Set<ManifestWeight>();
  const result = spec.layers.map((layer) =>
    layer.weights.map((w) => {
      const [direction, base] = w.name.includes('/') ? w.name.split('/') : [undefined, w.name];
      const candidates = entries.filter((e) => {
        const parts = e.name.split('/');
        const at = parts.indexOf(layer.name);
        if (at === -1 || parts[parts.length - 1] !== base) return false;
        return direction === undefined || parts.slice(at + 1, -1).some((p) => p.startsWith(direction));
      });
      if (candidates.length !== 1) {
        throw new KerasFileError(
          `model.json: layer '${layer.name}' needs ${w.name} ${formatShape(w.shape)}; the weights manifest has ` +
            (candidates.length
              ? `${candidates.length} candidates (${candidates.map((c) => c.name).join(', ')}).`
              : `none (names: ${entries
                  .slice(0, 20)
                  .map((e) => e.name)
                  .join(', ')}).`),
        );
      }
      const entry = candidates[0];
      if (entry.shape.length !== w.shape.length || entry.shape.some((d, i) => d !== w.shape[i])) {
        throw new KerasFileError(
          `model.json: weight '${entry.name}' has shape ${formatShape(entry.shape)}, but layer '${layer.name}' needs ${w.name} of shape ${formatShape(w.shape)}.`,
        );
      }
      used.add(entry);
      return entry;
    }),
  );
  const extra = entries.filter((e) => !used.has(e));
  if (extra.length) {
    throw new KerasFileError(
      `model.json lists weights no layer of the model uses: ${extra
        .slice(0, 10)
        .map((e) => e.name)
        .join(', ')}. The manifest does not match the model topology.`,
    );
  }
  return result;
}

/**
 * Reads the weights of a TF.js layers model: checks the manifest against the model config first,
 * then reads each group's shards (beside model.json) and requires them to hold exactly the bytes
 * the manifest declares.
 */
export async function readTfjsWeights(
  spec: ModelSpec,
  manifest: unknown,
  siblings: SiblingReader,
  limits: LoadLimits,
  budget?: ByteBudget,
): Promise<Float32Array[][]> {
  const { groups, weights, others } = parseManifest(manifest, limits);
  if (others.length) throw new KerasFileError(`model.json lists non-float weights (${others.slice(0, 5).join(', ')}), which no layer gru runs has.`);
  const matched = matchWeights(spec, weights);
  const buffers: DataView[] = [];
  for (const [gi, group] of groups.entries()) {
    // One buffer per group, sized from the manifest and counted before any shard is read; each
    // shard is copied in and dropped, so a group never costs its bytes twice.
    budget?.take(group.byteLength, `model.json: weight group ${gi} (${group.paths.length} shards)`);
    const joined = new Uint8Array(group.byteLength);
    let total = 0;
    for (const path of group.paths) {
      const bytes = await siblings(path);
      if (total + bytes.byteLength > group.byteLength) {
        total += bytes.byteLength;
        break;
      }
      joined.set(bytes, total);
      total += bytes.byteLength;
    }
    if (total !== group.byteLength) {
      throw new KerasFileError(
        `model.json: weight group ${gi} (${group.paths.join(', ')}) should hold ${group.byteLength} bytes, its shards hold ${total > group.byteLength ? 'more' : total}.`,
      );
    }
    buffers.push(new DataView(joined.buffer));
  }
  return matched.map((layer) =>
    layer.map((e) => {
      const count = e.byteLength / e.decode.bytes;
      budget?.take(decodedBytes(e.decode, e.offset, count), `model.json: weight '${e.name}'`);
      return e.decode.read(buffers[e.group], e.offset, count);
    }),
  );
}
