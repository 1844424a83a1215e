/** The kit's building blocks for backend tests, without vitest (the CLI and browsers use them too). */
export { rng, type Rng } from './rng.js';
export { makeCase, describeCaseOptions, type CaseOptions, type RandomCase } from './make-case.js';
export { callInfoOf } from './call-info.js';
export { bitwiseEqual } from './bitwise.js';
export { streamBoundSteps, type StepShape, type SteppedResult } from './bound-steps.js';
export { shiftyRequest, shiftySpec, fieldsNotReadOnce } from './shifty-request.js';
export {
  planAgainstReference,
  checkAgainstReference,
  cloneRequest,
  compareResult,
  type ResultMatch,
  DEFAULT_SHAPES,
  DEFAULT_VARIANTS,
  type Shape,
  type Variant,
  type SweepOptions,
  type SweepCase,
  type ForwardPath,
} from './against-reference.js';
export { checkSetWeights, checkFreshResults, checkInputsUntouched, checkRequestReadOnce, CONTRACT_CHECKS } from './contract.js';
export { checkBoundReruns } from './bound-reruns.js';
export { checkConcurrentCalls } from './concurrent-calls.js';
export { checkEmptyCalls } from './empty-calls.js';
export { checkBackendReload } from './backend-reload.js';
export { checkActivationKinks, ACTIVATION_BREAKPOINTS } from './activation-kinks.js';
export {
  checkForeignArrays,
  inOtherRealm,
  asHostileSubclass,
  openOtherRealm,
  type OtherRealm,
  type OpenedRealm,
  type FixtureArray,
} from './foreign-arrays.js';
export { compareArrays, assertClose, worstRatio, unravel, TOLERANCES, type Tolerance, type Comparison } from '../tolerance.js';
