/**
 * Keras 3's `Conv1D` at inference.
 *
 *   conv1d(x, kernel, bias, options) -> y
 *     x       channels_last (batch, steps, channels)  | channels_first (batch, channels, steps)
 *     kernel  (kernel_size, channels / groups, filters)     Keras's weight 0 ("kernel")
 *     bias    (filters,) or null                            Keras's weight 1 ("bias"), absent when use_bias=false
 *     y       channels_last (batch, outSteps, filters)  | channels_first (batch, filters, outSteps)
 *   options (Keras config names): strides, padding ('valid' | 'same' | 'causal'), dilation_rate,
 *     groups, data_format; `activation`: the config's activation as @gru/core's ActivationDef
 *     (activationDef(resolveActivation(config.activation))), applied on the filters axis; omit for linear.
 *   conv1dOutputLength(steps, kernel_size, strides, padding, dilation_rate): Keras's
 *     compute_conv_output_shape: valid floor((steps - dilation*(k-1) - 1)/strides) + 1 (an error when
 *     under 1), same and causal floor((steps - 1)/strides) + 1.
 *   conv1dComputeMask(): null. Keras 3's Conv1D does not support masking: a mask reaching it is
 *     dropped (Keras warns) and nothing after it sees one.
 *
 * Padding as Keras: 'same' pads max((out-1)*strides + dilation*(k-1) + 1 - steps, 0) zeros, the
 * smaller half before; 'causal' pads dilation*(k-1) zeros before and none after. Keras refuses
 * strides > 1 together with dilation_rate > 1, and so does this kernel.
 */
import type { ActivationDef } from '@gru/core';
import { type Tensor, KernelArgumentError, checkChoice, checkInt, checkSameDtype, checkShape, checkTensor, sameArray } from './common.js';
import { activateRows, gemmRows, transpose } from './matmul.js';

const K = 'conv1d';

export type ConvPadding = 'valid' | 'same' | 'causal';
export type DataFormat = 'channels_last' | 'channels_first';

export interface Conv1DOptions {
  strides?: number | readonly number[];
  padding?: ConvPadding;
  dilation_rate?: number | readonly number[];
  groups?: number;
  data_format?: DataFormat;
  /** The activation after the bias; linear when omitted. */
  activation?: ActivationDef;
}

/** Keras 3's Conv1D passes no mask on. */
export function conv1dComputeMask(): null {
  return null;
}

/** Unwraps Keras's 1-tuples (`strides: [2]`) and checks the value. */
export function oneInt(kernel: string, argument: string, v: unknown, min: number): number {
  const n = Array.isArray(v) ? (v.length === 1 ? v[0] : v) : v;
  if (Array.isArray(n)) {
    throw new KernelArgumentError(kernel, argument, `argument '${argument}' expected an integer or a list of one integer, received a list of ${n.length}`);
  }
  return checkInt(kernel, argument, n, min);
}

export function conv1dOutputLength(steps: number, kernelSize: number, strides: number, padding: ConvPadding, dilation: number): number {
  if (padding === 'valid') {
    const out = Math.floor((steps - dilation * (kernelSize - 1) - 1) / strides) + 1;
    if (out <= 0) {
      throw new KernelArgumentError(
        K,
        'x',
        `argument 'x' is too short: computed output size would be zero or negative (expected steps >= ${dilation * (kernelSize - 1) + 1}): steps ${steps}, kernel_size ${kernelSize}, dilation_rate ${dilation}, strides ${strides}, padding 'valid'`,
      );
    }
    return out;
  }
  return steps === 0 ? 0 : Math.floor((steps - 1) / strides) + 1;
}

/** Zeros padded before the first step. */
function padBefore(steps: number, outSteps: number, kernelSize: number, strides: number, padding: ConvPadding, dilation: number): number {
  if (padding === 'valid') return 0;
  if (padding === 'causal') return dilation * (kernelSize - 1);
  const total = Math.max((outSteps - 1) * strides + dilation * (kernelSize - 1) + 1 - steps, 0);
  return Math.floor(total / 2);
}

/** (batch, a, b) -> (batch, b, a) into a new array of the same dtype. */
export function swapLastTwo(data: Float32Array | Float64Array, batch: number, a: number, b: number): Float32Array | Float64Array {
  const out = sameArray(data, data.length);
  for (let n = 0; n < batch; n++) {
    const base = n * a * b;
    for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out[base + j * a + i] = data[base + i * b + j];
  }
  return out;
}

