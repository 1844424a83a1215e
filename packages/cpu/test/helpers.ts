// The kit's shared test helpers (one seeded generator, one random case, one tolerance), so a
// failure here reads like a conformance failure and reproduces from its seed.
export {
  assertClose,
  bitwiseEqual,
  heapGrowthDuring,
  makeCase,
  rng,
  streamBoundSteps,
  type CaseOptions,
  type RandomCase as Case,
} from '@gru/conformance/testing';
