import type { Shape } from '../config/spec.js';
import { cropping1d, upSampling1d, zeroPadding1d } from '../kernels/reshaping1d.js';
import { KernelLayer } from './kernel-layer.js';
import type { ConfigReader } from '../config/values.js';
import { preview } from '../io/json.js';
import { ModelLayer, newArray, type Flow, type ValueCall } from './base.js';
import { type LayerKind, onlyInput, rankIs } from './kind.js';

/** Bound on steps a config may add (RepeatVector's n, UpSampling1D's size, padding), so a file cannot ask predict for unbounded memory. */
const MAX_STEPS = 1 << 20;

/** A pair of non-negative ints from an int or a pair (padding, cropping). */
function pair(r: ConfigReader, key: string, fallback: number): [number, number] {
  const v = r.config[key] ?? fallback;
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= 0 && d <= MAX_STEPS)) {
    r.fail(`\`${key}\` must be a non-negative int or a pair of them, found ${preview(v)}.`);
  }
  return p as [number, number];
}

/** UpSampling1D, ZeroPadding1D, Cropping1D on [batch, steps, features]; none of them passes a mask on (as in Keras). */
export class StepsLayer extends KernelLayer {
  call(call: ValueCall): Flow[] {
    const [x] = this.inputs(call);
    const c = this.config as { size?: number; padding?: number | number[]; cropping?: number | number[] };
    const y = this.run(() =>
      this.className === 'UpSampling1D'
        ? upSampling1d(x, { size: c.size ?? 2 })
        : this.className === 'ZeroPadding1D'
          ? zeroPadding1d(x, { padding: c.padding ?? 1 })
          : cropping1d(x, { cropping: c.cropping ?? [1, 1] }),
    );
    return [{ tensor: y, mask: null }];
  }
}

/** RepeatVector(n): [batch, F] -> [batch, n, F]. */
export class RepeatVectorLayer extends ModelLayer {
  call(call: ValueCall): Flow[] {
    const x = (call.args[0] as { tensor: Flow }).tensor.tensor;
    const [B, F] = x.shape;
    const n = this.config.n as number;
    const out = newArray(this.dtype, B * n * F);
    for (let b = 0; b < B; b++) for (let t = 0; t < n; t++) out.set(x.data.subarray(b * F, (b + 1) * F), (b * n + t) * F);
    return [{ tensor: { shape: [B, n, F], data: out }, mask: null }];
  }
}

/**
 * A layer changing the steps axis. `read` checks the config and gives the output steps for input
 * steps T: it runs whether or not T is known, so a config is refused at load even when the steps
 * are of unknown size (predict would otherwise read it unchecked).
 */
function stepsKind(className: string, read: (r: ConfigReader) => (T: number) => number): LayerKind {
  return {
    className,
    analyze(r, call) {
      const input = onlyInput(r, call);
      rankIs(r, input, 3, '(batch, steps, features)');
      const length = read(r);
      const T = input[1];
      return { outputShapes: [[input[0], T === null ? null : length(T), input[2]] as Shape], weights: [] };
    },
    create: (spec, weights) => new StepsLayer(spec, weights),
  };
}

export const sequenceKinds: LayerKind[] = [
  {
    className: 'RepeatVector',
    analyze(r, call) {
      const input = onlyInput(r, call);
      rankIs(r, input, 2, '(batch, features)');
      const n = r.positiveInt('n');
      if (n > MAX_STEPS) r.fail(`\`n\` is ${n}, over gru's bound of ${MAX_STEPS} steps.`);
      return { outputShapes: [[input[0], n, input[1]]], weights: [] };
    },
    create: (spec) => new RepeatVectorLayer(spec),
  },
  stepsKind('UpSampling1D', (r) => {
    const size = r.positiveInt('size', 2);
    if (size > MAX_STEPS) r.fail(`\`size\` is ${size}, over gru's bound of ${MAX_STEPS}.`);
    return (T) => T * size;
  }),
  stepsKind('ZeroPadding1D', (r) => {
    if (r.config.data_format === 'channels_first') r.unsupported('data_format=channels_first is not supported.');
    const [a, b] = pair(r, 'padding', 1);
    return (T) => a + T + b;
  }),
  stepsKind('Cropping1D', (r) => {
    const [a, b] = pair(r, 'cropping', 1);
    return (T) => {
      if (a + b > T) r.fail(`crops ${a + b} steps from an input of ${T}.`);
      return T - a - b;
    };
  }),
];
