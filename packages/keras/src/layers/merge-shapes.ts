import type { Shape } from '../config/spec.js';
import { kerasShape } from '../errors.js';

/**
 * Keras's `Merge._compute_elemwise_op_output_shape` on two shapes without their batch axis: the
 * shorter is aligned with the end of the longer, each pair of sizes must be equal or one of them
 * 1, and an unknown size on either side leaves the result unknown. Keras's message when they clash.
 */
function elemwiseShape(a: Shape, b: Shape, fail: (message: string) => never): Shape {
  if (a.length < b.length) return elemwiseShape(b, a, fail);
  const out: Shape = a.slice(0, a.length - b.length);
  b.forEach((j, k) => {
    const i = a[a.length - b.length + k];
    if (i === null || j === null) out.push(null);
    else if (i === 1) out.push(j);
    else if (j === 1 || i === j) out.push(i);
    else fail(`Inputs have incompatible shapes. Received shapes ${kerasShape(a)} and ${kerasShape(b)}`);
  });
  return out;
}

/**
 * The output shape of Keras's elementwise merges (`Merge.build` and `compute_output_shape`): the
 * known batch sizes must agree; the other axes combine as `elemwiseShape`, left to right.
 */
export function mergeOutputShape(shapes: readonly Shape[], fail: (message: string) => never): Shape {
  const batches = new Set(shapes.filter((s) => s.length > 0 && s[0] !== null).map((s) => s[0]));
  if (batches.size > 1) {
    fail(`Cannot merge tensors with different batch sizes. Received tensors with shapes [${shapes.map(kerasShape).join(', ')}]`);
  }
  let rest: Shape = shapes[0].slice(1);
  for (const s of shapes.slice(1)) rest = elemwiseShape(rest, s.slice(1), fail);
  const [batch] = batches.size === 1 ? [...batches] : [null];
  return [batch ?? null, ...rest];
}

/**
 * An input's shape as Keras's merge call reshapes it when the inputs' ranks differ: size-1 axes
 * inserted after the batch axis (`expand_dims(x, axis=1)`) up to `rank`. Its mask is lost then:
 * the reshaped tensor carries none into the merge function.
 */
export function expandedShape(shape: readonly number[], rank: number): number[] {
  return [shape[0], ...new Array<number>(rank - shape.length).fill(1), ...shape.slice(1)];
}
