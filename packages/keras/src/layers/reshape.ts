import type { Tensor } from '@gru/core';
import type { Shape } from '../config/spec.js';
import type { ConfigReader } from '../config/values.js';
import { preview } from '../io/json.js';
import { asDtype, layerFail, ModelLayer, type Flow, type ValueCall } from './base.js';
import { type LayerKind, onlyInput } from './kind.js';

const known = (s: Shape) => s.slice(1).every((d) => d !== null);
const product = (s: readonly (number | null)[]) => s.reduce<number>((a, b) => a * (b as number), 1);

/** Reshape's target with its one -1 resolved against `size` values per sample. */
function target(spec: unknown, size: number | null, fail: (m: string) => never): Shape {
  if (!Array.isArray(spec) || !spec.every((d) => Number.isInteger(d) && (d > 0 || d === -1)) || spec.filter((d) => d === -1).length > 1) {
    fail(`\`target_shape\` must be a list of positive integers with at most one -1, found ${preview(spec)}.`);
  }
  const dims = spec as number[];
  const fixed = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (size === null) return dims.map((d) => (d === -1 ? null : d));
  if (dims.includes(-1)) {
    if (size % fixed !== 0) fail(`cannot reshape ${size} values per sample into ${preview(dims)}.`);
    return dims.map((d) => (d === -1 ? size / fixed : d));
  }
  if (fixed !== size) fail(`cannot reshape ${size} values per sample into ${preview(dims)}.`);
  return dims;
}

/** Flatten and Reshape: the same values, row-major, in a new shape per sample (masks are dropped, as Keras does). */
export class ReshapeLayer extends ModelLayer {
  call(call: ValueCall): Flow[] {
    const x = (call.args[0] as { tensor: Flow }).tensor.tensor;
    const B = x.shape[0];
    const per = product(x.shape.slice(1));
    const dims = this.className === 'Flatten' ? [per] : (target(this.config.target_shape, per, layerFail(this)) as number[]);
    return [{ tensor: { shape: [B, ...dims], data: asDtype(x, this.dtype).data }, mask: null }];
  }
}

/** Permute: reorders the non-batch axes (`dims` counts from 1). */
export class PermuteLayer extends ModelLayer {
  call(call: ValueCall): Flow[] {
    const x = asDtype((call.args[0] as { tensor: Flow }).tensor.tensor, this.dtype);
    return [{ tensor: permute(x, [0, ...(this.config.dims as number[])]), mask: null }];
  }
}

function permute(x: Tensor, order: number[]): Tensor {
  const shape = order.map((a) => x.shape[a]);
  const rank = shape.length;
  const inStride = new Array<number>(rank);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStride[i] = acc;
    acc *= x.shape[i];
  }
  const stride = order.map((a) => inStride[a]);
  const out = x.data.slice();
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let k = 0; k < out.length; k++) {
    out[k] = x.data[src];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      src += stride[d];
      if (idx[d] < shape[d]) break;
      src -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return { shape, data: out };
}

function readDims(r: ConfigReader, rank: number): number[] {
  const dims = r.config.dims;
  const ok = Array.isArray(dims) && dims.length === rank - 1 && [...dims].sort().every((d, i) => d === i + 1);
  if (!ok) r.fail(`\`dims\` must be a permutation of 1..${rank - 1}, found ${preview(dims)}.`);
  return dims as number[];
}

export const reshapeKinds: LayerKind[] = [
  {
    className: 'Flatten',
    analyze(r, call) {
      const input = onlyInput(r, call);
      if (r.config.data_format === 'channels_first') r.unsupported('data_format=channels_first is not supported.');
      return { outputShapes: [[input[0], known(input) ? product(input.slice(1)) : null]], weights: [] };
    },
    create: (spec) => new ReshapeLayer(spec),
  },
  {
    className: 'Reshape',
    analyze(r, call) {
      const input = onlyInput(r, call);
      const t = target(r.config.target_shape, known(input) ? product(input.slice(1)) : null, (m) => r.fail(m));
      return { outputShapes: [[input[0], ...t]], weights: [] };
    },
    create: (spec) => new ReshapeLayer(spec),
  },
  {
    className: 'Permute',
    analyze(r, call) {
      const input = onlyInput(r, call);
      const dims = readDims(r, input.length);
      return { outputShapes: [[input[0], ...dims.map((d) => input[d])]], weights: [] };
    },
    create: (spec) => new PermuteLayer(spec),
  },
];
