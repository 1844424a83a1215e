/**
 * The parts of @gru/conformance that run in a browser (no node:fs): run already-parsed cases on
 * a backend and judge them against an expectations object. Fetching the case files is the page's
 * job.
 */
export { runForwardCase, caseTolerance, type CaseOutcome, type CaseStatus } from './run-case.js';
export { runGradientCase } from './run-gradient-case.js';
export { judge, type ResultStatus } from './judge.js';
export { sameShape } from './tolerance.js';
export * from './testing/index.js';
export type { Expectations } from './expectations-types.js';
export type { CaseJson, TensorJson, StepJson } from './format.js';
