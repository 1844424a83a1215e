import { describeConformance } from '@gru/conformance/vitest';
import { backend } from '../src/index.js';

// Strict (what CI runs): every skip must be listed, and backend cases must have run.
describeConformance(backend, { strict: true });
