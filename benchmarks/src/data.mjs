/**
 * Seeded inputs and weights, so every runner (gru backends and peers) times the same numbers:
 * values that keep the gates out of saturation, where some activation code paths shortcut.
 *
 * @typedef {import('./shapes.mjs').Shape} Shape
 */

/**
 * mulberry32: a tiny fast generator; statistical quality is irrelevant here, only that
 * the same seed gives the same data in every process.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * @param {number} length
 * @param {number} scale   values are uniform in [-scale, scale)
 * @param {() => number} rng
 */
export function uniformArray(length, scale, rng) {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (2 * rng() - 1) * scale;
  return out;
}

/**
 * The input x, [B, T, D] batch-major, uniform in [-1, 1).
 * @param {Shape} shape
 * @param {number} [seed]
 */
export function inputFor({ B, T, D }, seed = 1) {
  return uniformArray(B * T * D, 1, seededRandom(seed));
}

/**
 * Weights in Keras's layout (gates z, r, h): kernel [D, 3H], recurrentKernel [H, 3H], bias
 * [2, 3H] (resetAfter), [3H] or null. Uniform with Glorot's scale for the fan-in.
 * @param {Shape} shape
 * @param {{ resetAfter?: boolean, useBias?: boolean, seed?: number }} [opts]
 */
export function kerasWeights({ D, H }, opts = {}) {
  const { resetAfter = true, useBias = true, seed = 2 } = opts;
  const rng = seededRandom(seed);
  return {
    kernel: uniformArray(D * 3 * H, Math.sqrt(6 / (D + 3 * H)), rng),
    recurrentKernel: uniformArray(H * 3 * H, Math.sqrt(6 / (H + 3 * H)), rng),
    bias: useBias ? uniformArray((resetAfter ? 2 : 1) * 3 * H, 0.1, rng) : null,
  };
}
