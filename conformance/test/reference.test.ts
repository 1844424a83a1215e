import { referenceBackend } from '@gru/core';
import { describeConformance } from '../src/vitest.js';

// The reference backend is the executable spec: every public case must pass on it.
describeConformance(referenceBackend);
