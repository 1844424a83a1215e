import { describeConformance } from '@gru/conformance/vitest';
import { backend } from '../src/index.js';

// Every public Keras case; what the backend declines is listed, with reasons, in
// conformance.expectations.json beside this package (found from its own directory).
// Strict (what CI runs): every skip must be listed, and backend cases must have run.
describeConformance(backend, { strict: true });
