/**
 * The demo page's train panel: fit a small GRU (plus a one-output linear head) on a toy sequence
 * task with Adam, on every browser backend that implements backward at run time
 * (`supportsBackward`), and report the loss after every step. The task: the mean of a sequence
 * of random numbers (the GRU has to accumulate over time).
 */
import { GRU, getBackend, loadBackend, type GruSpec } from '@gru/core';

export interface TrainOptions {
  units: number;
  timesteps: number;
  batch: number;
  steps: number;
  learningRate: number;
}

export interface TrainRun {
  backend: string;
  /** Why this backend did not train (no backward, no device...); then `losses` is empty. */
  skipped?: string;
  error?: string;
  /** Mean squared error before each step's update. */
  losses: number[];
  ms?: number;
}

export const DEFAULT_TRAIN: TrainOptions = { units: 8, timesteps: 8, batch: 16, steps: 60, learningRate: 0.02 };

/** Deterministic numbers in [-1, 1) (an LCG), so every run sees the same data and weights. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return (a / 4294967296) * 2 - 1;
  };
}

/** Adam (Kingma & Ba, Keras's defaults but the rate) over a list of parameter arrays. */
class Adam {
  private m: Float64Array[];
  private v: Float64Array[];
  private t = 0;
  constructor(
    private readonly rate: number,
    sizes: number[],
  ) {
    this.m = sizes.map((n) => new Float64Array(n));
    this.v = sizes.map((n) => new Float64Array(n));
  }
  step(params: Float32Array[], grads: ArrayLike<number>[]): void {
    this.t++;
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    params.forEach((p, k) => {
      const g = grads[k];
      const m = this.m[k];
      const v = this.v[k];
      for (let i = 0; i < p.length; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= (this.rate * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-7);
      }
    });
  }
}

/** Trains on `backendName` if it can run backward for this layer; the reason otherwise. */
export async function trainOn(backendName: string, o: TrainOptions = DEFAULT_TRAIN): Promise<TrainRun> {
  const backend = getBackend(backendName);
  if (!backend) return { backend: backendName, skipped: 'not registered', losses: [] };
  const { units: H, timesteps: T, batch: B } = o;
  const D = 1;
  const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
  const can = backend.supportsBackward ? backend.supportsBackward(spec) : 'it does not implement backward';
  if (can !== true) return { backend: backendName, skipped: `no backward: ${can}`, losses: [] };
  try {
    await loadBackend(backend);
  } catch (err) {
    return { backend: backendName, skipped: `could not load: ${(err as Error).message}`, losses: [] };
  }
  const rand = seeded(7);
  const layer = new GRU({ units: H });
  layer.build([B, T, D]);
  // The starting weights come from the seeded generator, not the layer's initializers (which,
  // as Keras's, draw afresh for every layer): every backend starts from the same point.
  const uniform = (n: number, limit: number) => Float32Array.from({ length: n }, () => rand() * limit);
  const params = [
    uniform(D * 3 * H, Math.sqrt(6 / (D + 3 * H))),
    uniform(H * 3 * H, Math.sqrt(6 / (4 * H))),
    new Float32Array(2 * 3 * H),
    uniform(H, 0.3),
    new Float32Array(1),
  ];
  const adam = new Adam(
    o.learningRate,
    params.map((p) => p.length),
  );
  const losses: number[] = [];
  const start = performance.now();
  try {
    for (let step = 0; step < o.steps; step++) {
      const x = Float32Array.from({ length: B * T }, () => rand());
      const target = Array.from({ length: B }, (_, b) => x.subarray(b * T, (b + 1) * T).reduce((s, v) => s + v, 0) / T);
      layer.setWeights([
        { shape: [D, 3 * H], data: params[0] },
        { shape: [H, 3 * H], data: params[1] },
        { shape: [2, 3 * H], data: params[2] },
      ]);
      const { output, backend: ran } = await layer.forward({ shape: [B, T, D], data: x }, { training: true, backend: backendName });
      if (ran !== backendName) throw new Error(`the call ran on ${ran}`);
      const [w, bias] = [params[3], params[4]];
      // Head y = h . w + bias; loss = mean (y - target)^2.
      const dOut = new Float32Array(B * H);
      const dW = new Float64Array(H);
      let dBias = 0;
      let loss = 0;
      for (let b = 0; b < B; b++) {
        let y = bias[0];
        for (let j = 0; j < H; j++) y += output.data[b * H + j] * w[j];
        const e = y - target[b];
        loss += (e * e) / B;
        const dy = (2 * e) / B;
        dBias += dy;
        for (let j = 0; j < H; j++) {
          dW[j] += dy * output.data[b * H + j];
          dOut[b * H + j] = dy * w[j];
        }
      }
      losses.push(loss);
      // x is data: no gradient for it, so backward skips dx.
      const g = await layer.backward({ shape: [B, H], data: dOut }, null, { inputGradients: false });
      adam.step(params, [g.kernel.data, g.recurrentKernel.data, (g.bias as { data: ArrayLike<number> }).data, dW, [dBias]]);
    }
    return { backend: backendName, losses, ms: performance.now() - start };
  } catch (err) {
    return { backend: backendName, error: (err as Error).message, losses };
  } finally {
    layer.dispose();
  }
}

/** Draws loss curves (log scale) on a canvas, one color per run. */
export function drawLosses(canvas: HTMLCanvasElement, runs: TrainRun[]): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width: W, height: Hc } = canvas;
  ctx.clearRect(0, 0, W, Hc);
  const all = runs.flatMap((r) => r.losses).filter((v) => v > 0);
  if (!all.length) return;
  const lo = Math.log10(Math.min(...all));
  const hi = Math.log10(Math.max(...all));
  const span = hi - lo || 1;
  const colors = ['#1f77b4', '#d62728', '#2ca02c'];
  runs.forEach((r, i) => {
    ctx.strokeStyle = colors[i % colors.length];
    ctx.beginPath();
    r.losses.forEach((v, s) => {
      const px = 30 + (s / Math.max(1, r.losses.length - 1)) * (W - 40);
      const py = 10 + ((hi - Math.log10(Math.max(v, 1e-12))) / span) * (Hc - 30);
      if (s === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle;
    ctx.fillText(r.backend, W - 80, 15 + 14 * i);
  });
  ctx.fillStyle = '#666';
  ctx.fillText(`loss ${Math.max(...all).toExponential(1)}`, 2, 12);
  ctx.fillText(`${Math.min(...all).toExponential(1)} (log scale)`, 2, Hc - 4);
}
