import type { Tensor } from '@gru/core';
import type { Shape } from '../config/spec.js';
import { globalAveragePooling1d, globalMaxPooling1d } from '../kernels/global-pooling1d.js';
import { averagePooling1d, maxPooling1d, pooling1dOutputLength, type Pooling1DOptions } from '../kernels/pooling1d.js';
import { formatShape } from '../errors.js';
import { type Flow, layerFail, type ValueCall } from './base.js';
import { choice, oneOf } from './conv1d.js';
import { KernelLayer } from './kernel-layer.js';
import { checkStepMask, checkStepMaskShape } from './mask-ops.js';
import { type LayerKind, onlyInput, rankIs } from './kind.js';

/** MaxPooling1D / AveragePooling1D (masks dropped, as Keras). */
export class Pooling1DLayer extends KernelLayer {
  call(call: ValueCall): Flow[] {
    const [x] = this.inputs(call);
    const o = this.config as Pooling1DOptions;
    const options: Pooling1DOptions = {
      pool_size: o.pool_size,
      strides: o.strides ?? null,
      padding: o.padding ?? 'valid',
      data_format: o.data_format ?? 'channels_last',
    };
    const f = this.className === 'MaxPooling1D' ? maxPooling1d : averagePooling1d;
    return [{ tensor: this.run(() => f(x, options)), mask: null }];
  }
}

/**
 * GlobalAveragePooling1D (mask-aware: the mean over unmasked steps; it supports masking and
 * returns no mask) and GlobalMaxPooling1D (takes no mask, drops it).
 */
export class GlobalPooling1DLayer extends KernelLayer {
  override readonly supportsMasking: boolean;
  override readonly checksMaskShape: boolean;
  override readonly stepsAxis: number | null;
  override readonly kerasOnZeroSteps: string;
  constructor(...args: ConstructorParameters<typeof KernelLayer>) {
    super(...args);
    this.supportsMasking = this.className === 'GlobalAveragePooling1D';
    this.checksMaskShape = this.supportsMasking;
    this.stepsAxis = this.channelsLast ? 1 : 2;
    // Checked in Keras 3.15.1 (jax and numpy backends) on (2, 0, 3) and, time-distributed, (2, 4, 0, 3).
    this.kerasOnZeroSteps = this.supportsMasking
      ? 'Keras returns NaN there (a mean over no steps), which gru does not return'
      : 'Keras fails there too (a max over no steps)';
  }
  private get channelsLast(): boolean {
    return (this.config.data_format ?? 'channels_last') === 'channels_last';
  }
  /** One value per (batch, step), whichever axis the steps are on. */
  override expectedMaskShape(input: Tensor): number[] {
    return [input.shape[0], input.shape[this.channelsLast ? 1 : 2]];
  }
  override checkMaskShape(fail: (message: string) => never, input: Tensor, maskShape: readonly number[]): void {
    checkStepMaskShape(fail, input.shape, maskShape, this.expectedMaskShape(input));
  }
  call(call: ValueCall, mask: (Uint8Array | null)[] | null): Flow[] {
    const [x] = this.inputs(call);
    const options = {
      data_format: (this.config.data_format as 'channels_last' | 'channels_first') ?? 'channels_last',
      keepdims: this.config.keepdims === true,
    };
    // Keras returns NaN (mean) or fails (max) for zero steps: refuse it, as the GRU does.
    const steps = x.shape[this.stepsAxis as number];
    if (steps === 0)
      layerFail(this)(`received an input with 0 steps (shape ${formatShape(x.shape)}); ${this.className} needs at least one step (${this.kerasOnZeroSteps}).`);
    const y = this.run(() => (this.supportsMasking ? globalAveragePooling1d(x, mask?.[0] ?? null, options) : globalMaxPooling1d(x, options)));
    return [{ tensor: y, mask: null }];
  }
  override computeMask(): (Uint8Array | null)[] {
    return [null];
  }
}

function poolingKind(className: string): LayerKind {
  return {
    className,
    analyze(r, call) {
      const input = onlyInput(r, call);
      rankIs(r, input, 3, '(batch, steps, channels)');
      const pool = oneOf(r, 'pool_size', 2);
      const strides = r.config.strides === null || r.config.strides === undefined ? pool : oneOf(r, 'strides', pool);
      const padding = choice(r, 'padding', 'valid', ['valid', 'same'] as const);
      const last = choice(r, 'data_format', 'channels_last', ['channels_last', 'channels_first'] as const, true) === 'channels_last';
      const steps = input[last ? 1 : 2];
      if (steps !== null && padding === 'valid' && steps < pool) r.fail(`input of ${steps} steps is shorter than pool_size ${pool} (padding 'valid').`);
      const out = steps === null ? null : pooling1dOutputLength(steps, pool, strides, padding);
      const shape: Shape = last ? [input[0], out, input[2]] : [input[0], input[1], out];
      return { outputShapes: [shape], weights: [] };
    },
    create: (spec, weights) => new Pooling1DLayer(spec, weights),
  };
}

function globalKind(className: string): LayerKind {
  return {
    className,
    takesMask: className === 'GlobalAveragePooling1D',
    analyze(r, call) {
      const input = onlyInput(r, call);
      rankIs(r, input, 3, '(batch, steps, features)');
      const last = choice(r, 'data_format', 'channels_last', ['channels_last', 'channels_first'] as const, true) === 'channels_last';
      const F = input[last ? 2 : 1];
      if (className === 'GlobalAveragePooling1D') checkStepMask((m) => r.fail(m), call, input, [input[0], input[last ? 1 : 2]]);
      const keep = r.bool('keepdims', false);
      const shape: Shape = keep ? (last ? [input[0], 1, F] : [input[0], F, 1]) : [input[0], F];
      return { outputShapes: [shape], weights: [] };
    },
    create: (spec, weights) => new GlobalPooling1DLayer(spec, weights),
  };
}

export const poolingKinds: LayerKind[] = [
  poolingKind('MaxPooling1D'),
  poolingKind('AveragePooling1D'),
  globalKind('GlobalAveragePooling1D'),
  globalKind('GlobalMaxPooling1D'),
];
