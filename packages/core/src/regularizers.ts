/**
 * Keras 3.15.1's weight regularizers (keras/src/regularizers): L1, L2, L1L2 and
 * OrthogonalRegularizer, with Keras's identifiers, argument checks and `get_config()` output.
 *
 * `penalty` is Keras's formula evaluated in float64 (Keras evaluates it in the weight's dtype);
 * `gradient` is its derivative with respect to the weights, with the convention TensorFlow's and
 * PyTorch's autodiff use for `abs`: d|x|/dx = sign(x), 0 at 0 (JAX 0.10 gives 1 at 0).
 *
 * Keras quirk kept: `L1` and `OrthogonalRegularizer` store their factor as a float32 tensor, so
 * both the config and the penalty use the factor rounded to float32 (`L1(0.001)` serializes as
 * `{"l1": 0.0010000000474974513}`), while `L2` and `L1L2` keep the Python float.
 */
import { GruError, formatShape, pyRepr, valueError } from './errors.js';
import { type KerasObjectConfig, makeTable, resolveKerasObject, serializeKerasObject, takeArgs } from './keras-objects.js';

export type { KerasObjectConfig } from './keras-objects.js';

export interface Regularizer {
  readonly className: string;
  getConfig(): Record<string, unknown>;
  penalty(data: ArrayLike<number>, shape: readonly number[]): number;
  gradient(data: ArrayLike<number>, shape: readonly number[]): Float64Array;
}

/** keras/src/regularizers/regularizers.py `validate_float_arg`. */
function validateFloatArg(value: unknown, name: string): number {
  const ok = typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value) && value >= 0);
  if (!ok) {
    throw valueError(`Invalid value for argument ${name}: expected a non-negative float.Received: ${name}=${pyRepr(value)}`);
  }
  return Number(value);
}

function checkData(data: ArrayLike<number>, shape: readonly number[]): void {
  let n = 1;
  for (const d of shape) n *= d;
  if (data.length !== n) {
    throw valueError(`Regularizer input has ${data.length} values, but its shape ${formatShape(shape)} has ${n}.`);
  }
}

function sumAbs(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += Math.abs(data[i]);
  return s;
}

function sumSquares(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i] * data[i];
  return s;
}

/** Keras's `Regularizer` base class (`'Regularizer'`): a zero penalty, and no `get_config()`. */
class BaseRegularizer implements Regularizer {
  readonly className: string = 'Regularizer';
  getConfig(): Record<string, unknown> {
    throw new GruError('NotImplementedError', '<keras.src.regularizers.regularizers.Regularizer object> does not implement get_config()');
  }
  penalty(data: ArrayLike<number>, shape: readonly number[]): number {
    checkData(data, shape);
    return 0.0;
  }
  gradient(data: ArrayLike<number>, shape: readonly number[]): Float64Array {
    checkData(data, shape);
    return new Float64Array(data.length);
  }
}

/** `loss = l1 * sum(abs(x))`, with `l1` rounded to float32 as Keras stores it. */
export class L1 implements Regularizer {
  readonly className: string = 'L1';
  /** The factor as Keras holds it: a float32 value. */
  readonly l1: number;
  constructor(l1: number | null = 0.01) {
    this.l1 = Math.fround(validateFloatArg(l1 === null || l1 === undefined ? 0.01 : l1, 'l1'));
  }
  getConfig(): Record<string, unknown> {
    return { l1: this.l1 };
  }
  penalty(data: ArrayLike<number>, shape: readonly number[]): number {
    checkData(data, shape);
    return this.l1 * sumAbs(data);
  }
  gradient(data: ArrayLike<number>, shape: readonly number[]): Float64Array {
    checkData(data, shape);
    const g = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) g[i] = this.l1 * sign(data[i]);
    return g;
  }
  static fromConfig(config: Record<string, unknown>): L1 {
    const c = takeArgs('L1', config, ['l1']);
    return new L1((c.l1 ?? null) as number | null);
  }
}

/** `loss = l2 * sum(square(x))`. */
export class L2 implements Regularizer {
  readonly className: string = 'L2';
  readonly l2: number;
  constructor(l2: number | null = 0.01) {
    this.l2 = validateFloatArg(l2 === null || l2 === undefined ? 0.01 : l2, 'l2');
  }
  getConfig(): Record<string, unknown> {
    return { l2: this.l2 };
  }
  penalty(data: ArrayLike<number>, shape: readonly number[]): number {
    checkData(data, shape);
    return this.l2 * sumSquares(data);
  }
  gradient(data: ArrayLike<number>, shape: readonly number[]): Float64Array {
    checkData(data, shape);
    const g = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) g[i] = 2 * this.l2 * data[i];
    return g;
  }
  static fromConfig(config: Record<string, unknown>): L2 {
    const c = takeArgs('L2', config, ['l2']);
    return new L2((c.l2 ?? null) as number | null);
  }
}

