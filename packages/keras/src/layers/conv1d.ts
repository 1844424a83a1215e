import { activationDef } from '@gru/core';
import type { LayerSpec, Shape } from '../config/spec.js';
import { ConfigReader } from '../config/values.js';
import { preview } from '../io/json.js';
import { conv1d, conv1dOutputLength, type Conv1DOptions } from '../kernels/conv1d.js';
import { layerActivation } from './activation-def.js';
import type { Flow, ValueCall } from './base.js';
import { KernelLayer } from './kernel-layer.js';
import { type Compat, type LayerKind, onlyInput, rankIs, type Weights } from './kind.js';

/** An int or Keras's 1-tuple (`[3]`). */
export function oneOf(r: ConfigReader, key: string, fallback: number): number {
  const v = r.config[key] ?? fallback;
  const n = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 1 << 20)
    r.fail(`\`${key}\` must be a positive integer up to ${1 << 20} (gru's bound) or a 1-tuple of one, found ${preview(v)}.`);
  return n as number;
}

/**
 * One of `allowed`; a missing key is `fallback`. A null is only `fallback` where Keras reads None
 * as its default (`nullIsFallback`: data_format); elsewhere Keras fails on it (padding=None).
 */
export function choice<T extends string>(r: ConfigReader, key: string, fallback: T, allowed: readonly T[], nullIsFallback = false): T {
  const given = r.config[key];
  const v = given === undefined || (given === null && nullIsFallback) ? fallback : given;
  if (!allowed.includes(v as T)) r.fail(`\`${key}\` must be one of ${allowed.join(', ')}, found ${preview(v)}.`);
  return v as T;
}

/** Keras's Conv1D (padding valid/same/causal, strides, dilation, groups, either data format); masks are dropped. */
export class Conv1DLayer extends KernelLayer {
  readonly activation: string;
  constructor(spec: LayerSpec, weights: Weights, compat: Compat) {
    super(spec, weights);
    this.activation = layerActivation(spec.config.activation, compat, new ConfigReader(spec.config, spec.className, spec.name));
  }
  call(call: ValueCall): Flow[] {
    const [x] = this.inputs(call);
    const c = this.config;
    const options: Conv1DOptions = {
      strides: c.strides as number,
      padding: c.padding as Conv1DOptions['padding'],
      dilation_rate: c.dilation_rate as number,
      groups: (c.groups as number | undefined) ?? 1,
      data_format: (c.data_format as Conv1DOptions['data_format']) ?? 'channels_last',
      activation: activationDef(this.activation),
    };
    return [{ tensor: this.run(() => conv1d(x, this.weights[0], this.weight('bias'), options)), mask: null }];
  }
}

export const conv1dKind: LayerKind = {
  className: 'Conv1D',
  analyze(r, call, ctx) {
    r.refuseIfSet('lora_rank', 'LoRA adapters add weights gru does not apply');
    const input = onlyInput(r, call);
    rankIs(r, input, 3, '(batch, steps, channels)');
    const filters = r.positiveInt('filters');
    const k = oneOf(r, 'kernel_size', 1);
    const strides = oneOf(r, 'strides', 1);
    const dilation = oneOf(r, 'dilation_rate', 1);
    const groups = r.positiveInt('groups', 1);
    const padding = choice(r, 'padding', 'valid', ['valid', 'same', 'causal'] as const);
    const format = choice(r, 'data_format', 'channels_last', ['channels_last', 'channels_first'] as const, true);
    if (strides > 1 && dilation > 1) r.fail(`strides ${strides} with dilation_rate ${dilation} is not supported (Keras refuses it too).`);
    layerActivation(r.config.activation, ctx.compat, r);
    const last = format === 'channels_last';
    const channels = input[last ? 2 : 1];
    const steps = input[last ? 1 : 2];
    if (typeof channels !== 'number' || channels % groups !== 0 || filters % groups !== 0) {
      r.fail(`needs known input channels and filters divisible by groups ${groups}; input shape ${preview(input)}, filters ${filters}.`);
    }
    let out: number | null = null;
    if (steps !== null) {
      const valid = padding !== 'valid' || steps - dilation * (k - 1) - 1 >= 0;
      if (!valid) r.fail(`input of ${steps} steps is too short for kernel_size ${k} with dilation_rate ${dilation} (padding 'valid').`);
      out = conv1dOutputLength(steps, k, strides, padding, dilation);
    }
    const weights = [{ name: 'kernel', shape: [k, (channels as number) / groups, filters], keras3Path: 'vars/0' }];
    if (r.bool('use_bias', true)) weights.push({ name: 'bias', shape: [filters], keras3Path: 'vars/1' });
    const shape: Shape = last ? [input[0], out, filters] : [input[0], filters, out];
    return { outputShapes: [shape], weights };
  },
  create: (spec, weights, compat) => new Conv1DLayer(spec, weights, compat),
};
