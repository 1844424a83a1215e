import { pyRepr, valueError } from './errors.js';

/**
 * Keras's activations, by the names `keras.activations.get` accepts. Math is float64; a float32
 * layer rounds where it stores results, which keeps us within float32 rounding of Keras.
 *
 * Most are elementwise. `softmax`, `log_softmax` and `sparsemax` act on the last axis, which in a
 * GRU cell is the `units` axis of one gate (z and r each on their own `units` values), so they
 * work row by row. `glu` halves the last axis: Keras's GRU runs it only at units = 2, where the
 * one-value half broadcasts back over both units. `threshold` needs arguments Keras cannot pass by
 * name. Keras accepts both names and then fails inside the call where it fails; we accept them in
 * configs and refuse them at call time, with a reason.
 */
type RowFn = (x: Float64Array, y: Float64Array) => void;
type RowVjpFn = (x: Float64Array, y: Float64Array, dy: Float64Array, dx: Float64Array) => void;

export interface ActivationDef {
  /** The name Keras serializes (`swish` -> `silu`). */
  readonly name: string;
  /** Elementwise value, or undefined for row-wise activations. */
  readonly f?: (x: number) => number;
  /** Elementwise derivative dy/dx, given x and y = f(x). */
  readonly df?: (x: number, y: number) => number;
  /** Row-wise value over the last axis (in place from `x` into `y`). */
  readonly row?: RowFn;
  /** Row-wise vector-Jacobian product: dx = J(x)^T dy. */
  readonly rowVjp?: RowVjpFn;
  /** Why this activation cannot keep the width of what it is applied to (Keras fails at call time too). */
  readonly unusable?: string;
  /**
   * For an `unusable` activation that a GRU gate still runs at one row width, as Keras does (glu
   * at units = 2, its half-width result broadcast back): that width, the broadcast row function
   * and its vector-Jacobian product, and where Keras's GRU runs it and fails. Not a `row`, so
   * layers that need the width kept in general (Dense) still refuse it.
   */
  readonly gateOnly?: { readonly units: number; readonly row: RowFn; readonly rowVjp: RowVjpFn; readonly inGru: string };
}

// Keras's constants, as the nearest float64 (what the longer literals parse to).
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const clip01 = (x: number) => (x <= 0 ? 0 : x >= 1 ? 1 : x);

/** erf to double precision: a positive series below 4, a continued fraction above (Lentz). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  let result: number;
  if (ax < 4) {
    // erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (2n+1)!!   (all terms positive)
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    result = (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  } else {
    // erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
    const tiny = 1e-300;
    let f = ax;
    let c = ax;
    let d = 0;
    for (let n = 1; n < 200; n++) {
      const an = n / 2;
      d = ax + an * d;
      d = d === 0 ? tiny : d;
      c = ax + an / c;
      c = c === 0 ? tiny : c;
      d = 1 / d;
      const delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    result = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -result : result;
}

function softmaxRow(x: Float64Array, y: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) max = Math.max(max, x[i]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += y[i] = Math.exp(x[i] - max);
  for (let i = 0; i < x.length; i++) y[i] /= sum;
}

function logSoftmaxRow(x: Float64Array, y: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) max = Math.max(max, x[i]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  const lse = Math.log(sum);
  for (let i = 0; i < x.length; i++) y[i] = x[i] - max - lse;
}

/**
 * Keras 3.15.1's sparsemax, exactly as all its backends compute it: the threshold is
 * `tau = (sum of the cumulative sums over the support - 1) / k`, not the textbook
 * `(cumsum_k - 1) / k`; the two agree only when one input survives. We follow Keras.
 */
function sparsemaxTau(x: Float64Array): { tau: number; k: number; order: number[] } {
  const order = Array.from(x.keys()).sort((a, b) => x[b] - x[a]);
  let cumsum = 0;
  let k = 0;
  let supportCumsums = 0;
  order.forEach((idx, i) => {
    cumsum += x[idx];
    if (x[idx] - (cumsum - 1) / (i + 1) > 0) {
      k++;
      supportCumsums += cumsum;
    }
  });
  return { tau: (supportCumsums - 1) / k, k, order };
}

function sparsemaxRow(x: Float64Array, y: Float64Array): void {
  const { tau } = sparsemaxTau(x);
  for (let i = 0; i < x.length; i++) y[i] = Math.max(x[i] - tau, 0);
}

