import { gruRunner } from '../gru-runner.mjs';

// @gru/cpu on one thread: beside gru:cpu in one run, what sharing one sequence between the cores
// gains (or, on a loaded machine, loses).
export default gruRunner(
  'cpu-1t',
  async () => {
    const [{ createCpuBackend }, { registerBackend }] = await Promise.all([import('@gru/cpu'), import('@gru/core')]);
    registerBackend(createCpuBackend({ name: 'cpu-1t', threads: 1, priority: -1 }));
  },
  { name: 'gru:cpu:1t', note: 'the native addon on one thread (gru:cpu uses every core where a step is large enough)' },
);
