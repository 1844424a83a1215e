import { registerBackend } from '@gru/core';
import { describeConformance } from '@gru/conformance/vitest';
import { fileURLToPath } from 'node:url';
import { backend, createWebGpuBackend } from '../src/index.js';
import { useSoftwareAdapterInTests } from './gpu-setup.js';

// CI has no GPU: the software adapter (lavapipe) must be accepted, and a missing adapter fails load().
useSoftwareAdapterInTests(backend);
describeConformance(backend, { strict: true });

// The default picks the fused kernel for every case here; the stepwise kernel (what larger
// layers run) is held to the same Keras cases. Negative priority: only runs when named.
const stepwise = createWebGpuBackend({ name: 'webgpu-stepwise', priority: -1, recurrence: 'stepwise', allowFallbackAdapter: true });
registerBackend(stepwise);
describeConformance(stepwise, {
  strict: true,
  expectations: fileURLToPath(new URL('../conformance.expectations.json', import.meta.url)),
  // Config and error checks do not involve a backend; the run above has them.
  coreChecks: false,
});
