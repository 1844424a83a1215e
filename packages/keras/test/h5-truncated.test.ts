import { unzipSync, zipSync } from 'fflate';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KerasFileError, loadModel } from '../src/index.js';
import { FIXTURES, readBytes, readJson } from './helpers.js';

/**
 * An HDF5 file records its own length (the end-of-file address in its superblock). A file cut
 * short is refused as the HDF5 library refuses it ("truncated file"), saying so, instead of
 * failing later on whatever the cut removed (it said "has no '/model_weights/features' (group
 * '/model_weights' holds: nothing)" or "Offset is outside the bounds of the DataView").
 */
const H5 = join(FIXTURES, 'k3_functional.h5'); // a whole Keras 3 model saved as legacy .h5 (28,168 bytes)
const WEIGHTS = join(FIXTURES, 'k3_functional.weights.h5');
const config = readJson<{ model_config: Record<string, unknown> }>(join(FIXTURES, 'k3_functional.json')).model_config;

describe('a truncated HDF5 file is refused as truncated', () => {
  it('a .h5 model cut anywhere past its superblock, down to one byte short', async () => {
    const whole = readBytes(H5);
    for (const kept of [Math.floor(whole.length * 0.3), Math.floor(whole.length * 0.7), Math.floor(whole.length * 0.95), whole.length - 1]) {
      const error = await loadModel(whole.slice(0, kept)).catch((e) => e);
      expect(error, `kept ${kept} bytes`).toBeInstanceOf(KerasFileError);
      expect(error.message).toBe(
        `the given bytes is truncated: its HDF5 superblock says the file is ${whole.length} bytes long, but it has ${kept} (${Math.floor((kept / whole.length) * 100)}%).`,
      );
    }
  });

  it('a .weights.h5, and the weights entry of a .keras archive (whose own CRC-32 is right)', async () => {
    const weights = readBytes(WEIGHTS);
    const kept = weights.length - 4096;
    await expect(loadModel(weights.slice(0, kept), { config })).rejects.toThrow(
      `the given bytes is truncated: its HDF5 superblock says the file is ${weights.length} bytes long, but it has ${kept}`,
    );
    const entries = unzipSync(readBytes(join(FIXTURES, 'k3_functional.keras')));
    const entry = entries['model.weights.h5'];
    const archive = zipSync({ ...entries, 'model.weights.h5': entry.slice(0, entry.length - 100) }, { level: 0 });
    await expect(loadModel(archive)).rejects.toThrow(
      `the given bytes: model.weights.h5 is truncated: its HDF5 superblock says the file is ${entry.length} bytes long, but it has ${entry.length - 100}`,
    );
  });

  it('cut inside the superblock itself', async () => {
    await expect(loadModel(readBytes(H5).slice(0, 40))).rejects.toThrow(/^the given bytes is truncated: it ends inside its HDF5 superblock \(40 bytes\)\.$/);
  });

  it('a weights entry that is not HDF5 at all is not called truncated (no superblock is read without the signature)', async () => {
    const entries = unzipSync(readBytes(join(FIXTURES, 'k3_functional.keras')));
    const notHdf5 = new Uint8Array(4096).fill(0x41);
    notHdf5.set([0x89, 0x48, 0x44, 0x47], 0); // almost the signature
    notHdf5[8] = 0; // where a superblock would have version 0 and 8-byte addresses: the rest reads as a huge end address
    notHdf5[13] = 8;
    const error = await loadModel(zipSync({ ...entries, 'model.weights.h5': notHdf5 }, { level: 0 })).catch((e) => e);
    expect(error).toBeInstanceOf(KerasFileError);
    expect(error.message).not.toMatch(/truncated|superblock says/);
  });

  it('whole files load, and so does one with bytes after its declared end (as the HDF5 library allows)', async () => {
    const whole = readBytes(H5);
    expect((await loadModel(whole)).layers.length).toBe(4);
    const longer = new Uint8Array(whole.length + 100);
    longer.set(whole);
    expect((await loadModel(longer)).layers.length).toBe(4);
  });
});
