/**
 * Keras 3.15.1's weight initializers (keras/src/initializers), with Keras's names, identifiers,
 * argument checks, error messages and `get_config()` output (same keys, same order).
 *
 * Random values come from gru's own seeded generator (see random.ts), not numpy's: the same
 * seed gives the same weights here every time, and the same distribution as Keras, but not
 * Keras's exact numbers. As in Keras, an initializer seeded with an integer or unseeded (`null`,
 * a seed drawn once at construction) returns the same values on every call; one seeded with a
 * `SeedGenerator` advances it and returns new values on each call.
 */
import { GruError, formatShape, pyRepr, pyTypeName, typeError, valueError } from './errors.js';
import {
  type KerasClass,
  type KerasObjectConfig,
  cloneJson,
  isPlainObject,
  makeTable,
  resolveKerasObject,
  serializeKerasObject,
  takeArgs,
} from './keras-objects.js';
import { arrayTooLarge, getResourceLimits } from './limits.js';
import { SeedGenerator, makeDefaultSeed } from './random.js';
import type { DType, FloatArray } from './tensor.js';

export type { FloatArray } from './tensor.js';
export type { KerasObjectConfig } from './keras-objects.js';
export type WeightDType = DType;

export interface Initializer {
  readonly className: string;
  getConfig(): Record<string, unknown>;
  generate(shape: readonly number[], dtype: WeightDType): FloatArray;
}

/** A seed as Keras's random initializers accept it: an integer, a SeedGenerator, a serialized SeedGenerator, or none. */
export type InitializerSeed = number | boolean | SeedGenerator | Record<string, unknown> | null;

function checkShape(shape: readonly number[]): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw valueError(`Invalid \`shape\` for an initializer: expected a list of non-negative integers. Received: shape=${pyRepr(shape)}`);
  }
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function allocate(dtype: WeightDType, n: number): FloatArray {
  const tooLarge = arrayTooLarge('The tensor to initialize', n, dtype === 'float64' ? 8 : 4);
  if (tooLarge) throw valueError(`${tooLarge}.`);
  if (dtype === 'float32') return new Float32Array(n);
  if (dtype === 'float64') return new Float64Array(n);
  throw valueError(`Invalid \`dtype\` for an initializer: expected 'float32' or 'float64'. Received: dtype=${pyRepr(dtype)}`);
}

function fill(shape: readonly number[], dtype: WeightDType, draw: () => number): FloatArray {
  const out = allocate(dtype, checkShape(shape));
  for (let i = 0; i < out.length; i++) out[i] = draw();
  return out;
}

function checkNumber(value: unknown, name: string): number {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value !== 'number') {
    throw typeError(`Argument \`${name}\` must be a number. Received: ${name}=${pyRepr(value)} of type ${pyTypeName(value)}`);
  }
  return value;
}

// ---------------------------------------------------------------- constant initializers

/** Keras's `Initializer` base class (`'Initializer'`): it cannot generate anything. */
class BaseInitializer implements Initializer {
  readonly className: string = 'Initializer';
  getConfig(): Record<string, unknown> {
    return {};
  }
  generate(_shape: readonly number[], _dtype: WeightDType): FloatArray {
    throw new GruError('NotImplementedError', 'Initializer subclasses must implement the `__call__()` method.');
  }
}

export class Zeros implements Initializer {
  readonly className: string = 'Zeros';
  getConfig(): Record<string, unknown> {
    return {};
  }
  generate(shape: readonly number[], dtype: WeightDType): FloatArray {
    return allocate(dtype, checkShape(shape));
  }
  static fromConfig(config: Record<string, unknown>): Zeros {
    takeArgs('Zeros', config, []);
    return new Zeros();
  }
}

export class Ones implements Initializer {
  readonly className: string = 'Ones';
  getConfig(): Record<string, unknown> {
    return {};
  }
  generate(shape: readonly number[], dtype: WeightDType): FloatArray {
    return fill(shape, dtype, () => 1);
  }
  static fromConfig(config: Record<string, unknown>): Ones {
    takeArgs('Ones', config, []);
    return new Ones();
  }
}

