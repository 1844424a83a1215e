/**
 * A deterministic, seeded pseudo-random stream for weight initialization (and anything else in
 * gru that needs random numbers).
 *
 * Not bit-identical to Keras: Keras's numpy backend draws with numpy's `default_rng(seed)`
 * (PCG64 plus numpy's ziggurat normals), and the other backends use their own generators. We do
 * not reproduce those numbers; we guarantee the same stream for the same seed, on every
 * platform, and the right distributions.
 *
 * The generator is xoshiro128** (Blackman & Vigna), its 128-bit state filled from the seed with
 * splitmix32. Seeds are integers (up to 2^53 in magnitude; negative ones are taken modulo 2^64).
 */

import { pyRepr, valueError } from './errors.js';
import { shareInstanceof } from './shared-instanceof.js';

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32 (Ettinger's 32-bit variant of splitmix64): returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z ^= z >>> 15;
  return [s, z >>> 0];
}

/** Keras's `make_default_seed()` draws `random.randint(1, int(1e9))`; we draw from the same range. */
export function makeDefaultSeed(): number {
  return 1 + Math.floor(Math.random() * 1e9);
}

export class SeedGenerator {
  /** The integer seed the stream started from (drawn at construction when none was given). */
  readonly seed: number;
  /** The seed as given to the constructor (`null` when it was drawn): what Keras serializes. */
  readonly initialSeed: number | null;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  constructor(seed?: number | null) {
    if (seed === null || seed === undefined) {
      this.initialSeed = null;
      this.seed = makeDefaultSeed();
    } else {
      if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
        throw valueError(`Argument \`seed\` must be an integer. Received: seed=${pyRepr(seed)}`);
      }
      this.initialSeed = seed;
      this.seed = seed;
    }
    const big = BigInt(this.seed);
    const lo = Number(BigInt.asUintN(32, big));
    const hi = Number(BigInt.asUintN(32, big >> 32n));
    let a = lo | 0;
    let b = (hi ^ 0x6a09e667) | 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      let x: number;
      let y: number;
      [a, x] = splitmix32(a);
      [b, y] = splitmix32(b);
      words.push((x ^ rotl(y, 13)) >>> 0);
    }
    [this.s0, this.s1, this.s2, this.s3] = words;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** The next 32 random bits, as an integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits (every double k / 2^53 is equally likely). */
  uniform(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal N(0, 1), by the Box-Muller transform (the second value of each pair is kept). */
  normal(): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return z;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log never sees 0
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spareNormal = radius * Math.sin(theta);
    return radius * Math.cos(theta);
  }
}
// A seed made by the other build (ESM or CJS) of @gru/core seeds this one's initializers too.
shareInstanceof(SeedGenerator, '@gru/core/SeedGenerator');
