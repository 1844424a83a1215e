import type { CallOf, Shape } from '../config/spec.js';
import { ConfigReader } from '../config/values.js';
import { UnsupportedLayerError } from '../errors.js';
import { preview } from '../io/json.js';
import { checkStates, gruSettings, gruShapes } from './gru-config.js';
import { GruLayer } from './gru.js';
import type { LayerKind } from './kind.js';
import { checkStepMask } from './mask-ops.js';
import { recurrentArgs } from './recurrent-args.js';

/** Keys of a cell's config that belong to the cell as a layer, not to its math: the RNN's own win. */
const CELL_LAYER_KEYS = ['name', 'trainable', 'dtype', 'build_config'];

/** A dtype config's policy name ('float32', or a DTypePolicy object's). */
function policyName(dtype: unknown): unknown {
  if (dtype && typeof dtype === 'object' && !Array.isArray(dtype))
    return ((dtype as Record<string, unknown>).config as Record<string, unknown> | undefined)?.name;
  return dtype ?? null;
}

/**
 * `keras.layers.RNN(keras.layers.GRUCell(...))` as the GRU layer Keras's own GRU is (an RNN around
 * a GRUCell): the cell's config with the RNN's return_sequences, return_state, go_backwards,
 * stateful, unroll and zero_output_for_mask, under the RNN's name. Its weights are the cell's,
 * stored where a GRU's are (`cell/vars` in Keras 3 files; by order in legacy .h5).
 */
export function rnnGruConfig(r: ConfigReader): Record<string, unknown> {
  const cell = r.config.cell;
  const c = cell && typeof cell === 'object' && !Array.isArray(cell) ? (cell as Record<string, unknown>) : null;
  const cls = c?.class_name;
  if (cls !== 'GRUCell') {
    const what = Array.isArray(cell) ? 'a list of cells' : typeof cls === 'string' ? `a ${cls}` : preview(cell);
    throw new UnsupportedLayerError(
      typeof cls === 'string' ? `RNN(${cls})` : 'RNN',
      r.layerName,
      `${r.where}: an RNN around ${what} is not supported; gru runs RNN(GRUCell(...)) only (and the GRU layer).`,
    );
  }
  const cellConfig = (c?.config ?? {}) as Record<string, unknown>;
  if (!cellConfig || typeof cellConfig !== 'object' || Array.isArray(cellConfig)) r.fail(`its GRUCell has no config object: ${preview(c?.config)}.`);
  const cellPolicy = policyName(cellConfig.dtype);
  const rnnPolicy = policyName(r.config.dtype);
  if (cellPolicy !== undefined && cellPolicy !== null && rnnPolicy !== null && cellPolicy !== rnnPolicy) {
    r.unsupported(`its GRUCell computes in dtype policy ${preview(cellPolicy)} while the RNN's is ${preview(rnnPolicy)}; gru runs both in one dtype.`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cellConfig)) if (!CELL_LAYER_KEYS.includes(k)) out[k] = v;
  for (const [k, v] of Object.entries(r.config)) if (k !== 'cell') out[k] = v;
  return out;
}

export const rnnKind: LayerKind = {
  className: 'RNN',
  takesMask: true,
  namedTensors: ['initial_state'],
  analyze(r, call: CallOf<Shape>, ctx) {
    const s = gruSettings(rnnGruConfig(r), ctx.compat, r.where);
    const { sequence, states } = recurrentArgs((m) => r.fail(m), call);
    checkStepMask((m) => r.fail(m), call, sequence, sequence.slice(0, 2), true);
    const shapes = gruShapes(s, sequence, r, 'cell/vars', '');
    if (states.length) checkStates(r, states, [s.units], sequence[0]);
    return { outputShapes: s.returnState ? [shapes.output, shapes.state] : [shapes.output], weights: shapes.weights };
  },
  create: (spec, weights, compat) => new GruLayer(spec, weights, compat, rnnGruConfig(new ConfigReader(spec.config, spec.className, spec.name))),
};