/**
 * `loss = l1 * sum(abs(x)) + l2 * sum(square(x))`. Note Keras's defaults here are 0 and 0 (so
 * `'l1l2'` / `'L1L2'` give a zero penalty), and Keras 3.15.1 does not accept `'l1_l2'` as a name.
 */
export class L1L2 implements Regularizer {
  readonly className: string = 'L1L2';
  readonly l1: number;
  readonly l2: number;
  constructor(l1: number | null = 0.0, l2: number | null = 0.0) {
    this.l1 = validateFloatArg(l1 === null || l1 === undefined ? 0.0 : l1, 'l1');
    this.l2 = validateFloatArg(l2 === null || l2 === undefined ? 0.0 : l2, 'l2');
  }
  getConfig(): Record<string, unknown> {
    return { l1: this.l1, l2: this.l2 };
  }
  penalty(data: ArrayLike<number>, shape: readonly number[]): number {
    checkData(data, shape);
    let r = 0.0;
    if (this.l1 !== 0.0) r += this.l1 * sumAbs(data);
    if (this.l2 !== 0.0) r += this.l2 * sumSquares(data);
    return r;
  }
  gradient(data: ArrayLike<number>, shape: readonly number[]): Float64Array {
    checkData(data, shape);
    const g = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) {
      let v = 0;
      if (this.l1 !== 0.0) v += this.l1 * sign(data[i]);
      if (this.l2 !== 0.0) v += 2 * this.l2 * data[i];
      g[i] = v;
    }
    return g;
  }
  static fromConfig(config: Record<string, unknown>): L1L2 {
    const c = takeArgs('L1L2', config, ['l1', 'l2']);
    return new L1L2((c.l1 ?? null) as number | null, (c.l2 ?? null) as number | null);
  }
}

export type OrthogonalMode = 'rows' | 'columns';

/** `1.0 / backend.epsilon()`: the cap on the inverse norm in `ops.nn.normalize`. */
const MAX_INV_NORM = 1.0 / 1e-7;

/**
 * `loss = factor * 0.5 * sum(|P - diag(P)|) / (n (n - 1) / 2)` with `P = U U^T`, `U` the
 * L2-normalized rows (mode `'rows'`) of a rank-2 input, or the same on columns (see `vectors`
 * for the normalization). With a single row (column) Keras divides 0 by 0: the penalty is NaN.
 */
export class OrthogonalRegularizer implements Regularizer {
  readonly className: string = 'OrthogonalRegularizer';
  /** The factor as Keras holds it: a float32 value. */
  readonly factor: number;
  readonly mode: OrthogonalMode;
  constructor(factor: number = 0.01, mode: OrthogonalMode = 'rows') {
    this.factor = Math.fround(validateFloatArg(factor, 'factor'));
    if (mode !== 'rows' && mode !== 'columns') {
      throw valueError('Invalid value for argument `mode`. Expected one of ' + `{"rows", "columns"}. Received: mode=${pyRepr(mode)}`);
    }
    this.mode = mode;
  }
  getConfig(): Record<string, unknown> {
    return { factor: this.factor, mode: this.mode };
  }

