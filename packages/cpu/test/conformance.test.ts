import { describeConformance } from '@gru/conformance/vitest';
import { backend } from '../src/index.js';

// Every public Keras case; what the backend declines is listed, with reasons, in
// conformance/expectations/cpu.json.
describeConformance(backend);
