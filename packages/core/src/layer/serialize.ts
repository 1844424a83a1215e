import { valueError } from '../errors.js';
import type { FromConfigOptions } from '../config.js';
import { GRU } from './gru.js';
import { GRUCell } from './gru-cell.js';

/** `keras.layers.serialize(layer)`: `{module, class_name, config, registered_name}`. */
export function serializeLayer(layer: GRU | GRUCell): Record<string, unknown> {
  const out: Record<string, unknown> = {
    module: 'keras.layers',
    class_name: layer instanceof GRU ? 'GRU' : 'GRUCell',
    config: layer.getConfig(),
    registered_name: null,
  };
  // Keras adds the shape a built layer was built with, so deserializing can build it again.
  const shape = (layer instanceof GRU ? layer.cell : layer).buildInputShape;
  if (layer.built && shape) out.build_config = { input_shape: shape };
  return out;
}

/** `keras.layers.deserialize(obj)` for GRU and GRUCell; any other class is refused by name. */
export function deserializeLayer(obj: Record<string, unknown>, options: FromConfigOptions = {}): GRU | GRUCell {
  const className = obj?.class_name;
  const config = obj?.config as Record<string, unknown> | undefined;
  if (typeof config !== 'object' || config === null) {
    throw valueError(`deserializeLayer expects {class_name, config}; received ${JSON.stringify(obj)?.slice(0, 200)}.`);
  }
  const inputShape = (obj.build_config as { input_shape?: (number | null)[] } | undefined)?.input_shape;
  if (className === 'GRU') {
    const layer = GRU.fromConfig(config, options);
    if (Array.isArray(inputShape) && !layer.built) layer.build(inputShape);
    return layer;
  }
  if (className === 'GRUCell') {
    const cell = GRUCell.fromConfig(config, options);
    if (Array.isArray(inputShape) && !cell.built) cell.build(inputShape);
    return cell;
  }
  throw valueError(`deserializeLayer: unsupported layer class '${String(className)}' (only GRU and GRUCell).`);
}
