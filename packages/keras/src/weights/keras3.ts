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
    return layer.weights.map((w) => root.dataset(`${layer.keras3Group}/${w.keras3Path}`).read(w.shape, `layer '${layer.name}' ${w.name}`, w.integer));
  });
}

/**
 * The most bytes a Keras 3 `model.weights.h5` for this model can need, counted generously: every
 * weight value in float64 eight times over (the weights, optimizer slots such as Adam's m, v and
 * v-hat, an EMA copy), 512 KiB of HDF5 structure per weight tensor and 64 KiB per layer, plus
 * 4 MiB for the optimizer's scalars, metrics and the file's own headers. Keras's own files are far
 * smaller (about 3 KiB of structure per tensor); this only stops a small archive from inflating
 * to a weights entry that the model could never use.
 */
export function keras3WeightsFileBound(spec: ModelSpec): number {
  const tensors = spec.layers.reduce((n, layer) => n + layer.weights.length, 0);
  return 64 * spec.parameterCount + (512 << 10) * tensors + (64 << 10) * spec.layers.length + (4 << 20);
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
