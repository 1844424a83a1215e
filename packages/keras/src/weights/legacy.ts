import type { ModelSpec } from '../config/spec.js';
import { KerasFileError } from '../errors.js';
import type { H5Group } from '../io/h5.js';

/**
 * Reads Keras 2's HDF5 weights (the `model_weights` group of a legacy `.h5` model, or the root
 * of a Keras 2 `save_weights` file) the way Keras does: by order, not by name. The layers listed
 * in `layer_names` that have weights are matched, in order, with the model's layers that have
 * weights; each layer's `weight_names` are matched, in order, with the weights its config needs.
 */
export function readLegacyWeights(group: H5Group, spec: ModelSpec, label: string): (Float32Array | Float64Array)[][] {
  const layerNames = group.stringListAttr('layer_names');
  if (!layerNames) throw new KerasFileError(`${label}: group '${group.path}' has no 'layer_names' attribute, so it is not a Keras HDF5 weights group.`);
  const saved: { name: string; weightNames: string[]; group: H5Group }[] = [];
  for (const name of layerNames) {
    const g = group.group(name);
    const weightNames = g.stringListAttr('weight_names') ?? [];
    if (weightNames.length) saved.push({ name, weightNames, group: g });
  }
  const wanted = spec.layers.map((l, i) => ({ layer: l, index: i })).filter(({ layer }) => layer.weights.length > 0);
  if (saved.length !== wanted.length) {
    throw new KerasFileError(
      `${label}: layer count mismatch: the model config has ${wanted.length} layers with weights (${wanted.map((w) => w.layer.name).join(', ')}), ` +
        `the file has ${saved.length} (${saved.map((s) => s.name).join(', ')}).`,
    );
  }
  const out: (Float32Array | Float64Array)[][] = spec.layers.map(() => []);
  wanted.forEach(({ layer, index }, k) => {
    const s = saved[k];
    if (s.weightNames.length !== layer.weights.length) {
      throw new KerasFileError(
        `${label}: weight count mismatch for layer #${k} ('${layer.name}' in the config, '${s.name}' in the file): ` +
          `the config needs ${layer.weights.length} (${layer.weights.map((w) => w.name).join(', ')}), the file has ${s.weightNames.length} (${s.weightNames.join(', ')}).`,
      );
    }
    out[index] = layer.weights.map((w, j) =>
      s.group.dataset(s.weightNames[j]).read(w.shape, `layer '${layer.name}' ${w.name} (saved as '${s.weightNames[j]}')`, w.integer),
    );
  });
  return out;
}
