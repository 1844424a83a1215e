/**
 * The benchmark shapes and the FLOP count every GFLOP/s figure is based on.
 *
 * @typedef {object} Shape
 * @property {string} id    `S1`..`S6`, or `BxTxDxH` for a shape given on the command line
 * @property {number} B     batch
 * @property {number} T     timesteps
 * @property {number} D     input features
 * @property {number} H     units
 * @property {string} [about]  what the shape stands for
 */

/** @type {readonly Shape[]} */
export const SHAPES = Object.freeze([
  Object.freeze({ id: 'S1', B: 1, T: 100, D: 64, H: 128, about: 'one sequence, small layer (latency)' }),
  Object.freeze({ id: 'S2', B: 32, T: 100, D: 128, H: 256, about: 'a typical inference batch' }),
  Object.freeze({ id: 'S3', B: 64, T: 50, D: 256, H: 512, about: 'a wide layer, large batch (throughput)' }),
  Object.freeze({ id: 'S4', B: 1, T: 1, D: 64, H: 128, about: 'one step of one sequence (call overhead)' }),
  Object.freeze({ id: 'S5', B: 256, T: 100, D: 128, H: 256, about: "S2's layer at 8x the batch (throughput scales with batch)" }),
  Object.freeze({ id: 'S6', B: 1, T: 10_000, D: 64, H: 128, about: "S1's layer over 100x the steps (time scales with length)" }),
]);

/**
 * Multiply-adds of the two GEMMs, counted as 2 FLOPs each: the input projection
 * [B·T, D] × [D, 3H] and the recurrent one [B, H] × [H, 3H] for each of T steps. Gate
 * nonlinearities and the elementwise update are left out, as cuDNN and MLPerf count RNNs.
 * @param {Pick<Shape, 'B' | 'T' | 'D' | 'H'>} shape
 */
export function flops({ B, T, D, H }) {
  return 2 * B * T * 3 * H * (D + H);
}

/** @param {Pick<Shape, 'B' | 'T' | 'D' | 'H'>} shape */
export function describeShape({ B, T, D, H }) {
  return `B=${B} T=${T} D=${D} H=${H}`;
}

const CUSTOM = /^(\d+)x(\d+)x(\d+)x(\d+)$/;

/**
 * Turns `--shapes S1,S4,8x20x32x64` into shapes: named ones from SHAPES, or custom
 * `BxTxDxH` with positive integers. Order is kept; duplicates are dropped.
 * @param {string | undefined} list
 * @returns {Shape[]}
 */
export function parseShapes(list) {
  if (list === undefined) return [...SHAPES];
  const ids = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!ids.length) throw new Error(`--shapes: expected a comma-separated list such as S1,S4 or 8x20x32x64; received '${list}'.`);
  /** @type {Shape[]} */
  const out = [];
  for (const id of ids) {
    const named = SHAPES.find((s) => s.id.toLowerCase() === id.toLowerCase());
    let shape = named;
    if (!shape) {
      const m = CUSTOM.exec(id);
      if (!m) {
        throw new Error(`--shapes: unknown shape '${id}'; expected one of ${SHAPES.map((s) => s.id).join(', ')} or BxTxDxH (for example 8x20x32x64).`);
      }
      const [B, T, D, H] = m.slice(1).map(Number);
      if (!(B > 0 && T > 0 && D > 0 && H > 0)) throw new Error(`--shapes: every dimension of '${id}' must be at least 1.`);
      shape = { id: `${B}x${T}x${D}x${H}`, B, T, D, H };
    }
    if (!out.some((s) => s.id === shape.id)) out.push(shape);
  }
  return out;
}