/** dtau/dx_m = (k - rank(m)) / k for the m ranked within the support (rank from 0), else 0. */
function sparsemaxVjp(x: Float64Array, y: Float64Array, dy: Float64Array, dx: Float64Array): void {
  const { k, order } = sparsemaxTau(x);
  let active = 0;
  for (let i = 0; i < y.length; i++) if (y[i] > 0) active += dy[i];
  for (let i = 0; i < x.length; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
  order.forEach((idx, rank) => {
    if (rank < k) dx[idx] -= (active * (k - rank)) / k;
  });
}

/** Keras's glu on a row of 2, `[x0 * sigmoid(x1)]`, broadcast back to both values as a GRU gate does. */
function gluPairRow(x: Float64Array, y: Float64Array): void {
  const v = x[0] * sigmoid(x[1]);
  y[0] = v;
  y[1] = v;
}

/** Both outputs are the same value, so its gradient is the sum of theirs. */
function gluPairVjp(x: Float64Array, _y: Float64Array, dy: Float64Array, dx: Float64Array): void {
  const s = sigmoid(x[1]);
  const d = dy[0] + dy[1];
  dx[0] = d * s;
  dx[1] = d * x[0] * s * (1 - s);
}

const elementwise = (name: string, f: (x: number) => number, df: (x: number, y: number) => number): ActivationDef => ({ name, f, df });

/**
 * Every name `keras.activations.get` accepts as a string (`swish` and `hard_swish` are aliases of
 * `silu` and `hard_silu`). `glu` and `threshold` are accepted in configs but cannot run in a GRU.
 */
export type ActivationName =
  | 'tanh'
  | 'sigmoid'
  | 'hard_sigmoid'
  | 'relu'
  | 'relu6'
  | 'leaky_relu'
  | 'elu'
  | 'selu'
  | 'celu'
  | 'softplus'
  | 'softsign'
  | 'silu'
  | 'swish'
  | 'hard_silu'
  | 'hard_swish'
  | 'gelu'
  | 'mish'
  | 'exponential'
  | 'linear'
  | 'log_sigmoid'
  | 'sparse_sigmoid'
  | 'hard_tanh'
  | 'tanh_shrink'
  | 'soft_shrink'
  | 'hard_shrink'
  | 'sparse_plus'
  | 'squareplus'
  | 'softmax'
  | 'log_softmax'
  | 'sparsemax'
  | 'glu'
  | 'threshold';

/**
 * What an activation option takes: a known name (offered by editors), or any string, which is
 * checked when the layer is created, so names added by a later Keras still pass through.
 */
export type ActivationIdentifier = ActivationName | (string & {});

type AliasName = 'swish' | 'hard_swish';

// Typed by the name list, so the list and the table cannot drift apart.
const TABLE: Record<Exclude<ActivationName, AliasName>, ActivationDef> = {
  linear: elementwise(
    'linear',
    (x) => x,
    () => 1,
  ),
  tanh: elementwise('tanh', Math.tanh, (_x, y) => 1 - y * y),
  sigmoid: elementwise('sigmoid', sigmoid, (_x, y) => y * (1 - y)),
  // Keras 3: relu6(x + 3) / 6 == clip(x/6 + 0.5, 0, 1).
  hard_sigmoid: elementwise(
    'hard_sigmoid',
    (x) => clip01(x / 6 + 0.5),
    (x) => (x > -3 && x < 3 ? 1 / 6 : 0),
  ),
  relu: elementwise(
    'relu',
    (x) => (x > 0 || Number.isNaN(x) ? x : 0),
    (x) => (x > 0 ? 1 : 0),
  ),
  relu6: elementwise(
    'relu6',
    (x) => Math.min(Math.max(x, 0), 6),
    (x) => (x > 0 && x < 6 ? 1 : 0),
  ),
  leaky_relu: elementwise(
    'leaky_relu',
    (x) => Math.max(x, 0.2 * x),
    (x) => (x > 0 ? 1 : 0.2),
  ),
  elu: elementwise(
    'elu',
    (x) => (x >= 0 ? x : Math.expm1(x)),
    (x, y) => (x >= 0 ? 1 : y + 1),
  ),
  selu: elementwise(
    'selu',
    (x) => SELU_SCALE * (x >= 0 ? x : SELU_ALPHA * Math.expm1(x)),
    (x) => (x >= 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(x)),
  ),
  celu: elementwise(
    'celu',
    (x) => Math.max(x, 0) + Math.expm1(Math.min(x, 0)),
    (x) => (x > 0 ? 1 : Math.exp(x)),
  ),
  softplus: elementwise('softplus', softplus, (x) => sigmoid(x)),
  softsign: elementwise(
    'softsign',
    (x) => x / (1 + Math.abs(x)),
    (x) => 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x))),
  ),
  silu: elementwise(
    'silu',
    (x) => x * sigmoid(x),
    (x) => {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    },
  ),
  hard_silu: elementwise(
    'hard_silu',
    (x) => x * clip01(x / 6 + 0.5),
    (x) => (x <= -3 ? 0 : x >= 3 ? 1 : x / 3 + 0.5),
  ),
  gelu: elementwise(
    'gelu',
    (x) => (x * (erf(x / Math.SQRT2) + 1)) / 2,
    (x) => {
      const cdf = (erf(x / Math.SQRT2) + 1) / 2;
      return cdf + (x * Math.exp(-(x * x) / 2)) / Math.sqrt(2 * Math.PI);
    },
  ),
  mish: elementwise(
    'mish',
    (x) => x * Math.tanh(softplus(x)),
    (x) => {
      const t = Math.tanh(softplus(x));
      return t + x * (1 - t * t) * sigmoid(x);
    },
  ),
  exponential: elementwise('exponential', Math.exp, (_x, y) => y),
  log_sigmoid: elementwise(
    'log_sigmoid',
    (x) => -softplus(-x),
    (x) => sigmoid(-x),
  ),
  sparse_sigmoid: elementwise(
    'sparse_sigmoid',
    (x) => (x <= -1 ? 0 : x >= 1 ? 1 : 0.5 * (x + 1)),
    (x) => (x > -1 && x < 1 ? 0.5 : 0),
  ),
  hard_tanh: elementwise(
    'hard_tanh',
    (x) => Math.min(Math.max(x, -1), 1),
    // 1 at the corners too, as TensorFlow (clip_by_value) and JAX (where(x > 1, 1, where(x < -1, -1, x))) differentiate it.
    (x) => (x >= -1 && x <= 1 ? 1 : 0),
  ),
  tanh_shrink: elementwise(
    'tanh_shrink',
    (x) => x - Math.tanh(x),
    (x) => Math.tanh(x) ** 2,
  ),
  soft_shrink: elementwise(
    'soft_shrink',
    (x) => (x > 0.5 ? x - 0.5 : x < -0.5 ? x + 0.5 : 0),
    (x) => (x > 0.5 || x < -0.5 ? 1 : 0),
  ),
  hard_shrink: elementwise(
    'hard_shrink',
    (x) => (Math.abs(x) > 0.5 ? x : 0),
    (x) => (Math.abs(x) > 0.5 ? 1 : 0),
  ),
  sparse_plus: elementwise(
    'sparse_plus',
    (x) => (x <= -1 ? 0 : x < 1 ? 0.25 * (x + 1) ** 2 : x),
    (x) => (x <= -1 ? 0 : x < 1 ? 0.5 * (x + 1) : 1),
  ),
  squareplus: elementwise(
    'squareplus',
    (x) => (x + Math.sqrt(x * x + 4)) / 2,
    (x) => (1 + x / Math.sqrt(x * x + 4)) / 2,
  ),
  softmax: {
    name: 'softmax',
    row: softmaxRow,
    rowVjp: (_x, y, dy, dx) => {
      let dot = 0;
      for (let i = 0; i < y.length; i++) dot += y[i] * dy[i];
      for (let i = 0; i < y.length; i++) dx[i] = y[i] * (dy[i] - dot);
    },
  },
  log_softmax: {
    name: 'log_softmax',
    row: logSoftmaxRow,
    rowVjp: (_x, y, dy, dx) => {
      let sum = 0;
      for (let i = 0; i < dy.length; i++) sum += dy[i];
      for (let i = 0; i < y.length; i++) dx[i] = dy[i] - Math.exp(y[i]) * sum;
    },
  },
  sparsemax: { name: 'sparsemax', row: sparsemaxRow, rowVjp: sparsemaxVjp },
  glu: {
    name: 'glu',
    unusable: "'glu' halves the last axis, so its result is half as wide as its input",
    gateOnly: {
      units: 2,
      row: gluPairRow,
      rowVjp: gluPairVjp,
      inGru:
        'a GRU gate keeps its `units` width only at units = 2, where Keras broadcasts the one-value half back; ' +
        "Keras's GRU fails at any other units (odd: the axis cannot be halved; even above 2: the half does not broadcast)",
    },
  },
  threshold: { name: 'threshold', unusable: "'threshold' needs `threshold` and `default_value` arguments, which a GRU cannot pass" },
};

