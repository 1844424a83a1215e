import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { H5File } from '../src/io/h5.js';
import { KerasFileError, loadModel } from '../src/index.js';
import { expectClose, FIXTURES, readBytes, readJson, type JsonTensor } from './helpers.js';

/**
 * Hand-edited copies of a real Keras 3 .weights.h5: a dataset's data address (in its data-layout
 * message) is pointed somewhere it must not be, or its values are stored big-endian.
 */
const FILE = join(FIXTURES, 'k3_functional.weights.h5');
const ref = readJson<{ model_config: Record<string, unknown>; input: JsonTensor; expected: JsonTensor[] }>(join(FIXTURES, 'k3_functional.json'));
const KERNEL = 'layers/gru/cell/vars/0';

interface Msg {
  get(key: string): number;
}
interface Record_ {
  offset: number;
  msgs: Msg[];
}

/** The object-header record jsfive parsed for `path` (its offset and messages). */
function recordOf(bytes: Uint8Array, path: string): Record_ {
  const file = new H5File(bytes.slice(), 'fixture');
  return (file.root.dataset(path) as unknown as { node: { _dataobjects: Record_ } }).node._dataobjects;
}

function message(record: Record_, type: number): number {
  const msg = record.msgs.find((m) => m.get('type') === type);
  if (!msg) throw new Error(`no message of type ${type}`);
  return msg.get('offset_to_message');
}

/** Byte offset of the data address in the (version 3) contiguous layout message of `path`. */
function addressField(bytes: Uint8Array, path: string): number {
  const at = message(recordOf(bytes, path), 0x08);
  expect(bytes[at], 'layout message version').toBe(3);
  return at + 2;
}

function dataAddress(bytes: Uint8Array, path: string): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(addressField(bytes, path), true));
}

function withAddress(path: string, address: (bytes: Uint8Array) => number): Uint8Array {
  const bytes = readBytes(FILE).slice();
  new DataView(bytes.buffer).setBigUint64(addressField(bytes, path), BigInt(address(bytes)), true);
  return bytes;
}

const load = (bytes: Uint8Array) => loadModel(bytes, { config: ref.model_config });

describe('HDF5 dataset values must lie in the file, apart from its structures and each other', () => {
  it('the unedited file loads and predicts (the edits below are the only difference)', async () => {
    expectClose(await (await load(readBytes(FILE))).predict(ref.input), ref.expected[0]);
  });

  it('values pointed into the superblock are refused, naming the dataset (they used to load and predict NaN)', async () => {
    const err = await load(withAddress(KERNEL, () => 8)).catch((e) => e);
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toMatch(/dataset '\/layers\/gru\/cell\/vars\/0' stores its values at bytes 8\.\.248, which overlap the superblock/);
  });

  it("values pointed into the dataset's own object header are refused", async () => {
    const err = await load(withAddress(KERNEL, (b) => recordOf(b, KERNEL).offset)).catch((e) => e);
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toMatch(
      /'\/layers\/gru\/cell\/vars\/0' stores its values at bytes \d+\.\.\d+, which overlap the object header of '\/layers\/gru\/cell\/vars\/0'/,
    );
  });

  it("values pointed into a group's local heap or B-tree are refused", async () => {
    // The group of a 4-byte bias: its symbol-table message gives its B-tree and heap.
    const bias = 'layers/dense_1/vars/1';
    const bytes = readBytes(FILE).slice();
    const file = new H5File(bytes.slice(), 'fixture');
    const vars = (file.root.group('layers/dense_1/vars') as unknown as { node: { _dataobjects: Record_ } }).node._dataobjects;
    const view = new DataView(bytes.buffer);
    const symbolTable = message(vars, 0x11);
    for (const [field, what] of [
      [0, 'a B-tree node'],
      [8, 'the local heap'],
    ] as const) {
      const target = Number(view.getBigUint64(symbolTable + field, true));
      const err = await load(withAddress(bias, () => target)).catch((e) => e);
      expect(err, what).toBeInstanceOf(KerasFileError);
      expect(err.message).toMatch(
        new RegExp(`dataset '/${bias}' stores its values at bytes ${target}\\.\\.${target + 4}, which overlap ${what} of group '/layers/dense_1/vars'`),
      );
    }
  });

  it("values pointed at another dataset's values are refused, whichever is read first", async () => {
    const other = 'layers/gru/cell/vars/1';
    const err = await load(withAddress(KERNEL, (b) => dataAddress(b, other))).catch((e) => e);
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toMatch(/overlap the values of dataset '\/layers\/gru\/cell\/vars\/[01]'/);
  });

  it('values past the end of the file are refused, naming the dataset', async () => {
    const err = await load(withAddress(KERNEL, (b) => b.length - 100)).catch((e) => e);
    expect(err).toBeInstanceOf(KerasFileError);
    expect(err.message).toMatch(/dataset '\/layers\/gru\/cell\/vars\/0' stores its 240 bytes of values at offset \d+, past the end of the file/);
  });

  it('big-endian float32 values are read in their byte order', async () => {
    const bytes = readBytes(FILE).slice();
    for (const path of [KERNEL, 'layers/dense/vars/0']) {
      const record = recordOf(bytes, path);
      const type = message(record, 0x03);
      bytes[type + 1] |= 1; // datatype class bit field, bit 0: byte order (1 = big-endian)
      const at = dataAddress(bytes, path);
      const size = Number(new DataView(bytes.buffer).getBigUint64(addressField(bytes, path) + 8, true));
      for (let i = at; i < at + size; i += 4) bytes.subarray(i, i + 4).reverse();
    }
    const file = new H5File(bytes.slice(), 'be');
    expect((file.root.dataset(KERNEL) as unknown as { dtype: string }).dtype).toBe('>f4');
    expectClose(await (await load(bytes)).predict(ref.input), ref.expected[0]);
  });

  it("weights are views of the loader's own buffer, copies of a caller's bytes", async () => {
    const bytes = readBytes(FILE).slice();
    const owned = new H5File(bytes, 'owned', { owned: true }).root.dataset(KERNEL).read([4, 15], 'kernel');
    expect(owned.buffer).toBe(bytes.buffer);
    const given = new H5File(bytes, 'given').root.dataset(KERNEL).read([4, 15], 'kernel');
    expect(given.buffer).not.toBe(bytes.buffer);
    expect(Array.from(given)).toEqual(Array.from(owned));
  });
});