export function conv1d(x: Tensor, kernel: Tensor, bias: Tensor | null, options: Conv1DOptions = {}): Tensor {
  checkTensor(K, 'x', x, 3);
  checkTensor(K, 'kernel', kernel, 3);
  checkSameDtype(K, 'kernel', kernel, x.data);
  const strides = oneInt(K, 'strides', options.strides ?? 1, 1);
  const dilation = oneInt(K, 'dilation_rate', options.dilation_rate ?? 1, 1);
  const groups = checkInt(K, 'groups', options.groups ?? 1, 1);
  const padding = checkChoice(K, 'padding', options.padding ?? 'valid', ['valid', 'same', 'causal'] as const);
  const format = checkChoice(K, 'data_format', options.data_format ?? 'channels_last', ['channels_last', 'channels_first'] as const);
  if (strides > 1 && dilation > 1) {
    throw new KernelArgumentError(
      K,
      'strides',
      `argument 'strides' > 1 is not supported together with dilation_rate > 1 (as in Keras), received strides ${strides} and dilation_rate ${dilation}`,
    );
  }
  const channelsLast = format === 'channels_last';
  const [B, d1, d2] = x.shape;
  const L = channelsLast ? d1 : d2;
  const C = channelsLast ? d2 : d1;
  const [KS, Cg, F] = kernel.shape;
  if (KS < 1 || F < 1)
    throw new KernelArgumentError(K, 'kernel', `argument 'kernel' expected kernel_size and filters >= 1, received shape [${kernel.shape.join(', ')}]`);
  if (C % groups !== 0 || F % groups !== 0) {
    throw new KernelArgumentError(K, 'groups', `argument 'groups' must divide the input channels (${C}) and the filters (${F}), received ${groups}`);
  }
  checkShape(K, 'kernel', kernel, [KS, C / groups, F]);
  if (bias) {
    checkShape(K, 'bias', bias, [F]);
    checkSameDtype(K, 'bias', bias, x.data);
  }
  const Lout = conv1dOutputLength(L, KS, strides, padding, dilation);
  const left = padBefore(L, Lout, KS, strides, padding, dilation);
  const Fg = F / groups;

  const act = options.activation;
  if (act && !act.f && !act.row) {
    // glu halves the filters axis: Keras's output would not have `filters` channels.
    throw new KernelArgumentError(
      K,
      'activation',
      `argument 'activation' expected an elementwise or row-wise activation, received '${act.name}' (${act.unusable ?? 'not applicable here'})`,
    );
  }
  if (act && !act.f && !channelsLast) {
    // Keras applies a row-wise activation (softmax...) on the last axis, which is time here.
    throw new KernelArgumentError(
      K,
      'activation',
      `argument 'activation' '${act.name}' is row-wise; with data_format 'channels_first' Keras applies it over time, which this kernel does not do`,
    );
  }

  const xs = channelsLast ? x.data : swapLastTwo(x.data, B, C, L);
  // wT[f][k][ci]: each filter's taps contiguous, the layout of an im2col row of its group.
  const KC = KS * Cg;
  const wT = transpose(kernel.data, KC, F);
  const b = bias?.data;
  const out = sameArray(x.data, B * Lout * F);
  // The input is copied once with its zeros around each batch row, so every output step reads all
  // its taps.
  const right = Math.max((Lout - 1) * strides + dilation * (KS - 1) + 1 - L - left, 0);
  const Lp = left + L + right;
  const padded = sameArray(x.data, B * Lp * C);
  for (let n = 0; n < B; n++) padded.set(xs.subarray(n * L * C, (n + 1) * L * C), (n * Lp + left) * C);
  // relu, the common case, is fused into the product; other activations run over the output after.
  const relu = act?.name === 'relu';
  if (groups === 1 && dilation === 1) {
    // An output step's taps are one contiguous run of its padded row (steps strides*C apart): one
    // product over every batch row reads them in place.
    gemmRows({
      x: padded,
      xOff: 0,
      xStride: strides * C,
      rows: Lout,
      n: KC,
      wT,
      wOff: 0,
      wStride: KC,
      m: F,
      bias: b,
      out,
      outOff: 0,
      outStride: F,
      batches: { count: B, xStride: Lp * C, outStride: Lout * F },
      relu,
    });
  } else {
    // Otherwise each group's taps are gathered (im2col), one batch row at a time.
    const cols = sameArray(x.data, Lout * KC);
    for (let n = 0; n < B; n++) {
      for (let g = 0; g < groups; g++) {
        for (let t = 0; t < Lout; t++) {
          for (let k = 0; k < KS; k++) {
            const src = (n * Lp + t * strides + k * dilation) * C + g * Cg;
            cols.set(padded.subarray(src, src + Cg), t * KC + k * Cg);
          }
        }
        gemmRows({
          x: cols,
          xOff: 0,
          xStride: KC,
          rows: Lout,
          n: KC,
          wT,
          wOff: g * Fg * KC,
          wStride: KC,
          m: Fg,
          bias: b?.subarray(g * Fg),
          out,
          outOff: n * Lout * F + g * Fg,
          outStride: F,
          relu,
        });
      }
    }
  }
  if (act && !relu) activateRows(act, out, B * Lout, F);
  const data = channelsLast ? out : swapLastTwo(out, B, Lout, F);
  return { shape: channelsLast ? [B, Lout, F] : [B, F, Lout], data };
}
