import { activationDef, type ActivationId, type GruSpec } from '@gru/core';

/**
 * Keras's row-wise activations as WGSL: each acts on one gate's `units` values together (z, r and
 * the candidate each over their own row, as Keras's GRUCell applies them), matching core's
 * softmaxRow, logSoftmaxRow, sparsemaxRow and glu at units = 2 (packages/core/src/activations.ts).
 *
 * One workgroup holds one batch row. Its invocations each own the units `j = l + i * WG`
 * (i < NPT) and keep their values in a private array; a row function replaces them in place. The
 * max and sums are tree reductions in workgroup memory (`red`, WG floats), the same order on every
 * invocation, so all units of a row see the same normalizer. sparsemax and glu also read other
 * units' values: from `row(u)`, which the kernel provides (workgroup memory staged by `stage`, or
 * a storage row the values were loaded from).
 */
const ROW_IDS = ['softmax', 'log_softmax', 'sparsemax', 'glu'] as const;

export function isRowActivation(id: ActivationId): boolean {
  return (ROW_IDS as readonly string[]).includes(id);
}

/** Whether a layer's kernels need the row-wise forms (either activation is row-wise). */
export function hasRowActivation(s: Pick<GruSpec, 'activation' | 'recurrentActivation'>): boolean {
  return isRowActivation(s.activation) || isRowActivation(s.recurrentActivation);
}

/**
 * Why the webgpu backend cannot differentiate this layer (a row-wise activation: its forward
 * kernels keep nothing for the row-wise Jacobians), or undefined.
 */
export function rowwiseBackwardProblem(spec: Pick<GruSpec, 'activation' | 'recurrentActivation'>): string | undefined {
  for (const [arg, id] of [
    ['activation', spec.activation],
    ['recurrentActivation', spec.recurrentActivation],
  ] as const) {
    if (isRowActivation(id)) {
      return `${arg} '${activationDef(id).name}' is row-wise (over each gate's units): the webgpu backend runs it forward only, with no backward pass; train this layer on the reference backend`;
    }
  }
  return undefined;
}

/** How a row function reaches the other units' values of its row. */
export interface RowAccess {
  /** WGSL statement making value `v` of unit `j` readable through `read` (empty when already there). */
  stage: (j: string, v: string) => string;
  /** WGSL expression: the value of unit `u` of the row. */
  read: (u: string) => string;
  /** The barrier that makes staged values visible to the workgroup (its memory's kind). */
  sync: string;
}

/**
 * exp and log for softmax and log_softmax within 2 and 3 ulp (test/activations.test.ts): WGSL's
 * exp may be off by 3 + 2|x| ulp and its log by 2^-21 absolute, and a row-wise gate (log_softmax's negative z above all, which
 * scales the state by 1 - z each step) carries that error on into every later step.
 */
export const ROW_MATH = /* wgsl */ `
fn row_exp(x: f32) -> f32 {
  // 2^n exp(r), |r| <= ln2 / 2, ln2 split so that n * LN2_HI is exact.
  if (x < -104.0) { return 0.0; }
  let n = round(x * 1.4426950408889634);
  let r = (x - n * 0.693145751953125) - n * 1.4286068203094172e-6;
  let q = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 + r * (0.008333333333333333 +
    r * (0.001388888888888889 + r * 0.0001984126984126984))))));
  return ldexp(q, i32(n));
}
fn row_log(s: f32) -> f32 {
  // s = m 2^e with m in [1, 2): e ln2 + log1p(m - 1).
  let f = frexp(s);
  let e = f32(f.exp - 1);
  return e * 0.693145751953125 + (e * 1.4286068203094172e-6 + gru_log1p(f.fract * 2.0 - 1.0));
}
`;

/** exp, log and tree reductions over the workgroup (call those from uniform control flow: they hold barriers). */
export function reductionFunctions(): string {
  const reduce = (name: string, op: (a: string, b: string) => string) => `fn ${name}(v: f32, l: u32) -> f32 {
  red[l] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (l < s) { red[l] = ${op('red[l]', 'red[l + s]')}; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}`;
  return `var<workgroup> red: array<f32, WG>;
${ROW_MATH}
${reduce('wg_max', (a, b) => `max(${a}, ${b})`)}
${reduce('wg_sum', (a, b) => `${a} + ${b}`)}
`;
}

/** The body of a row function over `(*v)[i]`, the invocation's units `j = l + i * WG < H`. */
function rowBody(id: ActivationId, access: RowAccess, elementwise: string): string {
  const forOwn = (body: string) => `for (var i = 0u; i < NPT; i++) {
    let j = l + i * WG;
    if (j < H) { ${body} }
  }`;
  switch (id) {
    case 'softmax':
    case 'log_softmax':
      return `var m = bitcast<f32>(0xff7fffffu); // the lowest f32
  ${forOwn('m = max(m, (*v)[i]);')}
  m = wg_max(m, l);
  var e: array<f32, NPT>;
  var s = 0.0;
  ${forOwn('e[i] = row_exp((*v)[i] - m); s += e[i];')}
  s = wg_sum(s, l);
  ${id === 'softmax' ? forOwn('(*v)[i] = e[i] / s;') : `let lse = row_log(s);\n  ${forOwn('(*v)[i] = (*v)[i] - m - lse;')}`}`;
    case 'sparsemax':
      // Keras 3.15.1's threshold without sorting: unit j's rank in the stable descending order is
      // the count c of units before or tied-and-not-after it, its cumulative sum their sum; it is
      // in the support when x_j > (cumsum - 1) / c, and tau = (sum of the support's cumsums - 1) / k.
      return `${forOwn(access.stage('j', '(*v)[i]'))}
  ${access.sync}
  var k = 0.0;
  var sc = 0.0;
  ${forOwn(`let xj = (*v)[i];
    var c = 0.0;
    var cs = 0.0;
    for (var u = 0u; u < H; u++) {
      let xu = ${access.read('u')};
      if (xu > xj || (xu == xj && u <= j)) { c += 1.0; cs += xu; }
    }
    if (xj - (cs - 1.0) / c > 0.0) { k += 1.0; sc += cs; }`)}
  k = wg_sum(k, l);
  sc = wg_sum(sc, l);
  let tau = (sc - 1.0) / k;
  ${forOwn('(*v)[i] = max((*v)[i] - tau, 0.0);')}`;
    case 'glu':
      // Runs at units = 2 only (supports() declines glu elsewhere): x0 sigmoid(x1) on both units.
      return `${forOwn(access.stage('j', '(*v)[i]'))}
  ${access.sync}
  let g = ${access.read('0u')} * gru_sigmoid(${access.read('1u')});
  ${access.sync}
  ${forOwn('(*v)[i] = g;')}`;
    default:
      return forOwn(`(*v)[i] = ${elementwise}((*v)[i]);`);
  }
}

/**
 * WGSL for `fn name(v, l)`, activation `id` over one gate's row held as above: row-wise ones
 * reduce over the workgroup, elementwise ones call the WGSL function `elementwise` (`act` or
 * `ract`) per unit, so a kernel calls both alike. Needs WG, NPT, the uniform `p.H`, `red` (when
 * row-wise) and the activation functions in scope.
 */
export function rowFunction(name: string, id: ActivationId, access: RowAccess, elementwise: 'act' | 'ract'): string {
  return `fn ${name}(v: ptr<function, array<f32, NPT>>, l: u32) {
  let H = p.H;
  ${rowBody(id, access, elementwise)}
}
`;
}
