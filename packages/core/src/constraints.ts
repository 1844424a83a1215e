/**
 * Keras 3.15.1's weight constraints (keras/src/constraints): MaxNorm, MinMaxNorm, NonNeg and
 * UnitNorm, with Keras's identifiers and `get_config()` output.
 *
 * The arithmetic follows Keras's numpy backend operation by operation, in the weight's dtype
 * (float32 weights: every step rounded to float32, Python scalars such as `epsilon()` = 1e-7
 * cast to float32 first, as numpy 2 does), and sums squares in numpy's order (pairwise
 * summation along a contiguous reduced block, row by row otherwise), so for 1-D and 2-D weights
 * the results are bit-identical to Keras's.
 */
import { pyTypeName, typeError, valueError, formatShape, pyRepr } from './errors.js';
import { type KerasObjectConfig, cloneJson, makeTable, resolveKerasObject, serializeKerasObject, takeArgs } from './keras-objects.js';
import type { FloatArray } from './tensor.js';

export type { KerasObjectConfig } from './keras-objects.js';

export interface Constraint {
  readonly className: string;
  getConfig(): Record<string, unknown>;
  /** Returns a new array of the same type. */
  apply(data: FloatArray, shape: readonly number[]): FloatArray;
}

/** An axis as Keras's constraints take it: an int, a list of ints, or `null` (all axes). */
export type ConstraintAxis = number | number[] | null;

/** `backend.epsilon()`. */
const EPSILON = 1e-7;

type Round = (x: number) => number;
const identity: Round = (x) => x;

function rounding(data: FloatArray): Round {
  return data instanceof Float32Array ? Math.fround : identity;
}

function checkData(data: FloatArray, shape: readonly number[]): void {
  if (!(data instanceof Float32Array) && !(data instanceof Float64Array)) {
    throw typeError(`A constraint applies to a Float32Array or Float64Array. Received: ${pyTypeName(data)}`);
  }
  let n = 1;
  for (const d of shape) n *= d;
  if (data.length !== n) {
    throw valueError(`Constraint input has ${data.length} values, but its shape ${formatShape(shape)} has ${n}.`);
  }
}

/** numpy's axis normalization for `np.sum(x, axis=...)`: sorted, non-negative, checked. */
function normalizeAxes(axis: unknown, rank: number): number[] {
  if (axis === null || axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  const out: number[] = [];
  for (const a of list) {
    if (typeof a !== 'number' || !Number.isInteger(a)) {
      throw typeError(`'${pyTypeName(a)}' object cannot be interpreted as an integer`);
    }
    if (a < -rank || a >= rank) throw valueError(`axis ${a} is out of bounds for array of dimension ${rank}`);
    const n = a < 0 ? a + rank : a;
    if (out.includes(n)) throw valueError("duplicate value in 'axis'");
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}

/** numpy's `pairwise_sum` (umath/loops_utils.h.src) over `a[off .. off + n)`. */
function pairwiseSum(a: Float64Array, off: number, n: number, r: Round): number {
  if (n < 8) {
    let res = -0.0;
    for (let i = 0; i < n; i++) res = r(res + a[off + i]);
    return res;
  }
  if (n <= 128) {
    const acc = [a[off], a[off + 1], a[off + 2], a[off + 3], a[off + 4], a[off + 5], a[off + 6], a[off + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let k = 0; k < 8; k++) acc[k] = r(acc[k] + a[off + i + k]);
    }
    let res = r(r(r(acc[0] + acc[1]) + r(acc[2] + acc[3])) + r(r(acc[4] + acc[5]) + r(acc[6] + acc[7])));
    for (; i < n; i++) res = r(res + a[off + i]);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return r(pairwiseSum(a, off, n2, r) + pairwiseSum(a, off + n2, n - n2, r));
}

/**
 * `sqrt(sum(square(w), axis, keepdims=True))` in numpy's order. Returns the norms (one per
 * output position) and, for each input element, the index of its norm.
 */
function norms(data: FloatArray, shape: readonly number[], axis: unknown, r: Round): { norm: Float64Array; of: Int32Array } {
  const rank = shape.length;
  const axes = normalizeAxes(axis, rank);
  const reduced = shape.map((_, i) => axes.includes(i));
  // Row-major strides of the keepdims output.
  const outShape = shape.map((d, i) => (reduced[i] ? 1 : d));
  const outStrides = new Array<number>(rank);
  let outSize = 1;
  for (let i = rank - 1; i >= 0; i--) {
    outStrides[i] = outSize;
    outSize *= outShape[i];
  }
  const n = data.length;
  const of = new Int32Array(n);
  const idx = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < n; flat++) {
    let o = 0;
    for (let i = 0; i < rank; i++) if (!reduced[i]) o += idx[i] * outStrides[i];
    of[flat] = o;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < shape[i]) break;
      idx[i] = 0;
    }
  }
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) sq[i] = r(data[i] * data[i]);

  const sums = new Float64Array(outSize);
  // numpy drops length-1 axes; if every remaining reduced axis is inner to every remaining kept
  // axis, each output sums one contiguous block, pairwise. Otherwise numpy's inner loop runs over
  // the kept axes, adding the reduced positions one after another.
  const effective = shape.map((_d, i) => i).filter((i) => shape[i] > 1);
  const lastKept = Math.max(-1, ...effective.filter((i) => !reduced[i]));
  const firstReduced = Math.min(rank, ...effective.filter((i) => reduced[i]));
  if (outSize > 0 && firstReduced > lastKept) {
    const block = n / outSize;
    for (let o = 0; o < outSize; o++) sums[o] = r(0 + pairwiseSum(sq, o * block, block, r));
  } else {
    for (let i = 0; i < n; i++) sums[of[i]] = r(sums[of[i]] + sq[i]);
  }
  const norm = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) norm[o] = r(Math.sqrt(sums[o]));
  return { norm, of };
}

