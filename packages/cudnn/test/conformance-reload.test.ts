import { runConformance } from '@gru/conformance';
import { describe, expect, it } from 'vitest';
import { emulatedBackend } from './helpers.js';

/**
 * The kit's contract:backend-reload on the cuDNN backend over the emulated device: dispose()
 * forgets the runtime while prepared layers keep theirs, so a layer prepared before the reload
 * (which says nothing through isDisposed()) answers as before.
 */
describe('cuDNN backend: the conformance kit’s backend-reload contract', () => {
  it('passes contract:backend-reload', async () => {
    const { backend } = emulatedBackend('cudnn-kit-reload');
    const report = await runConformance(backend, { coreChecks: false, sweep: false, only: ['contract:backend-reload'], expectations: {} });
    expect(report.results.map((r) => [r.name, r.status, r.detail])).toEqual([['contract:backend-reload', 'passed', undefined]]);
    expect(backend.isLoaded()).toBe(true);
  }, 60_000);
});