/**
 * `Constant(value)`: a scalar. `value` may also be the serialized form Keras writes for a numpy or
 * backend scalar (`{"class_name": "__tensor__" | "__numpy__", "config": {"value": v, "dtype": d}}`),
 * which is kept and written back as Keras would.
 */
export class Constant implements Initializer {
  readonly className: string = 'Constant';
  readonly value: number;
  private readonly rawValue: unknown;

  constructor(value: number | boolean | Record<string, unknown> = 0.0) {
    if (typeof value === 'number' || typeof value === 'boolean') {
      this.value = Number(value);
      this.rawValue = value;
    } else if (
      isPlainObject(value) &&
      (value.class_name === '__tensor__' || value.class_name === '__numpy__') &&
      isPlainObject(value.config) &&
      (typeof value.config.value === 'number' || typeof value.config.value === 'boolean')
    ) {
      this.value = Number(value.config.value);
      // A 0-d numpy array deserializes to an array whose serialization is the plain scalar.
      this.rawValue = value.class_name === '__numpy__' ? value.config.value : cloneJson(value);
    } else {
      throw valueError(`Constant initializer only supports scalar values. Received: value=${pyRepr(value)}`);
    }
  }
  getConfig(): Record<string, unknown> {
    return { value: cloneJson(this.rawValue) };
  }
  generate(shape: readonly number[], dtype: WeightDType): FloatArray {
    const v = this.value;
    return fill(shape, dtype, () => v);
  }
  /** Keras's `Constant.from_config` reads `config["value"]` (a KeyError without it) and ignores other keys. */
  static fromConfig(config: Record<string, unknown>): Constant {
    if (!('value' in config)) {
      throw valueError("Constant.from_config: the config has no 'value' key (Keras raises KeyError: 'value').");
    }
    return new Constant(config.value as number);
  }
}

/**
 * `Identity(gain)`: `gain * eye(rows, cols)` for a 2-D shape. Keras's Identity has no
 * `get_config()`, so its config is `{}` whatever the gain (Keras drops the gain on save).
 */
export class Identity implements Initializer {
  readonly className: string = 'Identity';
  readonly gain: number;
  constructor(gain: number = 1.0) {
    this.gain = checkNumber(gain, 'gain');
  }
  getConfig(): Record<string, unknown> {
    return {};
  }
  generate(shape: readonly number[], dtype: WeightDType): FloatArray {
    if (!Array.isArray(shape) || shape.length !== 2) {
      const rank = Array.isArray(shape) ? shape.length : 0;
      throw valueError(
        'Identity matrix initializer can only be used for 2D matrices. ' +
          `Received: shape=${Array.isArray(shape) ? formatShape(shape) : pyRepr(shape)} of rank ${rank}.`,
      );
    }
    const out = allocate(dtype, checkShape(shape));
    const [rows, cols] = shape;
    for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = this.gain;
    return out;
  }
  static fromConfig(config: Record<string, unknown>): Identity {
    const c = takeArgs('Identity', config, ['gain']);
    return new Identity((c.gain ?? 1.0) as number);
  }
}

// ---------------------------------------------------------------- random initializers

function serializeSeed(seed: InitializerSeed): unknown {
  if (seed instanceof SeedGenerator) {
    return {
      module: 'keras.random',
      class_name: 'SeedGenerator',
      config: { seed: seed.initialSeed, name: 'seed_generator' },
      registered_name: null,
    };
  }
  return cloneJson(seed);
}

/** Keras's `RandomInitializer`: seed checks, and the seed stream each call draws from. */
abstract class RandomInitializer implements Initializer {
  abstract readonly className: string;
  private readonly initSeed: InitializerSeed;
  /** An integer (a fresh stream per call: same values every call) or a SeedGenerator (advancing). */
  private readonly seedSource: number | SeedGenerator;

