import { activationDef, type Tensor } from '@gru/core';
import type { Shape } from '../config/spec.js';
import { arrayLength } from '../kernels/common.js';
import { broadcastApply, broadcastShapes } from './broadcast.js';
import { type OpDef, type Operand, opKind } from './op-layer.js';

const scalar = (v: number): Tensor => ({ shape: [], data: Float64Array.of(v) });
const asTensor = (a: Operand<Tensor>): Tensor => (typeof a === 'number' ? scalar(a) : a);
const shapeOf = (a: Operand<Shape>): Shape => (typeof a === 'number' ? [] : a);

/**
 * Keras bools are kept as 0/1 in a Float32Array; arithmetic follows the widest float operand.
 * Sizes go through `arrayLength`: a broadcast can be far larger than its operands.
 */
const boolArray = (n: number) => new Float32Array(arrayLength(n, 4));
function arithmeticArray(args: Operand<Tensor>[]): (n: number) => Float32Array | Float64Array {
  return args.some((a) => typeof a !== 'number' && a.data instanceof Float64Array)
    ? (n) => new Float64Array(arrayLength(n, 8))
    : (n) => new Float32Array(arrayLength(n, 4));
}

function binary(className: string, f: (x: number, y: number) => number, bool: boolean): OpDef {
  return {
    className,
    shape(r, args) {
      if (args.length !== 2) r.fail(`takes 2 operands, found ${args.length}.`);
      const s = broadcastShapes(shapeOf(args[0]), shapeOf(args[1]));
      if (typeof s === 'string') r.fail(`${s}.`);
      return s as Shape;
    },
    run(args, _config, fail) {
      return broadcastApply(asTensor(args[0]), asTensor(args[1]), bool ? boolArray : arithmeticArray(args), f, fail);
    },
  };
}

function unary(className: string, f: (x: number) => number, bool: boolean): OpDef {
  return {
    className,
    shape(r, args) {
      if (args.length !== 1 || typeof args[0] === 'number') r.fail(`takes one tensor operand, found ${args.length} operand(s).`);
      return args[0] as Shape;
    },
    run(args) {
      const x = asTensor(args[0]);
      const out = bool ? boolArray(x.data.length) : arithmeticArray(args)(x.data.length);
      for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]);
      return { shape: [...x.shape], data: out };
    },
  };
}

const b = (v: boolean) => (v ? 1 : 0);

/** Comparisons, logic and arithmetic Keras records as op nodes (`ops.not_equal`, `x + y` on Keras tensors ...). */
export const elementwiseOps = [
  binary('NotEqual', (x, y) => b(x !== y), true),
  binary('Equal', (x, y) => b(x === y), true),
  binary('Greater', (x, y) => b(x > y), true),
  binary('GreaterEqual', (x, y) => b(x >= y), true),
  binary('Less', (x, y) => b(x < y), true),
  binary('LessEqual', (x, y) => b(x <= y), true),
  binary('LogicalOr', (x, y) => b(x !== 0 || y !== 0), true),
  binary('LogicalAnd', (x, y) => b(x !== 0 && y !== 0), true),
  binary('LogicalXor', (x, y) => b((x !== 0) !== (y !== 0)), true),
  unary('LogicalNot', (x) => b(x === 0), true),
  binary('Add', (x, y) => x + y, false),
  binary('Subtract', (x, y) => x - y, false),
  binary('Multiply', (x, y) => x * y, false),
  binary('Divide', (x, y) => x / y, false),
  binary('Maximum', (x, y) => Math.max(x, y), false),
  binary('Minimum', (x, y) => Math.min(x, y), false),
  unary('Negative', (x) => -x, false),
  unary('Absolute', (x) => Math.abs(x), false),
  unary('Square', (x) => x * x, false),
  unary('Sqrt', Math.sqrt, false),
  unary('Exp', Math.exp, false),
  unary('Log', Math.log, false),
  // The activations Keras also offers as ops, with core's math (what Activation layers use).
  ...(['Sigmoid', 'Tanh', 'Relu', 'Softplus', 'Silu'] as const).map((c) => unary(c, activationDef(c.toLowerCase()).f as (x: number) => number, false)),
].map(opKind);
