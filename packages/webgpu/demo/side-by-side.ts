/**
 * One GRU configuration run on several backends with the same weights and input: each row has
 * the first call's time (weights upload, kernel compiles), the median of later calls, the first
 * outputs and the largest difference from the reference backend.
 */
import { GRU } from '@gru/core';

export interface DemoShape {
  batch: number;
  timesteps: number;
  inputDim: number;
  units: number;
}

export interface DemoRow {
  backend: string;
  /** Why the backend could not run it (then the numbers are absent). */
  error?: string;
  firstMs?: number;
  medianMs?: number;
  runs?: number;
  head?: number[];
  maxDiffVsReference?: number;
}

function seeded(seed: number) {
  let a = seed >>> 0;
  return (n: number, scale: number) =>
    Array.from({ length: n }, () => {
      a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
      return (a / 4294967296 - 0.5) * 2 * scale;
    });
}

export async function runSideBySide(shape: DemoShape, backends: string[], runs = 5): Promise<DemoRow[]> {
  const { batch: B, timesteps: T, inputDim: D, units: H } = shape;
  const rand = seeded(42);
  const weights = [
    { shape: [D, 3 * H], data: rand(D * 3 * H, 0.5) },
    { shape: [H, 3 * H], data: rand(H * 3 * H, 1 / Math.sqrt(H)) },
    { shape: [2, 3 * H], data: rand(6 * H, 0.1) },
  ];
  const x = { shape: [B, T, D], data: rand(B * T * D, 1) };
  const reference = new GRU({ units: H, backend: 'reference' });
  reference.setWeights(weights);
  const want = (await reference.forward(x)).output.data;
  reference.dispose();

  const rows: DemoRow[] = [];
  for (const name of backends) {
    const layer = new GRU({ units: H, backend: name });
    try {
      layer.setWeights(weights);
      let start = performance.now();
      const first = await layer.forward(x);
      const firstMs = performance.now() - start;
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        start = performance.now();
        await layer.forward(x);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const got = first.output.data;
      let maxDiff = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
      rows.push({
        backend: first.backend,
        firstMs,
        medianMs: times[Math.floor(times.length / 2)],
        runs,
        head: Array.from(got.slice(0, 6)),
        maxDiffVsReference: maxDiff,
      });
    } catch (err) {
      rows.push({ backend: name, error: (err as Error).message });
    } finally {
      layer.dispose();
    }
  }
  return rows;
}
