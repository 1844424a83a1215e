import type { LayerSpec, ModelSpec } from '../config/spec.js';
import { KerasFileError } from '../errors.js';
import type { H5File } from '../io/h5.js';

/**
 * Reads a Keras 3 weights file (`model.weights.h5` inside a .keras archive, or a `.weights.h5`):
 * each layer's variables sit at `layers/<class>/.../vars/<index>`. As Keras's own loader does,
 * a layer whose variable count differs from what its config implies is refused.
 */
export function readKeras3Weights(file: H5File, spec: ModelSpec): (Float32Array | Float64Array)[][] {
  const root = file.root;
  if (!root.has('layers')) {
    throw new KerasFileError(`${file.label} is not a Keras 3 weights file: it has no 'layers' group (top-level members: ${root.keys().join(', ') || 'none'}).`);
  }
  return spec.layers.map((layer) => {
    checkVariableCounts(file, layer);
    return layer.weights.map((w) => root.dataset(`${layer.keras3Group}/${w.keras3Path}`).read(w.shape, `layer '${layer.name}' ${w.name}`));
  });
}

function checkVariableCounts(file: H5File, layer: LayerSpec): void {
  const expected = new Map<string, string[]>();
  for (const w of layer.weights) {
    const slash = w.keras3Path.lastIndexOf('/');
    const group = `${layer.keras3Group}/${w.keras3Path.slice(0, slash)}`;
    expected.set(group, [...(expected.get(group) ?? []), w.keras3Path.slice(slash + 1)]);
  }
  for (const [group, keys] of expected) {
    const found = file.root.group(group).keys();
    const same = found.length === keys.length && keys.every((k) => found.includes(k));
    if (!same) {
      throw new KerasFileError(
        `${file.label}: layer '${layer.name}' (${layer.className}) expects ${keys.length} variables at '${group}', found ${found.length} (${found.join(', ') || 'none'}). ` +
          'The weights file does not match the model config.',
      );
    }
  }
}