function checkNumberArg(value: unknown, name: string, className: string): number {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value !== 'number') {
    throw typeError(`${className}: argument \`${name}\` must be a number. Received: ${name}=${pyRepr(value)}`);
  }
  return value;
}

/** numpy's `clip(x, lo, hi)` = `minimum(maximum(x, lo), hi)`. */
function clip(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

function newLike(data: FloatArray): FloatArray {
  return data instanceof Float32Array ? new Float32Array(data.length) : new Float64Array(data.length);
}

function copyAxis(axis: ConstraintAxis): ConstraintAxis {
  return cloneJson(axis);
}

/** Keras's `Constraint` base class (`'Constraint'`): returns the weights unchanged. */
class BaseConstraint implements Constraint {
  readonly className: string = 'Constraint';
  getConfig(): Record<string, unknown> {
    return {};
  }
  apply(data: FloatArray, shape: readonly number[]): FloatArray {
    checkData(data, shape);
    return data.slice();
  }
}

/** `w * clip(norms, 0, max_value) / (epsilon + norms)`, norms along `axis`. */
export class MaxNorm implements Constraint {
  readonly className: string = 'MaxNorm';
  readonly maxValue: number;
  readonly axis: ConstraintAxis;
  constructor(maxValue: number = 2, axis: ConstraintAxis = 0) {
    this.maxValue = maxValue;
    this.axis = copyAxis(axis);
  }
  getConfig(): Record<string, unknown> {
    return { max_value: this.maxValue, axis: copyAxis(this.axis) };
  }
  apply(data: FloatArray, shape: readonly number[]): FloatArray {
    checkData(data, shape);
    const r = rounding(data);
    const { norm, of } = norms(data, shape, this.axis, r);
    const hi = r(checkNumberArg(this.maxValue, 'max_value', 'MaxNorm'));
    const eps = r(EPSILON);
    const factor = Array.from(norm, (nm) => r(r(clip(nm, 0, hi)) / r(eps + nm)));
    const out = newLike(data);
    for (let i = 0; i < data.length; i++) out[i] = r(data[i] * factor[of[i]]);
    return out;
  }
  static fromConfig(config: Record<string, unknown>): MaxNorm {
    const c = takeArgs('MaxNorm', config, ['max_value', 'axis']);
    return new MaxNorm((c.max_value ?? 2) as number, ('axis' in c ? c.axis : 0) as ConstraintAxis);
  }
}

/**
 * `w * (rate * clip(norms, min_value, max_value) + (1 - rate) * norms) / (epsilon + norms)`.
 */
export class MinMaxNorm implements Constraint {
  readonly className: string = 'MinMaxNorm';
  readonly minValue: number;
  readonly maxValue: number;
  readonly rate: number;
  readonly axis: ConstraintAxis;
  constructor(minValue: number = 0.0, maxValue: number = 1.0, rate: number = 1.0, axis: ConstraintAxis = 0) {
    this.minValue = minValue;
    this.maxValue = maxValue;
    this.rate = rate;
    this.axis = copyAxis(axis);
  }
  getConfig(): Record<string, unknown> {
    return { min_value: this.minValue, max_value: this.maxValue, rate: this.rate, axis: copyAxis(this.axis) };
  }
  apply(data: FloatArray, shape: readonly number[]): FloatArray {
    checkData(data, shape);
    const r = rounding(data);
    const { norm, of } = norms(data, shape, this.axis, r);
    const lo = r(checkNumberArg(this.minValue, 'min_value', 'MinMaxNorm'));
    const hi = r(checkNumberArg(this.maxValue, 'max_value', 'MinMaxNorm'));
    const rate = checkNumberArg(this.rate, 'rate', 'MinMaxNorm');
    const rateR = r(rate);
    const oneMinusRate = r(1 - rate);
    const eps = r(EPSILON);
    const factor = Array.from(norm, (nm) => {
      const desired = r(r(rateR * r(clip(nm, lo, hi))) + r(oneMinusRate * nm));
      return r(desired / r(eps + nm));
    });
    const out = newLike(data);
    for (let i = 0; i < data.length; i++) out[i] = r(data[i] * factor[of[i]]);
    return out;
  }
  static fromConfig(config: Record<string, unknown>): MinMaxNorm {
    const c = takeArgs('MinMaxNorm', config, ['min_value', 'max_value', 'rate', 'axis']);
    return new MinMaxNorm(
      (c.min_value ?? 0.0) as number,
      (c.max_value ?? 1.0) as number,
      (c.rate ?? 1.0) as number,
      ('axis' in c ? c.axis : 0) as ConstraintAxis,
    );
  }
}

/** `maximum(w, 0)` (NaN stays NaN, -0 becomes +0, as numpy's maximum). */
export class NonNeg implements Constraint {
  readonly className: string = 'NonNeg';
  getConfig(): Record<string, unknown> {
    return {};
  }
  apply(data: FloatArray, shape: readonly number[]): FloatArray {
    checkData(data, shape);
    const out = newLike(data);
    for (let i = 0; i < data.length; i++) out[i] = Math.max(data[i], 0);
    return out;
  }
  static fromConfig(config: Record<string, unknown>): NonNeg {
    takeArgs('NonNeg', config, []);
    return new NonNeg();
  }
}

/** `w / (epsilon + norms)`, norms along `axis`. */
export class UnitNorm implements Constraint {
  readonly className: string = 'UnitNorm';
  readonly axis: ConstraintAxis;
  constructor(axis: ConstraintAxis = 0) {
    this.axis = copyAxis(axis);
  }
  getConfig(): Record<string, unknown> {
    return { axis: copyAxis(this.axis) };
  }
  apply(data: FloatArray, shape: readonly number[]): FloatArray {
    checkData(data, shape);
    const r = rounding(data);
    const { norm, of } = norms(data, shape, this.axis, r);
    const eps = r(EPSILON);
    const denom = Array.from(norm, (nm) => r(eps + nm));
    const out = newLike(data);
    for (let i = 0; i < data.length; i++) out[i] = r(data[i] / denom[of[i]]);
    return out;
  }
  static fromConfig(config: Record<string, unknown>): UnitNorm {
    const c = takeArgs('UnitNorm', config, ['axis']);
    return new UnitNorm(('axis' in c ? c.axis : 0) as ConstraintAxis);
  }
}

function isConstraint(value: unknown): value is Constraint {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Constraint).className === 'string' &&
    typeof (value as Constraint).getConfig === 'function' &&
    typeof (value as Constraint).apply === 'function'
  );
}

