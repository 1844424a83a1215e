import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { activationDef, type ActivationId } from '../src/index.js';

// The derivative every backend's backward uses at each activation's breakpoints (0, +-0.5, +-1,
// +-2.5, +-3, 6), against TensorFlow's autodiff of Keras's own activations. Made with:
//   KERAS_BACKEND=tensorflow python: for each name and point p,
//   x = tf.Variable([p], dtype=tf.float64); with tf.GradientTape() as t: y = tf.reduce_sum(keras.activations.get(name)(x))
//   t.gradient(y, x)
// At a kink both one-sided derivatives are defensible; gru takes TensorFlow's (JAX and PyTorch
// differ at some), except celu at 0, where TensorFlow counts both branches of max/min (2) and JAX
// takes 1. Keras 2's hard_sigmoid (clip(0.2x + 0.5, 0, 1), TensorFlow's clip_by_value) is 0.2 at
// +-2.5, the bounds included.
const table = JSON.parse(readFileSync(new URL('./helpers/activation-kinks-tf.json', import.meta.url), 'utf8')) as {
  pts: number[];
  tf: Record<string, number[]>;
};
const NOT_TENSORFLOW: Record<string, Record<number, number>> = { celu: { 0: 1 } };

describe("activations' derivatives at their breakpoints", () => {
  it("Keras 2's hard_sigmoid: 0.2 on [-2.5, 2.5], bounds included (TensorFlow's clip_by_value), 0 outside", () => {
    const df = activationDef('keras2_hard_sigmoid').df as (x: number, y: number) => number;
    expect([-2.6, -2.5, 0, 2.5, 2.6].map((x) => df(x, 0))).toEqual([0, 0.2, 0.2, 0.2, 0]);
  });

  it.each(Object.keys(table.tf))('%s: as TensorFlow differentiates Keras', (name) => {
    const def = activationDef(name as ActivationId);
    const df = def.df as (x: number, y: number) => number;
    const f = def.f as (x: number) => number;
    table.pts.forEach((p, i) => {
      const want = NOT_TENSORFLOW[name]?.[p] ?? table.tf[name][i];
      // float32 constants on TensorFlow's side (leaky_relu's 0.2, gelu's coefficients): 1e-7 relative.
      expect(Math.abs(df(p, f(p)) - want), `${name}'(${p}) = ${df(p, f(p))}, TensorFlow ${table.tf[name][i]}`).toBeLessThanOrEqual(
        1e-7 * Math.max(1, Math.abs(want)),
      );
    });
  });
});
