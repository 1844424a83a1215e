import type { LayerKind } from '../layers/kind.js';
import { elementwiseOps } from './elementwise.js';
import { getItemKind } from './get-item.js';
import { reduceOps } from './reduce.js';
import { shapeOps } from './shape-ops.js';

/**
 * The Keras 3 ops gru runs when a Functional config records them (`keras.src.ops.*` nodes):
 * the mask plumbing Keras writes for masked graphs and the simple tensor ops users write on
 * Keras tensors.
 */
export const opKinds: LayerKind[] = [...elementwiseOps, ...reduceOps, ...shapeOps, getItemKind];