  constructor(seed: InitializerSeed | undefined) {
    const s = seed === undefined ? null : seed;
    this.initSeed = s instanceof SeedGenerator ? s : cloneJson(s);
    if (s === null) {
      this.seedSource = makeDefaultSeed();
    } else if (s instanceof SeedGenerator) {
      this.seedSource = s;
    } else if (typeof s === 'boolean' || (typeof s === 'number' && Number.isSafeInteger(s))) {
      this.seedSource = Number(s);
    } else if (isPlainObject(s)) {
      // `deserialize_keras_object(seed)`: only a serialized SeedGenerator makes sense here.
      const inner = s.config;
      if (s.class_name !== 'SeedGenerator' || !isPlainObject(inner)) throw badSeed(s);
      const innerSeed = inner.seed;
      if (innerSeed !== null && innerSeed !== undefined && !Number.isSafeInteger(innerSeed)) throw badSeed(s);
      this.seedSource = new SeedGenerator(innerSeed as number | null | undefined);
    } else {
      throw badSeed(s);
    }
  }

  getConfig(): Record<string, unknown> {
    return { seed: serializeSeed(this.initSeed) };
  }

  /** The generator for one call. */
  protected stream(): SeedGenerator {
    return this.seedSource instanceof SeedGenerator ? this.seedSource : new SeedGenerator(this.seedSource);
  }

  abstract generate(shape: readonly number[], dtype: WeightDType): FloatArray;
}

function badSeed(seed: unknown): GruError {
  return valueError('`seed` argument should be an instance of `keras.random.SeedGenerator()` or an integer. ' + `Received: seed=${pyRepr(seed)}`);
}

/**
 * Keras's numpy `truncated_normal`: normal draws, those outside mean +- 2 stddev re-drawn.
 * The re-draw loop ends only if the range can hold a draw: a negative stddev keeps its range
 * (mean +- 2|stddev|, what TensorFlow and JAX draw from). A NaN bound, where Keras's numpy
 * backend loops forever, is refused, and so is an infinite one, whose draws would all be +-inf.
 */
function truncatedNormalDraw(gen: SeedGenerator, mean: number, stddev: number, owner: string): () => number {
  for (const [name, value] of [
    ['mean', mean],
    ['stddev', stddev],
  ] as const) {
    if (!Number.isFinite(value)) {
      throw valueError(`${owner} cannot draw from a truncated normal: argument \`${name}\` must be a finite number. Received: ${name}=${pyRepr(value)}`);
    }
  }
  const lower = mean - 2 * Math.abs(stddev);
  const upper = mean + 2 * Math.abs(stddev);
  return () => {
    for (;;) {
      const v = mean + stddev * gen.normal();
      if (v >= lower && v <= upper) return v;
    }
  };
}

export class RandomNormal extends RandomInitializer {
  readonly className: string = 'RandomNormal';
  readonly mean: number;
  readonly stddev: number;
  constructor(mean: number = 0.0, stddev: number = 0.05, seed: InitializerSeed = null) {
    super(seed);
    this.mean = checkNumber(mean, 'mean');
    this.stddev = checkNumber(stddev, 'stddev');
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }
  generate(shape: readonly number[], dtype: WeightDType): FloatArray {
    const gen = this.stream();
    return fill(shape, dtype, () => this.mean + this.stddev * gen.normal());
  }
  static fromConfig(config: Record<string, unknown>): RandomNormal {
    const c = takeArgs('RandomNormal', config, ['mean', 'stddev', 'seed']);
    return new RandomNormal((c.mean ?? 0.0) as number, (c.stddev ?? 0.05) as number, (c.seed ?? null) as InitializerSeed);
  }
}

export class TruncatedNormal extends RandomInitializer {
  readonly className: string = 'TruncatedNormal';
  readonly mean: number;
  readonly stddev: number;
  constructor(mean: number = 0.0, stddev: number = 0.05, seed: InitializerSeed = null) {
    super(seed);
    this.mean = checkNumber(mean, 'mean');
    this.stddev = checkNumber(stddev, 'stddev');
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mean: this.mean, stddev: this.stddev };
  }
  generate(shape: readonly number[], dtype: WeightDType): FloatArray {
    return fill(shape, dtype, truncatedNormalDraw(this.stream(), this.mean, this.stddev, 'TruncatedNormal'));
  }
  static fromConfig(config: Record<string, unknown>): TruncatedNormal {
    const c = takeArgs('TruncatedNormal', config, ['mean', 'stddev', 'seed']);
    return new TruncatedNormal((c.mean ?? 0.0) as number, (c.stddev ?? 0.05) as number, (c.seed ?? null) as InitializerSeed);
  }
}

