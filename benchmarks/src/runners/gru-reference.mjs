import { gruRunner } from '../gru-runner.mjs';
import { flops } from '../shapes.mjs';

// The executable spec (pure JS, float64 math, one row and step at a time): a GFLOP takes seconds.
export default gruRunner('reference', () => import('@gru/core'), {
  slow: (shape) => flops(shape) >= 1e9,
  note: 'pure-JS executable spec (float64 math); shapes of 1 GFLOP or more are capped at --slow-iters passes',
});
