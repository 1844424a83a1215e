import type { Tensor } from '@gru/core';
import type { Shape } from '../config/spec.js';
import { preview } from '../io/json.js';
import { concatAxis } from '../layers/tensor-ops.js';
import { type OpDef, normAxis, opKind } from './op-layer.js';

const one = (r: { fail(m: string): never }, args: unknown[]) => {
  if (args.length !== 1 || typeof args[0] === 'number') r.fail('takes one tensor operand.');
  return args[0];
};

const expandDims: OpDef = {
  className: 'ExpandDims',
  shape(r, args) {
    const s = one(r, args) as Shape;
    const at = normAxis(r.config.axis, s.length + 1, (m) => r.fail(m));
    return [...s.slice(0, at), 1, ...s.slice(at)];
  },
  run(args, config, fail) {
    const x = args[0] as Tensor;
    const at = normAxis(config.axis, x.shape.length + 1, fail);
    return { shape: [...x.shape.slice(0, at), 1, ...x.shape.slice(at)], data: x.data };
  },
};

const squeeze: OpDef = {
  className: 'Squeeze',
  shape(r, args) {
    const s = one(r, args) as Shape;
    const at = normAxis(r.config.axis, s.length, (m) => r.fail(m));
    if (s[at] !== 1 && s[at] !== null) r.fail(`cannot squeeze axis ${at} of size ${s[at]}.`);
    return s.filter((_, i) => i !== at);
  },
  run(args, config, fail) {
    const x = args[0] as Tensor;
    const at = normAxis(config.axis, x.shape.length, fail);
    if (x.shape[at] !== 1) fail(`cannot squeeze axis ${at} of size ${x.shape[at]}.`);
    return { shape: x.shape.filter((_, i) => i !== at), data: x.data };
  },
};

/** ZerosLike / OnesLike (bool or float, as Keras; 0/1 either way). */
function filled(className: string, v: number): OpDef {
  return {
    className,
    shape: (r, args) => one(r, args) as Shape,
    run(args) {
      const x = args[0] as Tensor;
      const out = x.data instanceof Float64Array ? new Float64Array(x.data.length) : new Float32Array(x.data.length);
      out.fill(v);
      return { shape: [...x.shape], data: out };
    },
  };
}

const FLOAT = new Set(['float32', 'float64', 'float16', 'bfloat16']);
const INT = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);

/** Keras's ops.cast: to bool (x != 0), an integer (truncation) or float32/float64. */
const cast: OpDef = {
  className: 'Cast',
  shape(r, args) {
    const d = r.config.dtype;
    if (d !== 'bool' && !(typeof d === 'string' && (d === 'float32' || d === 'float64' || INT.has(d)))) {
      r.unsupported(`casts to dtype ${preview(d)}; gru casts to bool, integers, float32 and float64 only.`);
    }
    return one(r, args) as Shape;
  },
  run(args, config) {
    const x = args[0] as Tensor;
    const d = config.dtype as string;
    const out = d === 'float64' || (INT.has(d) && !FLOAT.has(d)) ? new Float64Array(x.data.length) : new Float32Array(x.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = x.data[i];
      out[i] = d === 'bool' ? (v !== 0 ? 1 : 0) : INT.has(d) ? Math.trunc(v) : v;
    }
    return { shape: [...x.shape], data: out };
  },
};

const concatenate: OpDef = {
  className: 'Concatenate',
  list: true,
  shape(r, args) {
    if (!args.length || args.some((a) => typeof a === 'number')) r.fail('takes a list of tensors.');
    const shapes = args as Shape[];
    const rank = shapes[0].length;
    const at = normAxis(r.config.axis ?? 0, rank, (m) => r.fail(m));
    let size: number | null = 0;
    for (const s of shapes) {
      if (s.length !== rank || s.some((d, i) => i !== at && d !== null && shapes[0][i] !== null && d !== shapes[0][i])) {
        r.fail(`cannot concatenate shapes ${preview(shapes)} on axis ${at}.`);
      }
      size = size === null || s[at] === null ? null : size + (s[at] as number);
    }
    return shapes[0].map((d, i) => (i === at ? size : d));
  },
  run(args, config, fail) {
    const ts = args as Tensor[];
    const at = normAxis(config.axis ?? 0, ts[0].shape.length, fail);
    const wide = ts.some((t) => t.data instanceof Float64Array);
    return concatAxis(ts, at, wide ? 'float64' : 'float32');
  },
};

/** Keras's ops.convert_to_tensor (Keras records it on masks handed to layers): the same values, cast when a dtype is given. */
const convertToTensor: OpDef = {
  className: 'ConvertToTensor',
  shape(r, args) {
    const d = r.config.dtype;
    if (d !== null && d !== undefined && d !== 'bool' && !(typeof d === 'string' && (FLOAT.has(d) || INT.has(d))))
      r.unsupported(`converts to dtype ${preview(d)}.`);
    return one(r, args) as Shape;
  },
  run(args, config, fail) {
    const d = config.dtype;
    return typeof d === 'string' ? cast.run(args, config, fail) : (args[0] as Tensor);
  },
};

export const shapeOps = [convertToTensor, expandDims, squeeze, filled('ZerosLike', 0), filled('OnesLike', 1), cast, concatenate].map(opKind);