export class RandomUniform extends RandomInitializer {
  readonly className: string = 'RandomUniform';
  readonly minval: number;
  readonly maxval: number;
  constructor(minval: number = -0.05, maxval: number = 0.05, seed: InitializerSeed = null) {
    super(seed);
    this.minval = checkNumber(minval, 'minval');
    this.maxval = checkNumber(maxval, 'maxval');
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), minval: this.minval, maxval: this.maxval };
  }
  generate(shape: readonly number[], dtype: WeightDType): FloatArray {
    const gen = this.stream();
    const { minval, maxval } = this;
    return fill(shape, dtype, () => minval + (maxval - minval) * gen.uniform());
  }
  static fromConfig(config: Record<string, unknown>): RandomUniform {
    const c = takeArgs('RandomUniform', config, ['minval', 'maxval', 'seed']);
    return new RandomUniform((c.minval ?? -0.05) as number, (c.maxval ?? 0.05) as number, (c.seed ?? null) as InitializerSeed);
  }
}

/** `compute_fans(shape, input_axes, output_axes)` from keras/src/initializers/random_initializers.py. */
export function computeFans(
  shape: readonly number[],
  inputAxes: readonly number[] | null = null,
  outputAxes: readonly number[] | null = null,
): [number, number] {
  if (inputAxes !== null && inputAxes !== undefined && outputAxes !== null && outputAxes !== undefined) {
    return [productOfAxes(shape, inputAxes), productOfAxes(shape, outputAxes)];
  }
  if (shape.length < 1) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  // Convolution kernels: (..., input_depth, depth).
  let receptiveField = 1;
  for (const d of shape.slice(0, -2)) receptiveField *= d;
  return [shape[shape.length - 2] * receptiveField, shape[shape.length - 1] * receptiveField];
}

/** `prod(shape[axis] for axis in axes)` with Python's tuple indexing (negative axes, IndexError). */
function productOfAxes(shape: readonly number[], axes: unknown): number {
  if (!Array.isArray(axes)) throw typeError(`'${pyTypeName(axes)}' object is not iterable`);
  let fan = 1;
  for (const axis of axes) {
    if (typeof axis !== 'number' || !Number.isInteger(axis)) {
      throw typeError(`tuple indices must be integers or slices, not ${pyTypeName(axis)}`);
    }
    const i = axis < 0 ? axis + shape.length : axis;
    if (i < 0 || i >= shape.length) throw new GruError('IndexError', 'tuple index out of range');
    fan *= shape[i];
  }
  return fan;
}

export type FanMode = 'fan_in' | 'fan_out' | 'fan_avg';
export type VarianceScalingDistribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';

const VARIANCE_SCALING_ARGS = ['scale', 'mode', 'distribution', 'seed', 'input_axes', 'output_axes'];
const PRESET_ARGS = ['seed', 'input_axes', 'output_axes'];

export class VarianceScaling extends RandomInitializer {
  readonly className: string = 'VarianceScaling';
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: VarianceScalingDistribution;
  readonly inputAxes: number[] | null;
  readonly outputAxes: number[] | null;