/** Keras 2's hard_sigmoid, `clip(0.2x + 0.5, 0, 1)`: what Keras 2 files mean by 'hard_sigmoid'. */
export const KERAS2_HARD_SIGMOID: ActivationDef = elementwise(
  'hard_sigmoid',
  (x) => clip01(0.2 * x + 0.5),
  // 0.2 at the corners too: TensorFlow's clip_by_value passes the gradient where the value equals a bound.
  (x) => (x >= -2.5 && x <= 2.5 ? 0.2 : 0),
);

/** Name an activation is known by in a spec: the Keras name, or `keras2_hard_sigmoid`. */
export type ActivationId = string;

const ALIASES: Record<AliasName, keyof typeof TABLE> = { swish: 'silu', hard_swish: 'hard_silu' };

/** Every identifier `keras.activations.get` accepts as a string. */
export const ACTIVATION_NAMES: readonly ActivationName[] = ([...Object.keys(TABLE), ...Object.keys(ALIASES)] as ActivationName[]).sort();

/** The table by any string: undefined for a name it lacks. */
const lookup = (name: string): ActivationDef | undefined => (Object.hasOwn(TABLE, name) ? (TABLE as Record<string, ActivationDef>)[name] : undefined);

export type KerasFlavor = 'keras3' | 'keras2';

