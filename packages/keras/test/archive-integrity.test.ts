import { unzipSync, Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { KerasFileError, LimitError, loadModel } from '../src/index.js';
import { expectClose, FIXTURES, readBytes, readJson, type JsonTensor } from './helpers.js';

/**
 * A .keras archive is read as Keras reads it (Python's zipfile): from the central directory that
 * the end-of-central-directory record locates, each entry's local header agreeing with it, and each
 * entry's bytes matching their CRC-32. A damaged or truncated archive is refused, never loaded with
 * wrong weights. Everything here is built from the repository's own fixtures.
 */
const KERAS = join(FIXTURES, 'k3_functional.keras'); // written by Keras 3: stored entries, CRC-32s in the headers
const ref = readJson<{ input: JsonTensor; expected: JsonTensor[]; layers: { weights: { data: number[] }[] }[] }>(join(FIXTURES, 'k3_functional.json'));
const ENTRIES = unzipSync(readBytes(KERAS));
const NAMES = ['metadata.json', 'config.json', 'model.weights.h5'];

const dir = mkdtempSync(join(tmpdir(), 'gru-keras-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** Writes `bytes` to a file, so that a load names it. */
function onDisk(bytes: Uint8Array): string {
  const path = join(dir, `m${files++}.keras`);
  writeFileSync(path, bytes);
  return path;
}

/** Where an entry lies in an archive: its local header, its (compressed) data, its central directory record. */
interface Placed {
  local: number;
  data: number;
  csize: number;
  central: number;
  /** Its data descriptor (after the data), when it has one. */
  descriptor?: number;
}

interface Entry {
  name: string;
  method: 0 | 8;
  /** Sizes and CRC only in a data descriptor after the data (general purpose flag bit 3), as streaming writers do. */
  descriptor?: boolean;
}

/** A zip written byte by byte: stored or deflated entries, data descriptors, zip64 records. */
function writeZip(entries: Entry[], zip64 = false): { zip: Uint8Array; at: Map<string, Placed> } {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  const at = new Map<string, Placed>();
  let offset = 0;
  let centralOffset = 0;
  const block = (length: number, fill: (v: DataView) => void) => {
    const b = new Uint8Array(length);
    fill(new DataView(b.buffer));
    return b;
  };
  const put = (b: Uint8Array) => {
    parts.push(b);
    offset += b.length;
  };
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const raw = ENTRIES[e.name];
    const data = e.method === 8 ? new Uint8Array(deflateRawSync(raw)) : raw;
    const crc = crc32(raw);
    const flags = e.descriptor ? 8 : 0;
    const local = offset;
    put(
      block(30, (v) => {
        v.setUint32(0, 0x04034b50, true);
        v.setUint16(4, zip64 ? 45 : 20, true);
        v.setUint16(6, flags, true);
        v.setUint16(8, e.method, true);
        v.setUint32(14, e.descriptor ? 0 : crc, true);
        v.setUint32(18, zip64 ? 0xffffffff : e.descriptor ? 0 : data.length, true);
        v.setUint32(22, zip64 ? 0xffffffff : e.descriptor ? 0 : raw.length, true);
        v.setUint16(26, name.length, true);
        v.setUint16(28, zip64 ? 20 : 0, true);
      }),
    );
    put(name);
    if (zip64) {
      put(
        block(20, (v) => {
          v.setUint16(0, 1, true);
          v.setUint16(2, 16, true);
          v.setBigUint64(4, BigInt(e.descriptor ? 0 : raw.length), true);
          v.setBigUint64(12, BigInt(e.descriptor ? 0 : data.length), true);
        }),
      );
    }
    const dataAt = offset;
    put(data);
    let descriptor: number | undefined;
    if (e.descriptor) {
      descriptor = offset;
      put(
        block(zip64 ? 24 : 16, (v) => {
          v.setUint32(0, 0x08074b50, true);
          v.setUint32(4, crc, true);
          if (zip64) {
            v.setBigUint64(8, BigInt(data.length), true);
            v.setBigUint64(16, BigInt(raw.length), true);
          } else {
            v.setUint32(8, data.length, true);
            v.setUint32(12, raw.length, true);
          }
        }),
      );
    }
    const record = block(46, (v) => {
      v.setUint32(0, 0x02014b50, true);
      v.setUint16(4, zip64 ? 45 : 20, true);
      v.setUint16(6, zip64 ? 45 : 20, true);
      v.setUint16(8, flags, true);
      v.setUint16(10, e.method, true);
      v.setUint32(16, crc, true);
      v.setUint32(20, zip64 ? 0xffffffff : data.length, true);
      v.setUint32(24, zip64 ? 0xffffffff : raw.length, true);
      v.setUint16(28, name.length, true);
      v.setUint16(30, zip64 ? 28 : 0, true);
      v.setUint32(42, zip64 ? 0xffffffff : local, true);
    });
    central.push(record, name);
    if (zip64) {
      central.push(
        block(28, (v) => {
          v.setUint16(0, 1, true);
          v.setUint16(2, 24, true);
          v.setBigUint64(4, BigInt(raw.length), true);
          v.setBigUint64(12, BigInt(data.length), true);
          v.setBigUint64(20, BigInt(local), true);
        }),
      );
    }
    at.set(e.name, { local, data: dataAt, csize: data.length, central: centralOffset, descriptor });
    centralOffset += record.length + name.length + (zip64 ? 28 : 0);
  }
  const start = offset;
  for (const b of central) put(b);
  for (const placed of at.values()) placed.central += start;
  const size = offset - start;
  if (zip64) {
    const record = offset;
    put(
      block(56, (v) => {
        v.setUint32(0, 0x06064b50, true);
        v.setBigUint64(4, 44n, true);
        v.setUint16(12, 45, true);
        v.setUint16(14, 45, true);
        v.setBigUint64(24, BigInt(entries.length), true);
        v.setBigUint64(32, BigInt(entries.length), true);
        v.setBigUint64(40, BigInt(size), true);
        v.setBigUint64(48, BigInt(start), true);
      }),
    );
    put(
      block(20, (v) => {
        v.setUint32(0, 0x07064b50, true);
        v.setBigUint64(8, BigInt(record), true);
        v.setUint32(16, 1, true);
      }),
    );
  }
  put(
    block(22, (v) => {
      v.setUint32(0, 0x06054b50, true);
      v.setUint16(8, zip64 ? 0xffff : entries.length, true);
      v.setUint16(10, zip64 ? 0xffff : entries.length, true);
      v.setUint32(12, zip64 ? 0xffffffff : size, true);
      v.setUint32(16, zip64 ? 0xffffffff : start, true);
    }),
  );
  const zip = new Uint8Array(offset);
  let o = 0;
  for (const b of parts) {
    zip.set(b, o);
    o += b.length;
  }
  return { zip, at };
}

/** The same entries through fflate's streaming writer: sizes and CRCs in data descriptors after the data. */
function streamed(method: 0 | 8): Uint8Array {
  const parts: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    parts.push(chunk);
  });
  for (const name of NAMES) {
    const entry = method === 8 ? new ZipDeflate(name, { level: 9 }) : new ZipPassThrough(name);
    zip.add(entry);
    entry.push(ENTRIES[name], true);
  }
  zip.end();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Where each entry of a (non-zip64, comment-free) archive lies, from its central directory. */
function placesOf(zip: Uint8Array): Map<string, Placed> {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const end = zip.length - 22;
  expect(v.getUint32(end, true)).toBe(0x06054b50);
  const at = new Map<string, Placed>();
  for (let p = v.getUint32(end + 16, true); p < end; ) {
    const n = v.getUint16(p + 28, true);
    const name = new TextDecoder().decode(zip.subarray(p + 46, p + 46 + n));
    const local = v.getUint32(p + 42, true);
    const data = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    const csize = v.getUint32(p + 20, true);
    at.set(name, { local, data, csize, central: p, descriptor: v.getUint16(p + 8, true) & 8 ? data + csize : undefined });
    p += 46 + n + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
  }
  return at;
}

const stored = NAMES.map((name) => ({ name, method: 0 as const }));
const deflated = NAMES.map((name) => ({ name, method: 8 as const }));
const LAYOUTS: [string, () => { zip: Uint8Array; at: Map<string, Placed> }][] = [
  ['the Keras-written fixture (stored)', () => ({ zip: readBytes(KERAS).slice(), at: placesOf(readBytes(KERAS)) })],
  ['stored', () => writeZip(stored)],
  ['deflated', () => writeZip(deflated)],
  ['stored, with data descriptors', () => writeZip(stored.map((e) => ({ ...e, descriptor: true })))],
  ['deflated, with data descriptors', () => writeZip(deflated.map((e) => ({ ...e, descriptor: true })))],
  ['zip64, stored', () => writeZip(stored, true)],
  [
    'zip64, deflated, with data descriptors',
    () =>
      writeZip(
        deflated.map((e) => ({ ...e, descriptor: true })),
        true,
      ),
  ],
  ["fflate's streaming writer, stored", () => ({ zip: streamed(0), at: placesOf(streamed(0)) })],
  ["fflate's streaming writer, deflated", () => ({ zip: streamed(8), at: placesOf(streamed(8)) })],
];

describe('intact archives load, whatever their layout', () => {
  for (const [what, make] of LAYOUTS) {
    it(what, async () => {
      const model = await loadModel(make().zip);
      expectClose(await model.predict(ref.input), ref.expected[0]);
    });
  }
});

describe('a damaged entry is refused by its CRC-32, as Keras refuses it ("Bad CRC-32 for file")', () => {
  it('one flipped bit in a weight value of the Keras-written archive (it loaded, and predicted a different value)', async () => {
    const zip = readBytes(KERAS).slice();
    const weights = placesOf(zip).get('model.weights.h5')!;
    // The first GRU kernel values, as float32 bytes, inside the stored model.weights.h5.
    const kernel = new Uint8Array(Float32Array.from(ref.layers[0].weights[0].data.slice(0, 4)).buffer);
    const entry = zip.subarray(weights.data, weights.data + weights.csize);
    const found = Buffer.from(entry).indexOf(Buffer.from(kernel));
    expect(found).toBeGreaterThan(0);
    entry[found + 3] ^= 0x40; // an exponent bit of the first value
    const path = onDisk(zip);
    const error = await loadModel(path).catch((e) => e);
    expect(error).toBeInstanceOf(KerasFileError);
    expect(error.message).toMatch(
      new RegExp(
        `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\.keras archive entry 'model\\.weights\\.h5' fails its CRC-32 check \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\\): the archive is corrupt\\.$`,
      ),
    );
  });

  for (const [what, make] of LAYOUTS) {
    it(`a flipped byte in the middle of any entry's data: ${what}`, async () => {
      for (const name of NAMES) {
        const { zip, at } = make();
        const placed = at.get(name)!;
        zip[placed.data + (placed.csize >> 1)] ^= 0x10;
        const error = await loadModel(zip).catch((e) => e);
        expect(error, `${name} was damaged`).toBeInstanceOf(KerasFileError);
        // Stored: the CRC-32. Deflated: the CRC-32, or a deflate stream that no longer decodes or has another length.
        expect(error.message).toMatch(
          new RegExp(
            `^the given bytes: \\.keras archive entry '${name.replaceAll('.', '\\.')}' (fails its CRC-32 check|is not valid deflate data|declares \\d+ bytes but holds|inflates past its declared size)`,
          ),
        );
      }
    });
  }
});

describe('the central directory and the local headers must agree', () => {
  const disagree = (name: string, field: string, source = 'local header') =>
    new RegExp(`entry '${name.replaceAll('.', '\\.')}': its ${source} and the central directory disagree on its ${field}; the archive is corrupt`);

  it('on the name, the CRC-32 and the sizes in the local header', async () => {
    const patched = (edit: (v: DataView, at: Map<string, Placed>) => void) => {
      const { zip, at } = writeZip(stored);
      edit(new DataView(zip.buffer), at);
      return loadModel(zip);
    };
    const config = writeZip(stored).at.get('config.json')!;
    await expect(patched((v) => v.setUint8(config.local + 30 + 10, 0x4e))).rejects.toThrow(
      disagree('config.json', 'name \\("config\\.jsoN" and "config\\.json"\\)'),
    );
    await expect(patched((v) => v.setUint32(config.central + 16, 1234, true))).rejects.toThrow(
      disagree('config.json', 'CRC-32 \\(0x[0-9a-f]{8} and 0x000004d2\\)'),
    );
    await expect(patched((v) => v.setUint32(config.local + 22, 5000, true))).rejects.toThrow(disagree('config.json', 'size \\(5000 and \\d+\\)'));
    await expect(patched((v) => v.setUint16(config.local + 8, 8, true))).rejects.toThrow(disagree('config.json', 'compression method \\(8 and 0\\)'));
  });

  it("on a data descriptor's CRC-32 and sizes (zip64 ones too)", async () => {
    for (const zip64 of [false, true]) {
      const make = () =>
        writeZip(
          deflated.map((e) => ({ ...e, descriptor: true })),
          zip64,
        );
      const weights = make().at.get('model.weights.h5')!;
      const crc = make();
      new DataView(crc.zip.buffer).setUint32(weights.descriptor! + 4, 1234, true);
      await expect(loadModel(crc.zip)).rejects.toThrow(disagree('model.weights.h5', 'CRC-32 \\(0x000004d2 and 0x[0-9a-f]{8}\\)', 'data descriptor'));
      const size = make();
      size.zip[weights.descriptor! + (zip64 ? 16 : 12)] ^= 1;
      await expect(loadModel(size.zip)).rejects.toThrow(
        disagree(
          'model.weights.h5',
          `compressed/uncompressed sizes \\(${weights.csize}/${ENTRIES['model.weights.h5'].length ^ 1} and ${weights.csize}/${ENTRIES['model.weights.h5'].length}\\)`,
          'data descriptor',
        ),
      );
    }
  });

  it('on where an entry starts and ends: an offset to no local header, data running into the next entry', async () => {
    const { zip, at } = writeZip(stored);
    const config = at.get('config.json')!;
    const v = new DataView(zip.buffer);
    v.setUint32(config.central + 42, config.local + 7, true);
    await expect(loadModel(zip)).rejects.toThrow(
      new RegExp(
        `entry 'config\\.json': the central directory places its local header at byte ${config.local + 7}, where there is none; the archive is corrupt`,
      ),
    );
    const over = writeZip(stored);
    const c = over.at.get('config.json')!;
    // Central directory and local header agree on a size that runs over model.weights.h5 (overlapping entries, a zip-bomb trick).
    for (const [field, at] of [
      [18, c.local],
      [22, c.local],
      [20, c.central],
      [24, c.central],
    ]) {
      new DataView(over.zip.buffer).setUint32(at + field, c.csize + 100, true);
    }
    await expect(loadModel(over.zip)).rejects.toThrow(
      new RegExp(
        `entry 'config\\.json' declares ${c.csize + 100} bytes of data, but only ${c.csize} lie before the next entry or the central directory; the archive is corrupt`,
      ),
    );
  });

  it("the end record's entry count and central directory place must hold", async () => {
    const { zip } = writeZip(stored);
    const v = new DataView(zip.buffer);
    const end = zip.length - 22;
    const count = zip.slice();
    new DataView(count.buffer).setUint16(end + 10, 4, true);
    await expect(loadModel(count)).rejects.toThrow(/its end record counts 4 entries, but its central directory holds 3; the archive is corrupt/);
    const moved = zip.slice();
    new DataView(moved.buffer).setUint32(end + 16, v.getUint32(end + 16, true) - 1, true);
    await expect(loadModel(moved)).rejects.toThrow(
      /its end record places the central directory at bytes \d+ to \d+, but the end record is at byte \d+; the archive is corrupt/,
    );
  });
});

describe('a truncated archive is refused, as Keras refuses it ("File is not a zip file"), saying where it ends', () => {
  const whole = readBytes(KERAS);

  it('cut by 1 to 22 bytes (the end-of-central-directory record gone): it loaded before', async () => {
    for (let cut = 1; cut <= 22; cut++) {
      const path = onDisk(whole.subarray(0, whole.length - cut));
      const error = await loadModel(path).catch((e) => e);
      expect(error, `cut by ${cut}`).toBeInstanceOf(KerasFileError);
      expect(error.message).toBe(`${path}: .keras archive is truncated: it ends inside its central directory (no end-of-central-directory record).`);
    }
  });

  it('cut inside an entry: the entry is named (it said "Invalid typed array length" or "invalid zip data")', async () => {
    const at = placesOf(whole);
    for (const name of NAMES) {
      const placed = at.get(name)!;
      const kept = placed.csize >> 1;
      const error = await loadModel(whole.subarray(0, placed.data + kept)).catch((e) => e);
      expect(error).toBeInstanceOf(KerasFileError);
      expect(error.message).toBe(
        `the given bytes: .keras archive is truncated: it ends inside entry '${name}' (${kept} of its ${placed.csize} bytes are there) and has no end-of-central-directory record.`,
      );
    }
  });

  it('a zip signature followed by no zip at all', async () => {
    const junk = new Uint8Array(300).map((_, i) => (i * 7919) % 251);
    junk.set([0x50, 0x4b, 3, 4]);
    await expect(loadModel(junk)).rejects.toThrow(/^the given bytes: \.keras archive is not a zip file \(no end-of-central-directory record: truncated\?\)\.$/);
  });

  it('limits still come first for what the headers declare (a limit, not corruption, when the file is whole)', async () => {
    await expect(loadModel(writeZip(deflated).zip, { limits: { maxArchiveEntries: 2 } })).rejects.toThrow(LimitError);
  });
});
