import { gruRunner } from '../gru-runner.mjs';

// gru:cpu:stream on one thread: what sharing a streamed step between the cores gains.
export default gruRunner(
  'cpu-1t',
  async () => {
    const [{ createCpuBackend }, { registerBackend }] = await Promise.all([import('@gru/cpu'), import('@gru/core')]);
    registerBackend(createCpuBackend({ name: 'cpu-1t', threads: 1, priority: -1 }));
  },
  {
    name: 'gru:cpu:stream:1t',
    stream: true,
    note: 'gru:cpu:stream on one thread (µs per step = median ÷ T)',
  },
);
