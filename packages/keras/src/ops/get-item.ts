import type { Tensor } from '@gru/core';
import type { CallOf, Shape } from '../config/spec.js';
import { formatShape } from '../errors.js';
import { isObject, preview } from '../io/json.js';
import { layerFail, ModelLayer, type Flow, type ValueCall } from '../layers/base.js';
import type { LayerKind } from '../layers/kind.js';

/**
 * Keras 3's GetItem op: `x[key]` on a Keras tensor (`h[:, -1, :]`, `h[..., :4]`, `h[:, None, ::-2]`),
 * recorded as the call's second argument: an int, or a list of ints, None (newaxis), `__slice__`
 * {start, stop, step} and `__ellipsis__` objects. Shapes follow GetItem.compute_output_spec and
 * values NumPy's basic indexing. Like every Keras op, it passes no mask on.
 */

type Part = { int: number } | { slice: { start: number | null; stop: number | null; step: number | null } } | 'ellipsis' | 'newaxis';

/** One output axis: a new axis of size 1, or `count` positions of an input axis, `step` apart in the flat input. */
type Plan = { step: number; count: number } | { newaxis: true };

const bound = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isInteger(v));

function readKey(key: unknown, fail: (m: string) => never): Part[] {
  const list = Array.isArray(key) ? key : [key];
  const parts = list.map((p): Part => {
    if (typeof p === 'number' && Number.isInteger(p)) return { int: p };
    if (p === null) return 'newaxis';
    if (isObject(p) && p.class_name === '__ellipsis__') return 'ellipsis';
    if (isObject(p) && p.class_name === '__slice__' && isObject(p.config)) {
      const { start, stop, step } = p.config;
      if (bound(start) && bound(stop) && bound(step) && step !== 0) {
        return { slice: { start: (start ?? null) as number | null, stop: (stop ?? null) as number | null, step: (step ?? null) as number | null } };
      }
    }
    return fail(`indexes with ${preview(p)}; gru runs ints, slices of ints (step not 0), None and Ellipsis.`);
  });
  if (parts.filter((p) => p === 'ellipsis').length > 1) fail(`indexes with more than one Ellipsis: ${preview(key)}.`);
  return parts;
}

/** Python's slice.indices(length): the start, step and number of positions a slice takes. */
function sliceRange(s: { start: number | null; stop: number | null; step: number | null }, length: number): { start: number; step: number; count: number } {
  const step = s.step ?? 1;
  const [lower, upper] = step > 0 ? [0, length] : [-1, length - 1];
  const clamp = (v: number | null, otherwise: number) => (v === null ? otherwise : v < 0 ? Math.max(v + length, lower) : Math.min(v, upper));
  const start = clamp(s.start, step > 0 ? lower : upper);
  const stop = clamp(s.stop, step > 0 ? upper : lower);
  const count = step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step));
  return { start, step, count };
}

/**
 * Pairs each part with the input axis it reads (Keras adds a final Ellipsis when there is none;
 * an Ellipsis stands for every axis the parts after it do not take). The batch axis must pass
 * through whole: gru's graph keeps samples on axis 0.
 */
function expand(parts: Part[], rank: number, fail: (m: string) => never, unsupported = fail): { part: Part; axis: number }[] {
  const all = parts.includes('ellipsis') ? [...parts] : [...parts, 'ellipsis' as const];
  const taking = all.filter((p) => p !== 'ellipsis' && p !== 'newaxis').length;
  if (taking > rank) fail(`takes ${taking} axes of a rank-${rank} tensor.`);
  const out: { part: Part; axis: number }[] = [];
  let axis = 0;
  for (const part of all) {
    if (part === 'ellipsis') {
      for (let k = 0; k < rank - taking; k++) out.push({ part: { slice: { start: null, stop: null, step: null } }, axis: axis++ });
    } else out.push({ part, axis: part === 'newaxis' ? -1 : axis++ });
  }
  const first = out[0];
  const whole =
    first &&
    first.axis === 0 &&
    typeof first.part === 'object' &&
    'slice' in first.part &&
    first.part.slice.start === null &&
    first.part.slice.stop === null &&
    (first.part.slice.step ?? 1) === 1;
  if (!whole) unsupported('indexes the batch axis (axis 0), which gru keeps whole: its graphs run a batch of samples.');
  return out;
}

