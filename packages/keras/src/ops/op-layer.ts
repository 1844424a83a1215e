import type { Tensor } from '@gru/core';
import type { CallOf, LayerSpec, Shape } from '../config/spec.js';
import type { ConfigReader } from '../config/values.js';
import { preview } from '../io/json.js';
import { layerFail, ModelLayer, type Flow, type ValueCall } from '../layers/base.js';
import type { LayerKind } from '../layers/kind.js';

/** An op's operand: a tensor, or a plain number the config recorded (`NotEqual(x, 0)`). */
export type Operand<T> = T | number;

/** The operands of an op call, in order: tensors and numeric constants (bools count as 0/1). */
export function operands<T>(fail: (m: string) => never, call: CallOf<T>): Operand<T>[] {
  const out: Operand<T>[] = [];
  for (const a of call.args) {
    if ('tensor' in a) out.push(a.tensor);
    else if ('list' in a) out.push(...a.list);
    else if (typeof a.value === 'number' && Number.isFinite(a.value)) out.push(a.value);
    else if (typeof a.value === 'boolean') out.push(a.value ? 1 : 0);
    else fail(`takes an argument gru cannot read: ${preview(a.value)}.`);
  }
  if (Object.keys(call.named).length || call.mask) fail('is called with tensor keyword arguments, which gru does not run for ops.');
  return out;
}

export interface OpDef {
  className: string;
  /** Reads the config (axis, keepdims ...) and the operand shapes; returns the output shape. */
  shape(r: ConfigReader, args: Operand<Shape>[]): Shape;
  /** Computes the op; `config` is the op's config. */
  run(args: Operand<Tensor>[], config: Record<string, unknown>, fail: (m: string) => never): Tensor;
  /** Whether the op takes its tensors as one list (`ops.concatenate([a, b])`). */
  list?: boolean;
}

/** A Keras 3 op node of a Functional config (the mask plumbing, and simple tensor ops). */
export class OpLayer extends ModelLayer {
  constructor(
    spec: LayerSpec,
    private readonly def: OpDef,
  ) {
    super(spec);
  }
  call(call: ValueCall): Flow[] {
    const fail = layerFail(this);
    const args = operands(fail, call).map((a) => (typeof a === 'number' ? a : a.tensor));
    return [{ tensor: this.def.run(args, this.config, fail), mask: null }];
  }
}

export function opKind(def: OpDef): LayerKind {
  return {
    className: def.className,
    op: true,
    analyze(r, call) {
      return {
        outputShapes: [
          def.shape(
            r,
            operands((m) => r.fail(m), call),
          ),
        ],
        weights: [],
      };
    },
    create: (spec) => new OpLayer(spec, def),
  };
}

/** A non-negative axis for a tensor of `rank` (Python's negative axes count from the end). */
export function normAxis(axis: unknown, rank: number, fail: (m: string) => never): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= rank) fail(`axis ${preview(axis)} is out of range for rank ${rank}.`);
  return axis < 0 ? axis + rank : axis;
}