  constructor(
    scale: number = 1.0,
    mode: FanMode = 'fan_in',
    distribution: VarianceScalingDistribution | 'normal' | string = 'truncated_normal',
    seed: InitializerSeed = null,
    inputAxes: number[] | null = null,
    outputAxes: number[] | null = null,
  ) {
    if (typeof scale !== 'number' && typeof scale !== 'boolean') {
      throw typeError(`'<=' not supported between instances of '${pyTypeName(scale)}' and 'float'`);
    }
    // NaN passes Keras's `scale <= 0` check and then hangs (truncated normal) or gives NaN weights.
    if (scale <= 0.0 || Number.isNaN(scale)) {
      throw valueError(`Argument \`scale\` must be positive float. Received: scale=${pyRepr(scale)}`);
    }
    // Keras formats a Python set here, whose order varies between runs; we print the source order.
    if (mode !== 'fan_in' && mode !== 'fan_out' && mode !== 'fan_avg') {
      throw valueError(`Invalid \`mode\` argument: ${pyRepr(mode)}. Please use one of {'fan_in', 'fan_out', 'fan_avg'}`);
    }
    if (typeof distribution !== 'string') {
      throw typeError(`'${pyTypeName(distribution)}' object has no attribute 'lower'`);
    }
    let dist = distribution.toLowerCase();
    if (dist === 'normal') dist = 'truncated_normal';
    if (dist !== 'uniform' && dist !== 'truncated_normal' && dist !== 'untruncated_normal') {
      throw valueError(`Invalid \`distribution\` argument: ${dist}.` + "Please use one of {'uniform', 'truncated_normal', 'untruncated_normal'}");
    }
    super(seed);
    this.scale = Number(scale);
    this.mode = mode;
    this.distribution = dist;
    this.inputAxes = inputAxes === null || inputAxes === undefined ? null : cloneJson(inputAxes);
    this.outputAxes = outputAxes === null || outputAxes === undefined ? null : cloneJson(outputAxes);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      scale: this.scale,
      mode: this.mode,
      distribution: this.distribution,
      input_axes: cloneJson(this.inputAxes),
      output_axes: cloneJson(this.outputAxes),
    };
  }

  /** The standard deviation (normal distributions) or limit (uniform) for a shape, as Keras computes it. */
  scaleFor(shape: readonly number[]): { stddev: number; limit: number } {
    const [fanIn, fanOut] = computeFans(shape, this.inputAxes, this.outputAxes);
    let scale = this.scale;
    if (this.mode === 'fan_in') scale /= Math.max(1.0, fanIn);
    else if (this.mode === 'fan_out') scale /= Math.max(1.0, fanOut);
    else scale /= Math.max(1.0, (fanIn + fanOut) / 2.0);
    if (this.distribution === 'truncated_normal') {
      // Keras: the stddev of a standard normal truncated to [-2, 2] is 0.87962566103423978.
      return { stddev: Math.sqrt(scale) / 0.87962566103423978, limit: NaN };
    }
    if (this.distribution === 'untruncated_normal') return { stddev: Math.sqrt(scale), limit: NaN };
    return { stddev: NaN, limit: Math.sqrt(3.0 * scale) };
  }

  generate(shape: readonly number[], dtype: WeightDType): FloatArray {
    checkShape(shape);
    const { stddev, limit } = this.scaleFor(shape);
    const gen = this.stream();
    if (this.distribution === 'truncated_normal') return fill(shape, dtype, truncatedNormalDraw(gen, 0.0, stddev, this.className));
    if (this.distribution === 'untruncated_normal') return fill(shape, dtype, () => stddev * gen.normal());
    return fill(shape, dtype, () => -limit + 2 * limit * gen.uniform());
  }

  static fromConfig(config: Record<string, unknown>): VarianceScaling {
    const c = takeArgs('VarianceScaling', config, VARIANCE_SCALING_ARGS);
    return new VarianceScaling(
      (c.scale ?? 1.0) as number,
      (c.mode ?? 'fan_in') as FanMode,
      (c.distribution ?? 'truncated_normal') as string,
      (c.seed ?? null) as InitializerSeed,
      (c.input_axes ?? null) as number[] | null,
      (c.output_axes ?? null) as number[] | null,
    );
  }
}

/** The VarianceScaling presets serialize only `seed`, `input_axes` and `output_axes`. */
abstract class VarianceScalingPreset extends VarianceScaling {
  override getConfig(): Record<string, unknown> {
    const { seed, input_axes, output_axes } = super.getConfig();
    return { seed, input_axes, output_axes };
  }
}

type PresetArgs = [seed?: InitializerSeed, inputAxes?: number[] | null, outputAxes?: number[] | null];

function presetArgs(className: string, config: Record<string, unknown>): PresetArgs {
  const c = takeArgs(className, config, PRESET_ARGS);
  return [(c.seed ?? null) as InitializerSeed, (c.input_axes ?? null) as number[] | null, (c.output_axes ?? null) as number[] | null];
}

/** `limit = sqrt(6 / (fan_in + fan_out))`, uniform. */
export class GlorotUniform extends VarianceScalingPreset {
  override readonly className: string = 'GlorotUniform';
  constructor(seed: InitializerSeed = null, inputAxes: number[] | null = null, outputAxes: number[] | null = null) {
    super(1.0, 'fan_avg', 'uniform', seed, inputAxes, outputAxes);
  }
  static override fromConfig(config: Record<string, unknown>): GlorotUniform {
    return new GlorotUniform(...presetArgs('GlorotUniform', config));
  }
}

