/**
 * One ONNX GRU node that takes x time-major ([T, B, D], ONNX's layout 0), for onnxruntime-node:
 * its CPU GRU kernel supports only that layout, so the strongest fair setup transposes x once in
 * setup() (as an ONNX user would feed it) rather than adding a Transpose node to every run.
 * Weights as in onnx-gru-model.mjs: W, R the transposed Keras kernels in gate order z, r, h; B the
 * input then recurrent bias rows; linear_before_reset=1 is Keras's reset_after=True. Output y_h
 * [1, B, H] = Keras's output with returnSequences false.
 *
 * @typedef {import('../../shapes.mjs').Shape} Shape
 */

// Protobuf wire format, just what onnx.proto needs here: varints and length-delimited fields.

/** @param {number[]} out @param {number | bigint} value */
function varint(out, value) {
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
}
/** @param {number[]} out @param {number} field @param {number} value */
const int = (out, field, value) => (varint(out, (field << 3) | 0), varint(out, value));
/** @param {number[]} out @param {number} field @param {ArrayLike<number>} data */
function bytes(out, field, data) {
  varint(out, (field << 3) | 2);
  varint(out, data.length);
  for (let i = 0; i < data.length; i++) out.push(data[i]);
}
/** @param {number[]} out @param {number} field @param {string} text */
const str = (out, field, text) => bytes(out, field, new TextEncoder().encode(text));
/** @param {number[]} out @param {number} field @param {(inner: number[]) => void} build */
function msg(out, field, build) {
  /** @type {number[]} */
  const inner = [];
  build(inner);
  bytes(out, field, inner);
}

const FLOAT = 1;
const ATTR_INT = 2;

/** @param {Float32Array} m @param {number} rows @param {number} cols @returns {Float32Array} [cols, rows] */
export function transpose(m, rows, cols) {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/**
 * @param {Shape} shape
 * @param {{ kernel: Float32Array, recurrentKernel: Float32Array, bias: Float32Array | null }} weights Keras layout, reset_after
 * @returns {Uint8Array}
 */
export function onnxGruTimeMajor({ B, T, D, H }, weights) {
  const bias = weights.bias ?? new Float32Array(6 * H);
  if (bias.length !== 6 * H) throw new Error(`onnxGruTimeMajor: expected a [2, 3H] reset_after bias of ${6 * H} values; received ${bias.length}.`);
  const tensor = (/** @type {number[]} */ out, /** @type {string} */ name, /** @type {number[]} */ dims, /** @type {Float32Array} */ data) => {
    for (const d of dims) int(out, 1, d);
    int(out, 2, FLOAT);
    str(out, 8, name);
    bytes(out, 9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  };
  const valueInfo = (/** @type {number[]} */ out, /** @type {string} */ name, /** @type {number[]} */ dims) => {
    str(out, 1, name);
    msg(out, 2, (type) =>
      msg(type, 1, (t) => {
        int(t, 1, FLOAT);
        msg(t, 2, (s) => {
          for (const d of dims) msg(s, 1, (dim) => int(dim, 1, d));
        });
      }),
    );
  };
  /** @type {number[]} */
  const model = [];
  int(model, 1, 8); // ir_version
  str(model, 2, 'gru-benchmarks');
  msg(model, 7, (graph) => {
    msg(graph, 1, (node) => {
      for (const input of ['x', 'W', 'R', 'B']) str(node, 1, input);
      str(node, 2, ''); // Y, every step: not needed
      str(node, 2, 'y_h');
      str(node, 3, 'gru');
      str(node, 4, 'GRU');
      msg(node, 5, (a) => (str(a, 1, 'hidden_size'), int(a, 3, H), int(a, 20, ATTR_INT)));
      msg(node, 5, (a) => (str(a, 1, 'linear_before_reset'), int(a, 3, 1), int(a, 20, ATTR_INT)));
    });
    str(graph, 2, 'keras_gru');
    msg(graph, 5, (t) => tensor(t, 'W', [1, 3 * H, D], transpose(weights.kernel, D, 3 * H)));
    msg(graph, 5, (t) => tensor(t, 'R', [1, 3 * H, H], transpose(weights.recurrentKernel, H, 3 * H)));
    msg(graph, 5, (t) => tensor(t, 'B', [1, 6 * H], bias));
    msg(graph, 11, (v) => valueInfo(v, 'x', [T, B, D]));
    msg(graph, 12, (v) => valueInfo(v, 'y_h', [1, B, H]));
  });
  msg(model, 8, (op) => (str(op, 1, ''), int(op, 2, 14))); // opset_import: ai.onnx 14
  return Uint8Array.from(model);
}

/** x [B, T, D] batch-major -> [T, B, D]. @param {Float32Array} x @param {Shape} shape */
export function toTimeMajor(x, { B, T, D }) {
  const out = new Float32Array(x.length);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out.set(x.subarray((b * T + t) * D, (b * T + t + 1) * D), (t * B + b) * D);
  return out;
}
