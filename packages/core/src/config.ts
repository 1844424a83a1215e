import { resolveActivation, serializeActivation, type ActivationId, type ActivationIdentifier, type KerasFlavor } from './activations.js';
import { getConstraint, serializeConstraint, type Constraint } from './constraints.js';
import { GruError, pyRepr, pyTypeName, typeError, valueError } from './errors.js';
import { getInitializer, serializeInitializer, type Initializer } from './initializers.js';
import { getRegularizer, serializeRegularizer, type Regularizer } from './regularizers.js';
import type { DType } from './tensor.js';

/**
 * Which Keras a layer follows. `keras3` (default) is Keras 3. `keras2` is tf.keras 2.x: the same
 * defaults, but 'hard_sigmoid' means `clip(0.2x + 0.5, 0, 1)`. `keras2-v1` is tf.compat.v1's
 * GRU/GRUCell: Keras 2 semantics with `recurrentActivation: 'hard_sigmoid'`, `resetAfter: false`
 * and `implementation: 1` as defaults.
 */
export type KerasCompat = 'keras3' | 'keras2' | 'keras2-v1';

/** A Keras identifier for an initializer/regularizer/constraint: a name, a config object or an instance. */
export type KerasIdentifier = string | Record<string, unknown> | null;

/**
 * The dtype policy names Keras accepts. Weights, inputs and outputs are float32 for every policy
 * but 'float64'; the half-precision ones round-trip through configs but cannot run.
 */
export type DTypePolicyName = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'mixed_float16' | 'mixed_bfloat16';

/** Keras's GRUCell arguments, camelCase. */
export interface GruCellOptions {
  units: number;
  /** Default 'tanh'; `null` is 'linear'. */
  activation?: ActivationIdentifier | null;
  /** Default 'sigmoid' ('hard_sigmoid' with `compat: 'keras2-v1'`); `null` is 'linear'. */
  recurrentActivation?: ActivationIdentifier | null;
  useBias?: boolean;
  kernelInitializer?: KerasIdentifier | Initializer;
  recurrentInitializer?: KerasIdentifier | Initializer;
  biasInitializer?: KerasIdentifier | Initializer;
  kernelRegularizer?: KerasIdentifier | Regularizer;
  recurrentRegularizer?: KerasIdentifier | Regularizer;
  biasRegularizer?: KerasIdentifier | Regularizer;
  kernelConstraint?: KerasIdentifier | Constraint;
  recurrentConstraint?: KerasIdentifier | Constraint;
  biasConstraint?: KerasIdentifier | Constraint;
  dropout?: number;
  recurrentDropout?: number;
  resetAfter?: boolean;
  /**
   * Seeds the dropout masks only, as in Keras: initial weights come from the initializers,
   * which take their own seeds (e.g. `kernelInitializer: {class_name: 'GlorotUniform', config: {seed: 1}}`).
   */
  seed?: number | null;
  /**
   * Keras accepts it and forces 1 when recurrentDropout > 0; it is not in Keras 3's config. Default
   * 2, or 1 with `compat: 'keras2-v1'` (tf.compat.v1's default).
   */
  implementation?: 1 | 2;
  name?: string;
  trainable?: boolean;
  /**
   * Accepted as Keras's base layer accepts them (`input_shape`, `input_dim`: Keras warns, and only a
   * Sequential model reads them to make its input; `autocast`), and otherwise unused: a layer builds
   * from its first call or `build()`. Not part of the config, as in Keras.
   */
  inputShape?: readonly (number | null)[] | null;
  inputDim?: number | null;
  autocast?: boolean;
  /**
   * 'float32' (default), 'float64', or a Keras dtype policy (name or serialized object). A layer
   * created with `dtype: 'float64'` computes in float64 and types its results as Float64Array.
   */
  dtype?: DTypePolicyName | (string & {}) | Record<string, unknown> | null;
  compat?: KerasCompat;
}

/** Keras's GRU arguments, camelCase, plus gru's `timeMajor` (Keras 2) and `backend`. */
export interface GruOptions extends GruCellOptions {
  returnSequences?: boolean;
  returnState?: boolean;
  goBackwards?: boolean;
  stateful?: boolean;
  unroll?: boolean;
  zeroOutputForMask?: boolean;
  activityRegularizer?: KerasIdentifier | Regularizer;
  useCudnn?: 'auto' | boolean;
  /** Inputs and outputs are [time, batch, features] (Keras 2's `time_major`). */
  timeMajor?: boolean;
  /** Run on this backend only (by registered name); otherwise the best that supports the call. */
  backend?: string;
}