/** `stddev = sqrt(2 / (fan_in + fan_out))`, truncated normal. */
export class GlorotNormal extends VarianceScalingPreset {
  override readonly className: string = 'GlorotNormal';
  constructor(seed: InitializerSeed = null, inputAxes: number[] | null = null, outputAxes: number[] | null = null) {
    super(1.0, 'fan_avg', 'truncated_normal', seed, inputAxes, outputAxes);
  }
  static override fromConfig(config: Record<string, unknown>): GlorotNormal {
    return new GlorotNormal(...presetArgs('GlorotNormal', config));
  }
}

/** `stddev = sqrt(1 / fan_in)`, truncated normal. */
export class LecunNormal extends VarianceScalingPreset {
  override readonly className: string = 'LecunNormal';
  constructor(seed: InitializerSeed = null, inputAxes: number[] | null = null, outputAxes: number[] | null = null) {
    super(1.0, 'fan_in', 'truncated_normal', seed, inputAxes, outputAxes);
  }
  static override fromConfig(config: Record<string, unknown>): LecunNormal {
    return new LecunNormal(...presetArgs('LecunNormal', config));
  }
}

/** `limit = sqrt(3 / fan_in)`, uniform. */
export class LecunUniform extends VarianceScalingPreset {
  override readonly className: string = 'LecunUniform';
  constructor(seed: InitializerSeed = null, inputAxes: number[] | null = null, outputAxes: number[] | null = null) {
    super(1.0, 'fan_in', 'uniform', seed, inputAxes, outputAxes);
  }
  static override fromConfig(config: Record<string, unknown>): LecunUniform {
    return new LecunUniform(...presetArgs('LecunUniform', config));
  }
}

/** `stddev = sqrt(2 / fan_in)`, truncated normal. */
export class HeNormal extends VarianceScalingPreset {
  override readonly className: string = 'HeNormal';
  constructor(seed: InitializerSeed = null, inputAxes: number[] | null = null, outputAxes: number[] | null = null) {
    super(2.0, 'fan_in', 'truncated_normal', seed, inputAxes, outputAxes);
  }
  static override fromConfig(config: Record<string, unknown>): HeNormal {
    return new HeNormal(...presetArgs('HeNormal', config));
  }
}

/** `limit = sqrt(6 / fan_in)`, uniform. */
export class HeUniform extends VarianceScalingPreset {
  override readonly className: string = 'HeUniform';
  constructor(seed: InitializerSeed = null, inputAxes: number[] | null = null, outputAxes: number[] | null = null) {
    super(2.0, 'fan_in', 'uniform', seed, inputAxes, outputAxes);
  }
  static override fromConfig(config: Record<string, unknown>): HeUniform {
    return new HeUniform(...presetArgs('HeUniform', config));
  }
}

/**
 * Reduced QR of a row-major m x n matrix (m >= n) by Householder reflections, with Keras's sign
 * correction `q *= sign(diag(r))`: returns Q (m x n, row-major), which is then the unique Q whose
 * R has a positive diagonal.
 */
function orthonormalizeColumns(a: Float64Array, m: number, n: number): Float64Array {
  // Work on columns stored contiguously: every reflection then walks memory in order, which is
  // what keeps a 512-unit recurrent kernel (a 1536 x 512 QR) fast.
  const cols = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => a[i * n + j]));
  const vs: Float64Array[] = [];
  const diag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const ck = cols[k];
    let norm2 = 0;
    for (let i = k; i < m; i++) norm2 += ck[i] * ck[i];
    const norm = Math.sqrt(norm2);
    const v = new Float64Array(m - k);
    if (norm === 0) {
      vs.push(v); // nothing to reflect; R[k, k] = 0
      diag[k] = 0;
      continue;
    }
    const x0 = ck[k];
    const alpha = x0 >= 0 ? -norm : norm;
    for (let i = k; i < m; i++) v[i - k] = ck[i];
    v[0] -= alpha;
    let vnorm2 = 0;
    for (let i = 0; i < v.length; i++) vnorm2 += v[i] * v[i];
    if (vnorm2 === 0) {
      vs.push(new Float64Array(m - k));
      diag[k] = x0;
      continue;
    }
    const inv = 1 / Math.sqrt(vnorm2);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
    // Apply H = I - 2 v v^T to columns k..n-1 of R.
    for (let j = k; j < n; j++) reflect(cols[j], v, k);
    vs.push(v);
    diag[k] = alpha;
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity.
  const qCols = Array.from({ length: n }, (_, j) => {
    const e = new Float64Array(m);
    e[j] = 1;
    return e;
  });
  for (let k = n - 1; k >= 0; k--) for (let j = 0; j < n; j++) reflect(qCols[j], vs[k], k);
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) {
    const s = Math.sign(diag[j]);
    const c = qCols[j];
    for (let i = 0; i < m; i++) q[i * n + j] = c[i] * s;
  }
  return q;
}

