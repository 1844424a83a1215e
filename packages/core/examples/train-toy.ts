/**
 * Fits a GRU to a toy task with Adam written in a few lines on top of `backward()`: the README's
 * training example, also run by the tests.
 */
import { GRU, type Tensor } from '../src/index.js';

/** The task: read a sequence of numbers, output 0.5 * tanh(their sum). */
function batchOf(size: number, steps: number, random: () => number): { x: Tensor; y: Float32Array } {
  const x = new Float32Array(size * steps);
  const y = new Float32Array(size);
  for (let b = 0; b < size; b++) {
    let sum = 0;
    for (let t = 0; t < steps; t++) sum += x[b * steps + t] = random() * 2 - 1;
    y[b] = 0.5 * Math.tanh(sum);
  }
  return { x: { shape: [size, steps, 1], data: x }, y };
}

export async function trainToy({ iterations = 200, learningRate = 0.02, seed = 1 } = {}): Promise<number[]> {
  let s = seed;
  const random = () => ((s = (s * 16807) % 2147483647) - 1) / 2147483646;
  const layer = new GRU({
    units: 1,
    kernelInitializer: { class_name: 'GlorotUniform', config: { seed } },
    recurrentInitializer: { class_name: 'Orthogonal', config: { seed } },
  });
  layer.build([null, 8, 1]);

  // Adam state, one slot per weight tensor.
  const weights = layer.getWeights();
  const m = weights.map((w) => new Float32Array(w.data.length));
  const v = weights.map((w) => new Float32Array(w.data.length));
  const losses: number[] = [];

  for (let step = 1; step <= iterations; step++) {
    const { x, y } = batchOf(32, 8, random);
    const { output } = await layer.forward(x, { training: true });
    // Mean squared error and its gradient with respect to the output.
    const dOutput = new Float32Array(output.data.length);
    let loss = 0;
    output.data.forEach((p, i) => {
      loss += (p - y[i]) ** 2 / y.length;
      dOutput[i] = (2 * (p - y[i])) / y.length;
    });
    losses.push(loss);
    // The layer reads the model's input, whose gradient nothing needs: skip it.
    const grads = await layer.backward({ shape: output.shape, data: dOutput }, null, { inputGradients: false });
    const g = [grads.kernel, grads.recurrentKernel, grads.bias as Tensor];
    weights.forEach((w, k) => {
      for (let i = 0; i < w.data.length; i++) {
        m[k][i] = 0.9 * m[k][i] + 0.1 * g[k].data[i];
        v[k][i] = 0.999 * v[k][i] + 0.001 * g[k].data[i] ** 2;
        const mHat = m[k][i] / (1 - 0.9 ** step);
        const vHat = v[k][i] / (1 - 0.999 ** step);
        w.data[i] -= (learningRate * mHat) / (Math.sqrt(vHat) + 1e-7);
      }
    });
    layer.setWeights(weights);
    layer.applyConstraints();
  }
  return losses;
}
