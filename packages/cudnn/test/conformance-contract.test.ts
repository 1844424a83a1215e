import { runConformance } from '@gru/conformance';
import { describe, expect, it } from 'vitest';
import { emulatedBackend } from './helpers.js';

/** The kit's contract checks on the cuDNN backend over the emulated device (the fake GPU runs them too, in native-fake-gpu.test.ts). */
describe('cuDNN backend: the conformance kit’s contract checks', () => {
  it('passes contract:backend-reload: dispose() forgets the runtime while prepared layers keep theirs, so a layer prepared before answers as before', async () => {
    const { backend } = emulatedBackend('cudnn-kit-reload');
    const report = await runConformance(backend, { coreChecks: false, sweep: false, only: ['contract:backend-reload'], expectations: {} });
    expect(report.results.map((r) => [r.name, r.status, r.detail])).toEqual([['contract:backend-reload', 'passed', undefined]]);
    expect(backend.isLoaded()).toBe(true);
  }, 60_000);

  it('set-weights, fresh-results, inputs-untouched and request-read-once run with initialState and a right-padded mask, and name what cuDNN declines', async () => {
    const { backend } = emulatedBackend('cudnn-kit-contract');
    const names = ['contract:set-weights', 'contract:fresh-results', 'contract:inputs-untouched', 'contract:request-read-once'];
    const report = await runConformance(backend, { coreChecks: false, sweep: false, only: names, expectations: {} });
    const detail =
      'not checked: ' +
      'mask (any) (supports(): the mask is not strictly right-padded (cuDNN needs sequence lengths)); ' +
      'inputDropoutMasks (supports(): three per-gate input dropout masks (implementation 1 in training) cannot be given to cuDNN, which takes one input sequence); ' +
      'recurrentDropoutMasks (supports(): recurrentDropout is 0.25 (cuDNN needs 0))';
    expect(report.results.map((r) => [r.name, r.status, r.detail])).toEqual(names.map((n) => [n, 'passed', detail]));
  }, 60_000);
});