/** col[k..] -= 2 (v . col[k..]) v, for a unit vector v of length m - k. */
function reflect(col: Float64Array, v: Float64Array, k: number): void {
  let dot = 0;
  for (let i = 0; i < v.length; i++) dot += v[i] * col[k + i];
  if (dot === 0) return;
  dot *= 2;
  for (let i = 0; i < v.length; i++) col[k + i] -= dot * v[i];
}

/**
 * Refuses a QR decomposition past `maxInitializerOps` before it starts: it is O(m * n^2), so a
 * large recurrent kernel would otherwise keep the thread busy for hours.
 */
function checkQrWork(shape: readonly number[], m: number, n: number): void {
  const ops = 4 * m * n * n;
  const limit = getResourceLimits().maxInitializerOps;
  if (ops > limit) {
    throw valueError(
      `The Orthogonal initializer cannot initialize a weight of shape ${formatShape(shape)}: its QR decomposition needs about ` +
        `${ops.toExponential(1)} floating-point operations, beyond the limit of ${limit.toExponential(1)} (maxInitializerOps, ` +
        'see setResourceLimits). Set the weights with setWeights(), or use another initializer (e.g. GlorotUniform).',
    );
  }
}

/**
 * `Orthogonal(gain, seed)`: the Q of the QR decomposition of a standard-normal matrix of shape
 * `(max(rows, cols), min(rows, cols))`, sign-corrected, transposed when rows < cols, where
 * `rows = prod(shape[:-1])` and `cols = shape[-1]`, times `gain`.
 */
export class Orthogonal extends RandomInitializer {
  readonly className: string = 'Orthogonal';
  readonly gain: number;
  constructor(gain: number = 1.0, seed: InitializerSeed = null) {
    super(seed);
    this.gain = checkNumber(gain, 'gain');
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), gain: this.gain };
  }
  generate(shape: readonly number[], dtype: WeightDType): FloatArray {
    if (!Array.isArray(shape) || shape.length < 2) {
      const rank = Array.isArray(shape) ? shape.length : 0;
      throw valueError(
        'The tensor to initialize must be at least two-dimensional. Received: ' +
          `shape=${Array.isArray(shape) ? formatShape(shape) : pyRepr(shape)} of rank ${rank}.`,
      );
    }
    const size = checkShape(shape);
    const out = allocate(dtype, size);
    let numRows = 1;
    for (const d of shape.slice(0, -1)) numRows *= d;
    const numCols = shape[shape.length - 1];
    if (size === 0) return out;
    const m = Math.max(numRows, numCols);
    const n = Math.min(numRows, numCols);
    checkQrWork(shape, m, n);
    const gen = this.stream();
    const a = new Float64Array(m * n);
    for (let i = 0; i < a.length; i++) a[i] = gen.normal();
    const q = orthonormalizeColumns(a, m, n);
    if (numRows < numCols) {
      // q is (numCols x numRows); the weight is its transpose.
      for (let i = 0; i < numRows; i++) {
        for (let j = 0; j < numCols; j++) out[i * numCols + j] = this.gain * q[j * numRows + i];
      }
    } else {
      for (let i = 0; i < q.length; i++) out[i] = this.gain * q[i];
    }
    return out;
  }
  static fromConfig(config: Record<string, unknown>): Orthogonal {
    const c = takeArgs('Orthogonal', config, ['gain', 'seed']);
    return new Orthogonal((c.gain ?? 1.0) as number, (c.seed ?? null) as InitializerSeed);
  }
}