/**
 * Resolves a Keras activation identifier (a name, `null` for linear, or a serialized function
 * object `{class_name: 'function', config: name}`) to the id used in specs. `keras2` makes
 * 'hard_sigmoid' mean Keras 2's formula.
 */
export function resolveActivation(identifier: unknown, flavor: KerasFlavor = 'keras3'): ActivationId {
  if (identifier === null || identifier === undefined) return 'linear';
  let name: unknown = identifier;
  if (typeof identifier === 'object' && !Array.isArray(identifier)) {
    const obj = identifier as Record<string, unknown>;
    if (obj.class_name === 'function' && typeof obj.config === 'string') name = obj.config;
    else if (typeof obj.class_name === 'string' && obj.config === undefined) name = obj.class_name;
  }
  if (typeof name === 'string') {
    const canonical: string = Object.hasOwn(ALIASES, name) ? ALIASES[name as AliasName] : name;
    if (lookup(canonical)) return flavor === 'keras2' && canonical === 'hard_sigmoid' ? 'keras2_hard_sigmoid' : canonical;
  }
  throw valueError(`Could not interpret activation function identifier: ${pyRepr(identifier)}`);
}

export function activationDef(id: ActivationId): ActivationDef {
  if (id === 'keras2_hard_sigmoid') return KERAS2_HARD_SIGMOID;
  const def = lookup(id);
  if (!def) throw valueError(`Could not interpret activation function identifier: ${id}`);
  return def;
}

/** The name Keras writes in a config for this activation. */
export function serializeActivation(id: ActivationId): string {
  return activationDef(id).name;
}

/**
 * Why a GRU of `units` units cannot run this activation (Keras fails there too), or undefined.
 * Every backend's `supports` should ask this rather than read `unusable` alone.
 */
export function gruActivationProblem(def: ActivationDef, units: number): string | undefined {
  if (!def.unusable || def.gateOnly?.units === units) return undefined;
  return def.gateOnly ? `${def.unusable}: ${def.gateOnly.inGru}` : def.unusable;
}

/** Applies an activation to `n` consecutive values of `src` at `offset`, into `dst` at `offset`. */
export function applyActivation(def: ActivationDef, src: Float64Array, dst: Float64Array, offset: number, n: number): void {
  if (def.f) {
    const f = def.f;
    for (let i = offset; i < offset + n; i++) dst[i] = f(src[i]);
  } else if (def.row) {
    def.row(src.subarray(offset, offset + n), dst.subarray(offset, offset + n));
  } else if (def.gateOnly && def.gateOnly.units === n) {
    def.gateOnly.row(src.subarray(offset, offset + n), dst.subarray(offset, offset + n));
  } else {
    throw valueError(`Activation ${def.name} cannot be used in a GRU: ${def.unusable}.`);
  }
}

/** dx = (dy/dx)^T dy for `n` values at `offset`, given the pre-activation x and y = f(x). */
export function activationVjp(def: ActivationDef, x: Float64Array, y: Float64Array, dy: Float64Array, dx: Float64Array, offset: number, n: number): void {
  if (def.df) {
    const df = def.df;
    for (let i = offset; i < offset + n; i++) dx[i] = dy[i] * df(x[i], y[i]);
  } else if (def.rowVjp) {
    const s = (a: Float64Array) => a.subarray(offset, offset + n);
    def.rowVjp(s(x), s(y), s(dy), s(dx));
  } else if (def.gateOnly && def.gateOnly.units === n) {
    const s = (a: Float64Array) => a.subarray(offset, offset + n);
    def.gateOnly.rowVjp(s(x), s(y), s(dy), s(dx));
  } else {
    throw valueError(`Activation ${def.name} cannot be used in a GRU: ${def.unusable}.`);
  }
}
