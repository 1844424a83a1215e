// The kit's shared test helpers: one seeded generator, one random case, one tolerance.
export { makeCase, rng, worstRatio, type CaseOptions as Config } from '@gru/conformance/testing';