// ---------------------------------------------------------------- identifiers

function isInitializer(value: unknown): value is Initializer {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Initializer).className === 'string' &&
    typeof (value as Initializer).getConfig === 'function' &&
    typeof (value as Initializer).generate === 'function'
  );
}

const RANDOM_MODULE = 'keras.src.initializers.random_initializers';
const CONSTANT_MODULE = 'keras.src.initializers.constant_initializers';

function entry(
  className: string,
  pyModule: string,
  fromConfig: (config: Record<string, unknown>) => Initializer,
  ctor?: KerasClass<Initializer>['ctor'],
  module = 'keras.initializers',
): KerasClass<Initializer> {
  return { className, module, pyModule, fromConfig, ctor };
}

const INITIALIZERS = makeTable<Initializer>(
  'initializer',
  'keras.initializers',
  [
    entry('Initializer', 'keras.src.initializers.initializer', (c) => (takeArgs('Initializer', c, []), new BaseInitializer()), BaseInitializer, 'keras'),
    entry('Constant', CONSTANT_MODULE, Constant.fromConfig, Constant),
    entry('Identity', CONSTANT_MODULE, Identity.fromConfig, Identity),
    entry('Ones', CONSTANT_MODULE, Ones.fromConfig, Ones),
    entry('STFT', CONSTANT_MODULE, () => {
      throw valueError(
        'The `STFT` initializer builds (frame_length, 1, fft_bins) kernels for the STFTSpectrogram layer; ' +
          'it is not supported for GRU weights. Use e.g. `GlorotUniform`, `Orthogonal` or `Zeros`.',
      );
    }),
    entry('Zeros', CONSTANT_MODULE, Zeros.fromConfig, Zeros),
    entry('GlorotNormal', RANDOM_MODULE, GlorotNormal.fromConfig, GlorotNormal),
    entry('GlorotUniform', RANDOM_MODULE, GlorotUniform.fromConfig, GlorotUniform),
    entry('HeNormal', RANDOM_MODULE, HeNormal.fromConfig, HeNormal),
    entry('HeUniform', RANDOM_MODULE, HeUniform.fromConfig, HeUniform),
    entry('LecunNormal', RANDOM_MODULE, LecunNormal.fromConfig, LecunNormal),
    entry('LecunUniform', RANDOM_MODULE, LecunUniform.fromConfig, LecunUniform),
    entry('Orthogonal', RANDOM_MODULE, Orthogonal.fromConfig, Orthogonal),
    entry('RandomNormal', RANDOM_MODULE, RandomNormal.fromConfig, RandomNormal),
    entry('RandomUniform', RANDOM_MODULE, RandomUniform.fromConfig, RandomUniform),
    entry('TruncatedNormal', RANDOM_MODULE, TruncatedNormal.fromConfig, TruncatedNormal),
    entry('VarianceScaling', RANDOM_MODULE, VarianceScaling.fromConfig, VarianceScaling),
  ],
  {
    IdentityInitializer: 'Identity',
    normal: 'RandomNormal',
    one: 'Ones',
    STFTInitializer: 'STFT',
    OrthogonalInitializer: 'Orthogonal',
    uniform: 'RandomUniform',
    zero: 'Zeros',
  },
  isInitializer,
);

/**
 * `keras.initializers.get(identifier)`: a name (`'glorot_uniform'`, `'GlorotUniform'`, an alias
 * such as `'normal'`), a config dict (`{module, class_name, config, registered_name}` or Keras
 * 2's `{class_name, config}`), an initializer class, or an initializer object (returned as is).
 */
export function getInitializer(identifier: unknown): Initializer {
  if (identifier === null || identifier === undefined) {
    // Keras's get(None) returns None; every caller in gru needs an initializer.
    throw valueError(`Could not interpret initializer identifier: ${pyRepr(identifier)}`);
  }
  return resolveKerasObject(identifier, INITIALIZERS);
}

/** `keras.initializers.serialize(initializer)`. */
export function serializeInitializer(init: Initializer): KerasObjectConfig {
  return serializeKerasObject(init, INITIALIZERS);
}
