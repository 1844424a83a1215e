// The kit's shared test helpers: one seeded generator, one random case, one tolerance.
export { bitwiseEqual, heapGrowthDuring, makeCase, rng, streamBoundSteps, worstRatio, type CaseOptions as Config } from '@gru/conformance/testing';
