/**
 * Types computed from the options a layer was created with, so that what TypeScript sees matches
 * what the layer returns: `new GRU({ units: 4, returnState: true, dtype: 'float64' })` gives
 * results whose `state` is always there and whose `data` is a Float64Array.
 */
import type { DTypePolicyName } from '../config.js';
import type { FloatArray } from '../tensor.js';

/**
 * The typed array of a layer created with `dtype: D`: Float64Array for 'float64', Float32Array for
 * every other policy name (half-precision policies keep float32 weights) and when absent, and
 * either one when TypeScript cannot tell (a `string`, a policy object).
 */
export type DTypeArray<D> = D extends 'float64' ? Float64Array : D extends DTypePolicyName | null | undefined ? Float32Array : FloatArray;

/**
 * The typed array a layer created with options `O` holds and returns. Read through `infer` rather
 * than `O['dtype']` so that layers made from narrower options stay assignable to `GRU`.
 */
export type LayerArray<O> = O extends { dtype?: infer D } ? (unknown extends D ? Float32Array : DTypeArray<D>) : Float32Array;

/**
 * `true` when options `O` set `returnState: true`, `false` when they leave it out or set it false,
 * `boolean` when TypeScript cannot tell (a `boolean` variable).
 */
export type ReturnsState<O> = O extends { returnState?: infer S }
  ? unknown extends S
    ? false
    : [S] extends [true]
      ? true
      : [S] extends [false | undefined]
        ? false
        : boolean
  : false;

/**
 * Refuses option names `Known` does not have. A generic parameter loses TypeScript's
 * excess-property check, which would otherwise catch a typo such as `retrunState: true`.
 */
export type OnlyKnownKeys<O, Known> = { [K in Exclude<keyof O, keyof Known>]: never };