function outputShape(parts: Part[], shape: Shape, fail: (m: string) => never, unsupported: (m: string) => never): Shape {
  const out: Shape = [];
  for (const { part, axis } of expand(parts, shape.length, fail, unsupported)) {
    if (part === 'newaxis') out.push(1);
    else if (part === 'ellipsis') continue;
    else {
      const length = shape[axis];
      // An index on an axis of unknown size is checked when the model runs (plan).
      if ('int' in part) {
        if (length !== null) indexIn(part.int, axis, shape, fail);
      } else out.push(length === null ? null : sliceRange(part.slice, length).count);
    }
  }
  return out;
}

/** Index `int` of `axis` (of known size) counted from 0, or a failure naming it, as numpy words it. */
function indexIn(int: number, axis: number, shape: readonly (number | null)[], fail: (m: string) => never): number {
  const length = shape[axis] as number;
  if (int >= length || int < -length) fail(`index ${int} is out of bounds for axis ${axis} of size ${length} (input shape ${formatShape(shape)}).`);
  return int < 0 ? int + length : int;
}

/** The output axes, and the flat input offset of the output's first value. */
function plan(parts: Part[], shape: readonly number[], fail: (m: string) => never): { plans: Plan[]; offset: number } {
  const plans: Plan[] = [];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  let offset = 0;
  for (const { part, axis } of expand(parts, shape.length, fail)) {
    if (part === 'newaxis') plans.push({ newaxis: true });
    else if (part === 'ellipsis') continue;
    else if ('int' in part) offset += indexIn(part.int, axis, shape, fail) * strides[axis];
    else {
      const r = sliceRange(part.slice, shape[axis]);
      offset += r.start * strides[axis];
      plans.push({ step: r.step * strides[axis], count: r.count });
    }
  }
  return { plans, offset };
}

/** x[key] by the plan: an odometer over the output, each axis stepping its input offset. */
function gather(x: Tensor, parts: Part[], fail: (m: string) => never): Tensor {
  const { plans, offset } = plan(parts, x.shape, fail);
  const shape = plans.map((p) => ('newaxis' in p ? 1 : p.count));
  const size = shape.reduce((a, b) => a * b, 1);
  const data = x.data instanceof Float64Array ? new Float64Array(size) : new Float32Array(size);
  if (size === 0) return { shape, data };
  const index = shape.map(() => 0);
  let src = offset;
  for (let n = 0; n < size; n++) {
    data[n] = x.data[src];
    for (let a = shape.length - 1; a >= 0; a--) {
      const p = plans[a];
      const step = 'newaxis' in p ? 0 : p.step;
      if (++index[a] < shape[a]) {
        src += step;
        break;
      }
      src -= step * (shape[a] - 1);
      index[a] = 0;
    }
  }
  return { shape, data };
}

function keyOf<T>(call: CallOf<T>, fail: (m: string) => never): { x: T; parts: Part[] } {
  const [x, key] = call.args;
  if (call.args.length !== 2 || !x || !('tensor' in x) || !key || !('value' in key)) fail('takes a tensor and an index.');
  if (Object.keys(call.named).length || call.mask) fail('is called with tensor keyword arguments, which gru does not run for ops.');
  return { x: (x as { tensor: T }).tensor, parts: readKey((key as { value: unknown }).value, fail) };
}

class GetItemLayer extends ModelLayer {
  call(call: ValueCall): Flow[] {
    const fail = layerFail(this);
    const { x, parts } = keyOf(call, fail);
    return [{ tensor: gather(x.tensor, parts, fail), mask: null }];
  }
}

export const getItemKind: LayerKind = {
  className: 'GetItem',
  op: true,
  analyze(r, call) {
    const unsupported = (m: string) => r.unsupported(m);
    const { x, parts } = keyOf(call, unsupported);
    return { outputShapes: [outputShape(parts, x, (m) => r.fail(m), unsupported)], weights: [] };
  },
  create: (spec) => new GetItemLayer(spec),
};
