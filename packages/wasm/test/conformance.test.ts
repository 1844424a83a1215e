import { describeConformance } from '@gru/conformance/vitest';
import { backend } from '../src/index.js';

describeConformance(backend);
