import { bidirectionalKind } from './bidirectional.js';
import { denseKind } from './dense.js';
import { embeddingKind } from './embedding.js';
import { gruKind } from './gru.js';
import { rnnKind } from './rnn.js';
import { preprocessingKinds } from './preprocessing.js';
import { identityKinds } from './identity.js';
import type { LayerKind } from './kind.js';
import { maskingKind } from './masking.js';
import { opKinds } from '../ops/registry.js';
import { activationKind } from './activation.js';
import { activationLayerKinds } from './activation-layers.js';
import { additiveAttentionKind, attentionKind, multiHeadAttentionKind } from './attention.js';
import { conv1dKind } from './conv1d.js';
import { normalizationKinds } from './normalization.js';
import { poolingKinds } from './pooling.js';
import { dotKind } from './dot.js';
import { mergeKinds } from './merge.js';
import { reshapeKinds } from './reshape.js';
import { sequenceKinds } from './sequence-1d.js';
import { setWrappedFactory, timeDistributedKind } from './time-distributed.js';

/**
 * Every layer class gru runs, once. The loader refuses any other class with an
 * UnsupportedLayerError whose message lists these (`supportedText`).
 */
const LAYER_KINDS: LayerKind[] = [
  embeddingKind,
  maskingKind,
  gruKind,
  rnnKind,
  bidirectionalKind,
  timeDistributedKind,
  denseKind,
  activationKind,
  ...activationLayerKinds,
  ...identityKinds,
  ...mergeKinds,
  dotKind,
  ...reshapeKinds,
  ...sequenceKinds,
  conv1dKind,
  ...poolingKinds,
  ...normalizationKinds,
  ...preprocessingKinds,
  attentionKind,
  additiveAttentionKind,
  multiHeadAttentionKind,
];

const LAYERS = new Map(LAYER_KINDS.map((k) => [k.className, k]));
const OPS = new Map(opKinds.map((k) => [k.className, k]));

setWrappedFactory(
  (spec, weights, compat) => (LAYERS.get(spec.className) as LayerKind).create(spec, weights, compat),
  (className) => LAYERS.get(className)?.takesMask === true,
);

/** The kind for a layer class, or for a Keras 3 op with `op` set. */
export function kindOf(className: string, op = false): LayerKind | undefined {
  return (op ? OPS : LAYERS).get(className);
}

/** The layer classes gru runs (InputLayer aside), in the order they are documented. */
export function supportedLayers(): string[] {
  return LAYER_KINDS.map((k) => (k.className === 'Bidirectional' ? 'Bidirectional(GRU)' : k.className === 'RNN' ? 'RNN(GRUCell)' : k.className));
}

/** The Keras 3 ops gru runs when a Functional config records them. */
export function supportedOps(): string[] {
  return opKinds.map((k) => k.className);
}

export function supportedText(): string {
  return `InputLayer, ${supportedLayers().join(', ')}`;
}
