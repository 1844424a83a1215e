import { gruRunner } from '../gru-runner.mjs';

// gru:wasm:stream with two worker threads: each step is shared between the calling thread and one
// worker (half the units each, whoever finishes first takes the other's half if it has not begun).
// Compare with gru:wasm:stream in the same run; it pays off only where the worker has a core of its own.
export default gruRunner(
  'wasm-stream-2t',
  async () => {
    const [{ createWasmBackend }, { registerBackend }] = await Promise.all([import('@gru/wasm'), import('@gru/core')]);
    registerBackend(createWasmBackend({ name: 'wasm-stream-2t', threads: 2, minSharedStepMacs: 0, priority: -1 }));
  },
  {
    name: 'gru:wasm:stream:2t',
    stream: true,
    note: 'stateful layer.stream() on a backend with 2 worker threads: each step shared between the calling thread and one worker (µs per step = median ÷ T)',
  },
);
