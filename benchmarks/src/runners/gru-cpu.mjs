import { gruRunner } from '../gru-runner.mjs';

// @gru/cpu: the native addon (SIMD chosen at run time, threads = cores).
export default gruRunner('cpu', () => import('@gru/cpu'), {
  note: 'native addon (C++, SIMD chosen at run time, threads = cores); calls under 10M multiply-adds (S1, S4) run inline, larger ones on a worker thread',
});