const PY_MODULE = 'keras.src.constraints.constraints';
const MODULE = 'keras.constraints';

const CONSTRAINTS = makeTable<Constraint>(
  'constraint',
  MODULE,
  [
    {
      className: 'Constraint',
      module: MODULE,
      pyModule: PY_MODULE,
      fromConfig: (c) => (takeArgs('Constraint', c, []), new BaseConstraint()),
      ctor: BaseConstraint,
    },
    { className: 'MaxNorm', module: MODULE, pyModule: PY_MODULE, fromConfig: MaxNorm.fromConfig, ctor: MaxNorm },
    { className: 'MinMaxNorm', module: MODULE, pyModule: PY_MODULE, fromConfig: MinMaxNorm.fromConfig, ctor: MinMaxNorm },
    { className: 'NonNeg', module: MODULE, pyModule: PY_MODULE, fromConfig: NonNeg.fromConfig, ctor: NonNeg },
    { className: 'UnitNorm', module: MODULE, pyModule: PY_MODULE, fromConfig: UnitNorm.fromConfig, ctor: UnitNorm },
  ],
  {},
  isConstraint,
);

/**
 * `keras.constraints.get(identifier)`: `null`/`undefined` -> `null`; a name (`'max_norm'`,
 * `'min_max_norm'`, `'non_neg'`, `'unit_norm'` or a class name); a config dict; a class; or a
 * constraint object (returned as is).
 */
export function getConstraint(identifier: unknown): Constraint | null {
  if (identifier === null || identifier === undefined) return null;
  return resolveKerasObject(identifier, CONSTRAINTS);
}

/** `keras.constraints.serialize(constraint)`. */
export function serializeConstraint(c: Constraint | null): KerasObjectConfig | null {
  if (c === null || c === undefined) return null;
  return serializeKerasObject(c, CONSTRAINTS);
}