  /**
   * The normalized vectors as a (size x len) row-major matrix, with their scale factors. This is
   * Keras's `ops.nn.normalize` (the TensorFlow/JAX path): `u = x * min(rsqrt(sum(x^2)), 1 / epsilon)`.
   * (Keras's numpy backend takes another path, `keras.utils.normalize`, which agrees for rows of
   * norm >= 1e-7 in `'rows'` mode but mis-broadcasts in `'columns'` mode, a Keras bug we do not copy.)
   */
  private vectors(data: ArrayLike<number>, shape: readonly number[]): { u: Float64Array; scale: Float64Array; capped: Uint8Array; size: number; len: number } {
    checkData(data, shape);
    if (shape.length !== 2) {
      throw valueError(`Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=${formatShape(shape)}`);
    }
    const [rows, cols] = shape;
    const rowsMode = this.mode === 'rows';
    const size = rowsMode ? rows : cols;
    const len = rowsMode ? cols : rows;
    const u = new Float64Array(size * len);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        if (rowsMode) u[i * len + j] = data[i * cols + j];
        else u[j * len + i] = data[i * cols + j];
      }
    }
    const scale = new Float64Array(size);
    const capped = new Uint8Array(size);
    for (let a = 0; a < size; a++) {
      let s = 0;
      for (let k = 0; k < len; k++) s += u[a * len + k] * u[a * len + k];
      const inv = 1 / Math.sqrt(s);
      capped[a] = inv > MAX_INV_NORM ? 1 : 0;
      scale[a] = capped[a] ? MAX_INV_NORM : inv;
      for (let k = 0; k < len; k++) u[a * len + k] *= scale[a];
    }
    return { u, scale, capped, size, len };
  }

  private static dot(u: Float64Array, len: number, a: number, b: number): number {
    let s = 0;
    for (let k = 0; k < len; k++) s += u[a * len + k] * u[b * len + k];
    return s;
  }

  penalty(data: ArrayLike<number>, shape: readonly number[]): number {
    const { u, size, len } = this.vectors(data, shape);
    let total = 0;
    for (let a = 0; a < size; a++) {
      for (let b = 0; b < size; b++) if (a !== b) total += Math.abs(OrthogonalRegularizer.dot(u, len, a, b));
    }
    const numPairs = (size * (size - 1.0)) / 2.0;
    return (this.factor * 0.5 * total) / numPairs;
  }

  gradient(data: ArrayLike<number>, shape: readonly number[]): Float64Array {
    const { u, scale, capped, size, len } = this.vectors(data, shape);
    const numPairs = (size * (size - 1.0)) / 2.0;
    // One row (column): the penalty is 0 / 0 = NaN, and so is its autodiff gradient.
    if (numPairs === 0) return new Float64Array(data.length).fill(NaN);
    const c = (this.factor * 0.5) / numPairs;
    // dL/dU = 2 G U with G[a][b] = c * sign(P[a][b]) off the diagonal (G is symmetric).
    const gu = new Float64Array(size * len);
    for (let a = 0; a < size; a++) {
      for (let b = 0; b < size; b++) {
        if (a === b) continue;
        const g = 2 * c * sign(OrthogonalRegularizer.dot(u, len, a, b));
        if (g === 0) continue;
        for (let k = 0; k < len; k++) gu[a * len + k] += g * u[b * len + k];
      }
    }
    // Through u = x * min(1/|x|, 1/eps): dL/dx = (g - (g . u) u) / |x|, or g / eps where the cap
    // applies (an all-zero vector has g = 0, so a zero gradient; TF/JAX autodiff gives NaN there).
    const [rows, cols] = shape;
    const out = new Float64Array(rows * cols);
    for (let a = 0; a < size; a++) {
      let gDotU = 0;
      for (let k = 0; k < len; k++) gDotU += gu[a * len + k] * u[a * len + k];
      for (let k = 0; k < len; k++) {
        const g = gu[a * len + k];
        const v = capped[a] ? g * scale[a] : (g - gDotU * u[a * len + k]) * scale[a];
        if (this.mode === 'rows') out[a * cols + k] = v;
        else out[k * cols + a] = v;
      }
    }
    return out;
  }

  static fromConfig(config: Record<string, unknown>): OrthogonalRegularizer {
    const c = takeArgs('OrthogonalRegularizer', config, ['factor', 'mode']);
    return new OrthogonalRegularizer(('factor' in c ? c.factor : 0.01) as number, (c.mode ?? 'rows') as OrthogonalMode);
  }
}

/** sign(x), 0 at 0 (and NaN for NaN), as the gradient of abs. */
function sign(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN;
}

function isRegularizer(value: unknown): value is Regularizer {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Regularizer).className === 'string' &&
    typeof (value as Regularizer).getConfig === 'function' &&
    typeof (value as Regularizer).penalty === 'function'
  );
}

const PY_MODULE = 'keras.src.regularizers.regularizers';

const REGULARIZERS = makeTable<Regularizer>(
  'regularizer',
  'keras.regularizers',
  [
    {
      className: 'Regularizer',
      module: 'keras',
      pyModule: PY_MODULE,
      fromConfig: (c) => (takeArgs('Regularizer', c, []), new BaseRegularizer()),
      ctor: BaseRegularizer,
    },
    { className: 'L1', module: 'keras.regularizers', pyModule: PY_MODULE, fromConfig: L1.fromConfig, ctor: L1 },
    { className: 'L2', module: 'keras.regularizers', pyModule: PY_MODULE, fromConfig: L2.fromConfig, ctor: L2 },
    { className: 'L1L2', module: 'keras.regularizers', pyModule: PY_MODULE, fromConfig: L1L2.fromConfig, ctor: L1L2 },
    {
      className: 'OrthogonalRegularizer',
      module: 'keras.regularizers',
      pyModule: PY_MODULE,
      fromConfig: OrthogonalRegularizer.fromConfig,
      ctor: OrthogonalRegularizer,
    },
  ],
  {},
  isRegularizer,
);

/**
 * `keras.regularizers.get(identifier)`: `null`/`undefined` -> `null`; a name (`'l1'`, `'l2'`,
 * `'l1l2'`, `'orthogonal_regularizer'` or a class name); a config dict; a class; or a regularizer
 * object (returned as is).
 */
export function getRegularizer(identifier: unknown): Regularizer | null {
  if (identifier === null || identifier === undefined) return null;
  return resolveKerasObject(identifier, REGULARIZERS);
}

/** `keras.regularizers.serialize(regularizer)`. */
export function serializeRegularizer(r: Regularizer | null): KerasObjectConfig | null {
  if (r === null || r === undefined) return null;
  return serializeKerasObject(r, REGULARIZERS);
}
