/**
 * @gru/conformance: checks any gru backend against reference tensors produced by real Keras.
 * `runConformance(backend)` runs a directory of cases; `describeConformance` (from
 * '@gru/conformance/vitest') turns them into vitest tests; `gru-conformance` is the CLI.
 */
export { runConformance, planConformance, resolveBackend, judge, strictProblems, CORE_ONLY_KINDS } from './runner.js';
export type { ConformanceOptions, ConformanceReport, CaseResult, CaseKind, ResultStatus, PlannedCase } from './runner.js';
export { loadCaseFiles, CASE_FORMAT_VERSION } from './format.js';
export type { CaseJson, TensorJson, StepJson, ErrorEntryJson, ConfigCaseJson, CaseFiles } from './format.js';
export * from './testing/index.js';
export { loadExpectations, validateExpectations, bundledExpectations, bundledCasesDir, type Expectations, type ExpectationGroup } from './expectations.js';
export { isListed } from './judge.js';
export { caseOptionsLine } from './run-case.js';
export { gradientTolerance } from './run-gradient-case.js';
export { formatResult, formatSummary } from './report.js';
export { ERROR_REPRODUCTIONS, runErrorEntry, runConfigCase, jsonEqual } from './core-cases.js';
