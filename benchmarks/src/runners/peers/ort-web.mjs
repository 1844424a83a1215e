/**
 * onnxruntime-web's wasm backend (its own WebAssembly SIMD build) running one Keras GRU in Node.
 *
 * @typedef {import('../../shapes.mjs').Shape} Shape
 * @typedef {import('../../discover.mjs').Runner} Runner
 */
import { inputFor, kerasWeights } from '../../data.mjs';
import { assertAgrees, gruLastOutput } from './check-against-gru.mjs';
import { onnxGruTimeMajor, toTimeMajor } from './onnx-gru-time-major.mjs';

/**
 * @param {number} threads  ort.env.wasm.numThreads (1: single-threaded)
 * @returns {Runner}
 */
export function ortWebRunner(threads) {
  const name = threads === 1 ? 'ort-web-wasm' : `ort-web-wasm-${threads}t`;
  return {
    name,
    kind: 'peer',
    note: `onnxruntime-web ${threads === 1 ? 'single-threaded' : `with ${threads} threads`} (wasm SIMD), in Node; ONNX GRU with linear_before_reset=1 (= reset_after=True), x fed time-major`,
    async available() {
      try {
        await import('onnxruntime-web');
        return true;
      } catch (err) {
        return `cannot import onnxruntime-web: ${err instanceof Error ? err.message : String(err)}`;
      }
    },
    async setup(shape) {
      const ort = await import('onnxruntime-web');
      ort.env.wasm.numThreads = threads;
      ort.env.logLevel = 'error';
      const w = kerasWeights(shape, { resetAfter: true });
      // Time-major x, transposed once here as an ONNX user would feed it (ONNX's GRU layout 0):
      // the strongest fair setup, the same as the onnxruntime-node runner's.
      const session = await ort.InferenceSession.create(onnxGruTimeMajor(shape, w), {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
      });
      const { B, T, D } = shape;
      const x = new ort.Tensor('float32', toTimeMajor(inputFor(shape), shape), [T, B, D]);
      const run = async () => {
        const out = await session.run({ x });
        const y = /** @type {import('onnxruntime-web').Tensor} */ (out.y_h);
        const data = /** @type {Float32Array} */ (await y.getData());
        y.dispose();
        return data;
      };
      assertAgrees(name, await run(), await gruLastOutput(shape, { resetAfter: true }));
      return {
        run: async () => {
          await run();
        },
        dispose: () => session.release(),
      };
    },
  };
}
