import { activationDef, resolveActivation } from '@gru/core';
import type { ConfigReader } from '../config/values.js';
import { describeThrown } from '../errors.js';
import { preview } from '../io/json.js';
import type { Compat } from './kind.js';

/** A layer's activation through core's table (Keras 2 files get Keras 2's 'hard_sigmoid'). */
export function layerActivation(identifier: unknown, compat: Compat, r: ConfigReader): string {
  let id: string;
  try {
    id = resolveActivation(identifier ?? 'linear', compat);
  } catch (err) {
    return r.unsupported(`activation ${preview(identifier)} is not a built-in Keras activation (${describeThrown(err)}).`);
  }
  const def = activationDef(id);
  if (!def.f && !def.row) r.unsupported(`activation '${def.name}' cannot be applied by a ${r.className} layer: ${def.unusable}.`);
  return id;
}
