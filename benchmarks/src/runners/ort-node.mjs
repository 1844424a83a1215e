/**
 * onnxruntime-node (ONNX Runtime's native CPU execution provider, MLAS kernels, its own thread
 * pool with one thread per core by default) running one ONNX GRU node: the native peer @gru/cpu
 * has to beat. Its `run()` computes on the JavaScript thread (inside a setImmediate), so it never
 * leaves the event loop free.
 *
 * Install note: onnxruntime-node's postinstall would fetch CUDA libraries on Linux x64; the
 * workspace does not run it (pnpm builds only allow-listed packages), and ONNXRUNTIME_NODE_INSTALL=skip
 * turns it off for npm installs. The CPU provider ships inside the npm package.
 *
 * @typedef {import('../shapes.mjs').Shape} Shape
 */
import { inputFor, kerasWeights } from '../data.mjs';
import { assertAgrees, gruLastOutput } from './peers/check-against-gru.mjs';
import { onnxGruTimeMajor, toTimeMajor } from './peers/onnx-gru-time-major.mjs';

export const name = 'ort-node';
export const kind = 'peer';
export const note =
  'onnxruntime-node 1.30 CPU EP (threads = cores), one ONNX GRU node, linear_before_reset=1 (= reset_after=True); x fed time-major, transposed once in setup';

export async function available() {
  try {
    const ort = await import('onnxruntime-node');
    const cpu = ort.listSupportedBackends?.().some((b) => b.name === 'cpu') ?? true;
    return cpu ? true : 'onnxruntime-node lists no cpu backend on this platform';
  } catch (err) {
    return `cannot import onnxruntime-node: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** @param {Shape} shape */
export async function setup(shape) {
  const ort = await import('onnxruntime-node');
  const { B, T, D } = shape;
  const session = await ort.InferenceSession.create(onnxGruTimeMajor(shape, kerasWeights(shape, { resetAfter: true })), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  const x = new ort.Tensor('float32', toTimeMajor(inputFor(shape), shape), [T, B, D]);
  const run = async () => {
    const out = await session.run({ x });
    return /** @type {Float32Array} */ (out.y_h.data);
  };
  // The same computation as gru's, checked once on the benchmark's own numbers.
  assertAgrees(name, await run(), await gruLastOutput(shape, { resetAfter: true }));
  return {
    run: async () => {
      await run();
    },
    dispose: () => session.release(),
  };
}
