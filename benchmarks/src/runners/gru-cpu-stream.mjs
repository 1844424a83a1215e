import { gruRunner } from '../gru-runner.mjs';

// A stateful layer fed one step at a time (gru.stream()): a pass is T steps, so on S4 the median is one step's cost.
export default gruRunner('cpu', () => import('@gru/cpu'), {
  name: 'gru:cpu:stream',
  stream: true,
  note: "stateful layer.stream(), T step() calls per pass (µs per step = median ÷ T); the layer's own state carries across passes",
});