/** The dtype policy as Keras serializes it, kept for round trips. */
export interface DTypePolicyConfig {
  name: string;
  /** The dtype the math runs in. */
  compute: DType | 'float16' | 'bfloat16';
  /** The dtype weights are stored in. */
  variable: DType;
}

/** Everything a GRUCell is, resolved and validated. */
export interface CellConfig {
  name: string | undefined;
  trainable: boolean;
  dtypePolicy: DTypePolicyConfig;
  units: number;
  activation: ActivationId;
  recurrentActivation: ActivationId;
  useBias: boolean;
  /** null: Keras's `None` (the weight starts as `glorot_uniform`, as Keras's add_weight does; configs keep null). */
  kernelInitializer: Initializer | null;
  recurrentInitializer: Initializer | null;
  biasInitializer: Initializer | null;
  kernelRegularizer: Regularizer | null;
  recurrentRegularizer: Regularizer | null;
  biasRegularizer: Regularizer | null;
  kernelConstraint: Constraint | null;
  recurrentConstraint: Constraint | null;
  biasConstraint: Constraint | null;
  dropout: number;
  recurrentDropout: number;
  resetAfter: boolean;
  seed: number | null;
  implementation: 1 | 2;
  compat: KerasCompat;
}

export interface LayerConfig extends CellConfig {
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
  unroll: boolean;
  zeroOutputForMask: boolean;
  activityRegularizer: Regularizer | null;
  useCudnn: 'auto' | boolean;
  timeMajor: boolean;
  backend: string | undefined;
}

const CELL_KEYS = [
  'units',
  'activation',
  'recurrentActivation',
  'useBias',
  'kernelInitializer',
  'recurrentInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'recurrentRegularizer',
  'biasRegularizer',
  'kernelConstraint',
  'recurrentConstraint',
  'biasConstraint',
  'dropout',
  'recurrentDropout',
  'resetAfter',
  'seed',
  'implementation',
  'name',
  'trainable',
  'dtype',
  'compat',
  'inputShape',
  'inputDim',
  'autocast',
] as const;
const LAYER_KEYS = [
  ...CELL_KEYS,
  'returnSequences',
  'returnState',
  'goBackwards',
  'stateful',
  'unroll',
  'zeroOutputForMask',
  'activityRegularizer',
  'useCudnn',
  'timeMajor',
  'backend',
] as const;

/** Python's repr of a kwargs dict, as Keras prints it in "Unrecognized keyword arguments" errors. */
function pyDict(entries: [string, unknown][]): string {
  const item = (v: unknown) => (typeof v === 'string' ? `'${v}'` : pyRepr(v));
  return `{${entries.map(([k, v]) => `'${k}': ${item(v)}`).join(', ')}}`;
}

function rejectUnknown(options: object, allowed: readonly string[], className: string): void {
  const unknown = Object.entries(options).filter(([k, v]) => !allowed.includes(k) && v !== undefined);
  if (unknown.length) throw valueError(`Unrecognized keyword arguments passed to ${className}: ${pyDict(unknown)}`);
}

function checkBool(value: unknown, argName: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw typeError(`Argument \`${argName}\` must be a boolean, received ${pyRepr(value)} (${pyTypeName(value)}).`);
  }
  return value;
}

/**
 * Keras clamps rates with `min(1, max(0, rate))`; a non-number fails that comparison. NaN passes
 * it in Python (as a rate of 0), which would hide a bug upstream, so it is refused by name.
 */
function clampRate(value: unknown, argName: string): number {
  if (value === undefined) return 0;
  if (typeof value === 'boolean') {
    // Python takes True for 1; a boolean here is a mistake in JavaScript.
    throw typeError(`Argument \`${argName}\` must be a number between 0 and 1, received ${pyRepr(value)} (bool).`);
  }
  if (typeof value !== 'number') {
    throw typeError(`'>' not supported between instances of '${pyTypeName(value)}' and 'float'`);
  }
  if (Number.isNaN(value)) {
    throw valueError(`Received an invalid value for argument \`${argName}\`, expected a number between 0 and 1, got nan.`);
  }
  return Math.min(1, Math.max(0, value));
}

