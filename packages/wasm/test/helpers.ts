// The kit's shared test helpers: one seeded generator, one random case, one tolerance.
export {
  bitwiseEqual,
  fieldsNotReadOnce,
  heapGrowthDuring,
  makeCase,
  rng,
  shiftyRequest,
  shiftySpec,
  streamBoundSteps,
  worstRatio,
  type CaseOptions as Config,
} from '@gru/conformance/testing';
