import type { LayerSpec, ModelSpec } from '../config/spec.js';
import { KerasFileError } from '../errors.js';
import type { H5Group } from '../io/h5.js';
import { isNonTrainable } from './trainable.js';

/** One layer as a legacy file saves it: a layer of the model, or a nested model with all its layers' weights. */
interface SavedUnit {
  name: string;
  /** Each weight: its layer's index in spec.layers and its index there, in the order the file lists them. */
  weights: { index: number; j: number; layer: LayerSpec }[];
}

/**
 * The layers a legacy file lists, in order. A nested model is one: Keras saves its
 * `trainable_weights + non_trainable_weights` (each in its layers' order), so a non-trainable
 * weight of an early inner layer comes after every trainable one.
 */
function savedUnits(spec: ModelSpec): SavedUnit[] {
  const units: SavedUnit[] = [];
  const nested = new Map<string, SavedUnit>();
  spec.layers.forEach((layer, index) => {
    if (!layer.weights.length) return;
    const weights = layer.weights.map((_, j) => ({ index, j, layer }));
    if (layer.nestedIn === undefined) {
      units.push({ name: layer.name, weights });
      return;
    }
    let unit = nested.get(layer.nestedIn);
    if (!unit) {
      unit = { name: layer.nestedIn, weights: [] };
      nested.set(layer.nestedIn, unit);
      units.push(unit);
    }
    unit.weights.push(...weights);
  });
  for (const unit of nested.values()) {
    const fixed = (w: SavedUnit['weights'][number]) => isNonTrainable(w.layer, w.j);
    unit.weights = [...unit.weights.filter((w) => !fixed(w)), ...unit.weights.filter(fixed)];
  }
  return units;
}

/**
 * Reads Keras 2's HDF5 weights (the `model_weights` group of a legacy `.h5` model, or the root
 * of a Keras 2 `save_weights` file) the way Keras does: by order, not by name. The layers listed
 * in `layer_names` that have weights are matched, in order, with the model's layers that have
 * weights (a nested model counting as one); each layer's `weight_names` are matched, in order,
 * with the weights its config needs.
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
  const wanted = savedUnits(spec);
  if (saved.length !== wanted.length) {
    throw new KerasFileError(
      `${label}: layer count mismatch: the model config has ${wanted.length} layers with weights (${wanted.map((w) => w.name).join(', ')}), ` +
        `the file has ${saved.length} (${saved.map((s) => s.name).join(', ')}).`,
    );
  }
  const out: (Float32Array | Float64Array)[][] = spec.layers.map((l) => l.weights.map(() => new Float32Array(0)));
  wanted.forEach((unit, k) => {
    const s = saved[k];
    if (s.weightNames.length !== unit.weights.length) {
      const names = unit.weights.map((w) => (w.layer.nestedIn === undefined ? w.layer.weights[w.j].name : `${w.layer.name}/${w.layer.weights[w.j].name}`));
      throw new KerasFileError(
        `${label}: weight count mismatch for layer #${k} ('${unit.name}' in the config, '${s.name}' in the file): ` +
          `the config needs ${unit.weights.length} (${names.join(', ')}), the file has ${s.weightNames.length} (${s.weightNames.join(', ')}).`,
      );
    }
    unit.weights.forEach(({ index, j, layer }, i) => {
      const w = layer.weights[j];
      out[index][j] = s.group.dataset(s.weightNames[i]).read(w.shape, `layer '${layer.name}' ${w.name} (saved as '${s.weightNames[i]}')`, w.integer);
    });
  });
  return out;
}
