import { gruRunner } from '../gru-runner.mjs';

// The same layer as tfjs-cpu (reset_after=False, which is all tfjs's GRU supports), on @gru/cpu.
export default gruRunner('cpu', () => import('@gru/cpu'), {
  name: 'gru:cpu:reset-before',
  note: 'native addon, reset_after=False (the configuration tfjs-cpu runs)',
  layer: { resetAfter: false },
});