/** Keras's base-layer arguments gru accepts and does not use: their types are still checked. */
function checkBaseLayerArgs(options: GruCellOptions): void {
  const { inputShape, inputDim, autocast } = options;
  if (inputShape !== undefined && inputShape !== null) {
    if (!Array.isArray(inputShape) || inputShape.some((d) => d !== null && !(Number.isInteger(d) && d > 0))) {
      throw valueError(`Argument \`input_shape\` must be a list of positive integers or None, received ${pyRepr(inputShape)}.`);
    }
  }
  if (inputDim !== undefined && inputDim !== null && !(Number.isInteger(inputDim) && inputDim > 0)) {
    throw valueError(`Argument \`input_dim\` must be a positive integer, received ${pyRepr(inputDim)}.`);
  }
  checkBool(autocast, 'autocast', true);
}

function checkUnits(units: unknown): number {
  if (typeof units === 'boolean') {
    // Python takes True for 1; a boolean here is a mistake in JavaScript.
    throw typeError(`Argument \`units\` must be a positive integer, received ${pyRepr(units)} (bool).`);
  }
  if (typeof units !== 'number') {
    throw typeError(`'<=' not supported between instances of '${pyTypeName(units)}' and 'int'`);
  }
  if (units <= 0 || Number.isNaN(units)) {
    throw valueError(`Received an invalid value for argument \`units\`, expected a positive integer, got ${pyRepr(units)}.`);
  }
  if (!Number.isInteger(units)) {
    // Keras raises this when the layer is built; raising it now is earlier, not different.
    throw valueError('state_size must be an integer, or a list/tuple of integers (one for each state tensor).');
  }
  return units;
}

function checkName(name: unknown): string | undefined {
  if (name === undefined || name === null) return undefined;
  if (typeof name !== 'string' || name.includes('/')) {
    throw valueError(
      `Argument \`name\` must be a string and cannot contain character \`/\`. Received: name=${typeof name === 'string' ? name : pyRepr(name)} (of type <class '${pyTypeName(name)}'>)`,
    );
  }
  return name;
}

function checkSeed(seed: unknown): number | null {
  if (seed === undefined || seed === null) return null;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw valueError(`Argument \`seed\` must be an integer or None, received ${pyRepr(seed)}.`);
  }
  // Keras keeps a seed as a uint32 (its SeedGenerator state): others overflow there.
  if (seed < 0 || seed > 0xffffffff) {
    // Keras's own error there is numpy's OverflowError ("out of bounds for uint32").
    throw new GruError(
      'OverflowError',
      `Argument \`seed\` must be an integer from 0 to 4294967295 (a uint32, as Keras keeps it) or None, received ${pyRepr(seed)}.`,
    );
  }
  return seed;
}

export function resolveDTypePolicy(dtype: unknown): DTypePolicyConfig {
  let name: unknown = dtype ?? 'float32';
  if (typeof dtype === 'object' && dtype !== null) {
    const cfg = (dtype as Record<string, unknown>).config as Record<string, unknown> | undefined;
    name = cfg?.name ?? (dtype as Record<string, unknown>).name;
  }
  if (typeof name === 'string') {
    if (name === 'float32' || name === 'float64') return { name, compute: name, variable: name };
    if (name === 'mixed_float16' || name === 'mixed_bfloat16') {
      return { name, compute: name.slice('mixed_'.length) as 'float16' | 'bfloat16', variable: 'float32' };
    }
    // Pure half-precision policies round-trip through configs; the math is refused at call time.
    if (name === 'float16' || name === 'bfloat16') return { name, compute: name, variable: 'float32' };
  }
  throw valueError(`Invalid dtype policy: expected one of float32, float64, float16, bfloat16, mixed_float16, mixed_bfloat16, received ${pyRepr(name)}.`);
}

/**
 * Refuses a half-precision policy when a layer computes: such policies round-trip through
 * configs, but Keras would compute in float16/bfloat16, which gru does not (a float32 result
 * would differ silently).
 */
export function checkComputeDType(policy: DTypePolicyConfig, who: string): void {
  if (policy.compute !== 'float32' && policy.compute !== 'float64') {
    throw valueError(`${who} has dtype policy '${policy.name}', which computes in ${policy.compute}; gru computes in float32 or float64 only.`);
  }
}

function resolveOr<T>(fn: () => T, argName: string): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof GruError) throw err;
    throw valueError(`Argument \`${argName}\`: ${(err as Error).message}`);
  }
}

/**
 * An initializer argument: Keras's `initializers.get(None)` is None, kept as such in the config,
 * and the weight then starts as add_weight's default for float weights (glorot_uniform).
 */
