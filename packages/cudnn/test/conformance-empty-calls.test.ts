import { runConformance } from '@gru/conformance';
import { describe, expect, it } from 'vitest';
import { emulatedBackend } from './helpers.js';

/**
 * The kit's contract:empty-calls (batch 0 and timesteps 0 answered as the reference answers
 * them, forward and backward) on the cuDNN backend over the emulated device: these calls never
 * reach the device, so the emulator stands for the GPU here.
 */
describe('cuDNN backend: the conformance kit’s empty-call contract', () => {
  it('passes contract:empty-calls', async () => {
    const { backend } = emulatedBackend('cudnn-kit-empty');
    const report = await runConformance(backend, { coreChecks: false, sweep: false, only: ['contract:empty-calls'], expectations: {} });
    const result = report.results.find((r) => r.name === 'contract:empty-calls');
    expect(result?.status, result?.detail).toBe('passed');
    // Named, not skipped silently: the two variants cuDNN's rules decline (resetAfter false, no bias).
    expect(result?.detail).toBe(
      'not checked: ' +
        'float32 returnSequences=false initialState=true mask=right-padded resetAfter=false at every size (supports(): resetAfter is false (cuDNN applies the reset gate after the matmul)); ' +
        'float32 returnSequences=false useBias=false at every size (supports(): useBias is false (cuDNN needs biases)); ' +
        'float64 returnSequences=false initialState=true mask=right-padded resetAfter=false at every size (supports(): resetAfter is false (cuDNN applies the reset gate after the matmul)); ' +
        'float64 returnSequences=false useBias=false at every size (supports(): useBias is false (cuDNN needs biases))',
    );
  }, 60_000);
});
