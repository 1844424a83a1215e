import { valueError } from '../errors.js';
import type { FromConfigOptions } from '../config.js';
import { GRU } from './gru.js';
import { GRUCell } from './gru-cell.js';

/** `keras.layers.serialize(layer)`: `{module, class_name, config, registered_name}`. */
export function serializeLayer(layer: GRU | GRUCell): Record<string, unknown> {
  return {
    module: 'keras.layers',
    class_name: layer instanceof GRU ? 'GRU' : 'GRUCell',
    config: layer.getConfig(),
    registered_name: null,
  };
}

/** `keras.layers.deserialize(obj)` for GRU and GRUCell; any other class is refused by name. */
export function deserializeLayer(obj: Record<string, unknown>, options: FromConfigOptions = {}): GRU | GRUCell {
  const className = obj?.class_name;
  const config = obj?.config as Record<string, unknown> | undefined;
  if (typeof config !== 'object' || config === null) {
    throw valueError(`deserializeLayer expects {class_name, config}; received ${JSON.stringify(obj)?.slice(0, 200)}.`);
  }
  if (className === 'GRU') return GRU.fromConfig(config, options);
  if (className === 'GRUCell') return GRUCell.fromConfig(config, options);
  throw valueError(`deserializeLayer: unsupported layer class '${String(className)}' (only GRU and GRUCell).`);
}