function initializerOrNone(identifier: unknown, argName: string): Initializer | null {
  return identifier === null ? null : resolveOr(() => getInitializer(identifier), argName);
}

/** Validates GRUCell arguments exactly as Keras's constructor does, with Keras's defaults. */
export function resolveCellConfig(options: GruCellOptions, className = 'GRUCell', allowed: readonly string[] = CELL_KEYS): CellConfig {
  if (typeof options !== 'object' || options === null) {
    throw typeError(`${className} expects an options object such as {units: 32}, received ${pyRepr(options)}.`);
  }
  rejectUnknown(options, allowed, className);
  checkBaseLayerArgs(options);
  const compat = options.compat ?? 'keras3';
  if (!['keras3', 'keras2', 'keras2-v1'].includes(compat)) {
    throw valueError(`Argument \`compat\` must be one of 'keras3', 'keras2', 'keras2-v1', received ${pyRepr(compat)}.`);
  }
  const flavor: KerasFlavor = compat === 'keras3' ? 'keras3' : 'keras2';
  const v1 = compat === 'keras2-v1';
  const units = checkUnits(options.units);
  const recurrentDropout = clampRate(options.recurrentDropout, 'recurrent_dropout');
  // tf.compat.v1's GRU and GRUCell default to implementation 1 (`kwargs.pop('implementation', 1)`).
  const implementation = options.implementation ?? (v1 ? 1 : 2);
  if (implementation !== 1 && implementation !== 2) {
    throw valueError(`Argument \`implementation\` must be 1 or 2, received ${pyRepr(implementation)}.`);
  }
  const pick = <T>(value: T | undefined, fallback: T): T => (value === undefined ? fallback : value);
  return {
    name: checkName(options.name),
    trainable: checkBool(options.trainable, 'trainable', true),
    dtypePolicy: resolveDTypePolicy(options.dtype),
    units,
    activation: resolveActivation(pick(options.activation, 'tanh'), flavor),
    recurrentActivation: resolveActivation(pick(options.recurrentActivation, v1 ? 'hard_sigmoid' : 'sigmoid'), flavor),
    useBias: checkBool(options.useBias, 'useBias', true),
    kernelInitializer: initializerOrNone(pick(options.kernelInitializer, 'glorot_uniform'), 'kernelInitializer'),
    recurrentInitializer: initializerOrNone(pick(options.recurrentInitializer, 'orthogonal'), 'recurrentInitializer'),
    biasInitializer: initializerOrNone(pick(options.biasInitializer, 'zeros'), 'biasInitializer'),
    kernelRegularizer: getRegularizer(options.kernelRegularizer ?? null),
    recurrentRegularizer: getRegularizer(options.recurrentRegularizer ?? null),
    biasRegularizer: getRegularizer(options.biasRegularizer ?? null),
    kernelConstraint: getConstraint(options.kernelConstraint ?? null),
    recurrentConstraint: getConstraint(options.recurrentConstraint ?? null),
    biasConstraint: getConstraint(options.biasConstraint ?? null),
    dropout: clampRate(options.dropout, 'dropout'),
    recurrentDropout,
    resetAfter: checkBool(options.resetAfter, 'resetAfter', !v1),
    seed: checkSeed(options.seed),
    // Keras forces implementation 1 (three dropout masks per gate) once recurrent dropout is on.
    implementation: recurrentDropout !== 0 ? 1 : implementation,
    compat,
  };
}

/** Validates GRU arguments exactly as Keras's constructor does, with Keras's defaults. */
export function resolveLayerConfig(options: GruOptions): LayerConfig {
  const cell = resolveCellConfig(options, 'GRU', LAYER_KEYS);
  const useCudnn = options.useCudnn === undefined ? 'auto' : options.useCudnn;
  if (useCudnn !== 'auto' && useCudnn !== true && useCudnn !== false) {
    throw valueError(`Invalid valid received for argument \`use_cudnn\`. Expected one of {'auto', True, False}. Received: use_cudnn=${pyRepr(useCudnn)}`);
  }
  if (options.backend !== undefined && typeof options.backend !== 'string') {
    throw typeError(`Argument \`backend\` must be a backend name (string), received ${pyRepr(options.backend)}.`);
  }
  return {
    ...cell,
    returnSequences: checkBool(options.returnSequences, 'returnSequences', false),
    returnState: checkBool(options.returnState, 'returnState', false),
    goBackwards: checkBool(options.goBackwards, 'goBackwards', false),
    stateful: checkBool(options.stateful, 'stateful', false),
    unroll: checkBool(options.unroll, 'unroll', false),
    zeroOutputForMask: checkBool(options.zeroOutputForMask, 'zeroOutputForMask', false),
    activityRegularizer: getRegularizer(options.activityRegularizer ?? null),
    useCudnn,
    timeMajor: checkBool(options.timeMajor, 'timeMajor', false),
    backend: options.backend,
  };
}

/** Keras's serialized DTypePolicy object (Keras 3 writes policies this way). */
export function serializeDTypePolicy(policy: DTypePolicyConfig): Record<string, unknown> {
  return { module: 'keras', class_name: 'DTypePolicy', config: { name: policy.name }, registered_name: null };
}

/** The cell part of get_config, in Keras's key order. */
function cellConfigBody(c: CellConfig): Record<string, unknown> {
  return {
    units: c.units,
    activation: serializeActivation(c.activation),
    recurrent_activation: serializeActivation(c.recurrentActivation),
    use_bias: c.useBias,
    kernel_initializer: c.kernelInitializer && serializeInitializer(c.kernelInitializer),
    recurrent_initializer: c.recurrentInitializer && serializeInitializer(c.recurrentInitializer),
    bias_initializer: c.biasInitializer && serializeInitializer(c.biasInitializer),
    kernel_regularizer: serializeRegularizer(c.kernelRegularizer),
    recurrent_regularizer: serializeRegularizer(c.recurrentRegularizer),
    bias_regularizer: serializeRegularizer(c.biasRegularizer),
  };
}

/** The constraints and dropout rates, which Keras 3 and tf.keras 2 write alike, in this order. */
function constraintsAndDropout(c: CellConfig): Record<string, unknown> {
  return {
    kernel_constraint: serializeConstraint(c.kernelConstraint),
    recurrent_constraint: serializeConstraint(c.recurrentConstraint),
    bias_constraint: serializeConstraint(c.biasConstraint),
    dropout: c.dropout,
    recurrent_dropout: c.recurrentDropout,
  };
}

function constraintsAndRest(c: CellConfig): Record<string, unknown> {
  return { ...constraintsAndDropout(c), reset_after: c.resetAfter, seed: c.seed };
}

/**
 * tf.keras 2's dtype entry: a plain dtype string for a plain policy, a `Policy` object for a mixed
 * one (Keras 3 always writes a `DTypePolicy` object).
 */
function keras2DType(policy: DTypePolicyConfig): unknown {
  return policy.name.startsWith('mixed_') ? { class_name: 'Policy', config: { name: policy.name } } : policy.name;
}

/**
 * tf.keras 2's GRUCell/GRU config tail: `implementation` and `reset_after` (and `seed`, which
 * tf.keras 2 lacks, only when one is set: it seeds gru's own dropout masks).
 */
function keras2Tail(c: CellConfig): Record<string, unknown> {
  return {
    ...constraintsAndDropout(c),
    implementation: c.implementation,
    reset_after: c.resetAfter,
    ...(c.seed !== null ? { seed: c.seed } : {}),
  };
}

/**
 * GRUCell.get_config(), key for key: Keras 3's, or tf.keras 2's for a `keras2` / `keras2-v1`
 * cell (plain dtype string, `implementation`), which fromConfig recognises as Keras 2 again.
 */
export function cellToKerasConfig(c: CellConfig, name: string): Record<string, unknown> {
  if (c.compat !== 'keras3') {
    return { name, trainable: c.trainable, dtype: keras2DType(c.dtypePolicy), ...cellConfigBody(c), ...keras2Tail(c) };
  }
  return {
    name,
    trainable: c.trainable,
    dtype: serializeDTypePolicy(c.dtypePolicy),
    ...cellConfigBody(c),
    ...constraintsAndRest(c),
  };
}

/**
 * GRU.get_config(), key for key (plus `time_major` only when set, which Keras 3 lacks). A
 * `keras2` / `keras2-v1` layer gives tf.keras 2's config instead (`time_major`, a plain dtype
 * string, `implementation`, `zero_output_for_mask` only when set), so that fromConfig reads it
 * back as Keras 2 (same hard_sigmoid, same masked outputs) and tf.keras 2 accepts it.
 */
export function layerToKerasConfig(c: LayerConfig, name: string): Record<string, unknown> {
  if (c.compat !== 'keras3') {
    return {
      name,
      trainable: c.trainable,
      dtype: keras2DType(c.dtypePolicy),
      return_sequences: c.returnSequences,
      return_state: c.returnState,
      go_backwards: c.goBackwards,
      stateful: c.stateful,
      unroll: c.unroll,
      time_major: c.timeMajor,
      ...(c.zeroOutputForMask ? { zero_output_for_mask: true } : {}),
      ...cellConfigBody(c),
      activity_regularizer: serializeRegularizer(c.activityRegularizer),
      ...keras2Tail(c),
    };
  }
  const config: Record<string, unknown> = {
    name,
    trainable: c.trainable,
    dtype: serializeDTypePolicy(c.dtypePolicy),
    // Keras's base Layer config writes a set activity regularizer here; GRU's own entry then only
    // replaces the value, so the key keeps this position (JSON text compares equal).
    ...(c.activityRegularizer ? { activity_regularizer: null } : {}),
    return_sequences: c.returnSequences,
    return_state: c.returnState,
    go_backwards: c.goBackwards,
    stateful: c.stateful,
    unroll: c.unroll,
    zero_output_for_mask: c.zeroOutputForMask,
    ...cellConfigBody(c),
    activity_regularizer: serializeRegularizer(c.activityRegularizer),
    ...constraintsAndRest(c),
  };
  if (c.timeMajor) config.time_major = true;
  return config;
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_m, ch: string) => ch.toUpperCase());

/** Keys Keras 2 (or Keras 3's base Layer) writes that carry nothing gru needs to keep. */
const IGNORED_KERAS_KEYS = new Set(['autocast', 'input_dim', 'input_shape', 'batch_input_shape', 'batch_shape', 'batch_size']);

export interface FromConfigOptions {
  /** Overrides the Keras version guessed from the config (Keras 2 writes `time_major` and a plain dtype string). */
  compat?: KerasCompat;
  /**
   * Build the layer when the config records its input shape (default true). Loaders that set the
   * weights right away pass false, to skip running the initializers for nothing.
   */
  build?: boolean;
}

/**
 * True when a config looks like tf.keras 2's: it writes `time_major` (GRU), `implementation` with
 * a plain dtype string, or a mixed-precision dtype as a `Policy` object (Keras 3: `DTypePolicy`).
 */
export function looksLikeKeras2(config: Record<string, unknown>): boolean {
  const dtype = config.dtype as Record<string, unknown> | string | undefined;
  const keras2Policy = typeof dtype === 'object' && dtype !== null && dtype.class_name === 'Policy';
  return 'time_major' in config || ('implementation' in config && (typeof dtype === 'string' || keras2Policy));
}

/**
 * Turns Keras's get_config() JSON (snake_case) into constructor options. Unknown keys keep their
 * Keras spelling so the constructor reports them as Keras does ("Unrecognized keyword arguments
 * passed to GRU: {'bogus': 1}"). Returns the input feature size if the config records one.
 */
export function kerasConfigToOptions(
  config: Record<string, unknown>,
  options: FromConfigOptions = {},
): { options: Record<string, unknown>; inputDim: number | undefined } {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw typeError(`fromConfig expects a Keras config object, received ${pyRepr(config)}.`);
  }
  const body = 'class_name' in config && typeof config.config === 'object' ? (config.config as Record<string, unknown>) : config;
  const out: Record<string, unknown> = {};
  let inputDim: number | undefined;
  for (const [key, value] of Object.entries(body)) {
    if (IGNORED_KERAS_KEYS.has(key)) {
      const shape = (key === 'input_dim' ? [value] : value) as unknown;
      const last = Array.isArray(shape) ? shape[shape.length - 1] : undefined;
      if (typeof last === 'number') {
        // The layer is built from it: a size that is no size is refused, naming where it came from.
        if (!Number.isInteger(last) || last < 1) throw valueError(`Argument \`${key}\` must give a positive integer input size, received ${pyRepr(value)}.`);
        inputDim = last;
      }
      continue;
    }
    if (key === 'cell') continue; // RNN(cell=...) configs carry the cell's arguments at the top too
    const camelKey = camel(key);
    out[(LAYER_KEYS as readonly string[]).includes(camelKey) ? camelKey : key] = value;
  }
  out.compat = options.compat ?? (looksLikeKeras2(body) ? 'keras2' : 'keras3');
  // Keras before 2.1.5 had no `reset_after`: its GRU always applied the reset gate before the matmul.
  if (out.compat !== 'keras3' && !('reset_after' in body)) out.resetAfter = false;
  return { options: out, inputDim: options.build === false ? undefined : inputDim };
}
