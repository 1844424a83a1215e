import { GRU, GRUCell, GruError, clearSession, serializeLayer, deserializeLayer } from '@gru/core';
import type { ConfigCaseJson, ErrorEntryJson } from './format.js';
import type { CaseOutcome } from './run-case.js';
import { translateKerasCode, Untranslatable, type TranslatedCode } from './python-code.js';

/** Deep equality as Python's `==` on JSON-like values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (typeof a === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return ka.length === kb.length && ka.every((k) => k in (b as object) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function firstDifference(got: Record<string, unknown>, want: Record<string, unknown>): string {
  for (const k of new Set([...Object.keys(got), ...Object.keys(want)])) {
    if (!jsonEqual(got[k], want[k])) return `'${k}': got ${JSON.stringify(got[k])}, expected ${JSON.stringify(want[k])}`;
  }
  return 'no difference found';
}

/** get_config() after from_config, before and after build, and serialize/deserialize, as Keras does them. */
export function runConfigCase(c: ConfigCaseJson): CaseOutcome {
  return onReferenceOnly(() => runConfigCaseHere(c));
}

function runConfigCaseHere(c: ConfigCaseJson): CaseOutcome {
  try {
    const make = () => (c.layer === 'GRUCell' ? GRUCell.fromConfig(c.config) : GRU.fromConfig(c.config));
    const layer = make();
    const before = layer.getConfig();
    if (!jsonEqual(before, c.config)) return { status: 'failed', detail: `from_config(config).get_config() differs at ${firstDifference(before, c.config)}` };
    if (layer instanceof GRU) layer.build([2, 3, 4]);
    else layer.build(4);
    const after = layer.getConfig();
    if (!jsonEqual(after, c.config)) return { status: 'failed', detail: `get_config() changed after build at ${firstDifference(after, c.config)}` };
    if (c.serialize) {
      const fresh = make();
      const buildShape = (c.serialize.build_config as { input_shape?: number[] } | undefined)?.input_shape;
      if (buildShape) {
        if (fresh instanceof GRU) fresh.build(buildShape);
        else fresh.build(buildShape);
      }
      const ser = serializeLayer(fresh);
      if (!jsonEqual(ser, c.serialize)) return { status: 'failed', detail: `serialize() differs at ${firstDifference(ser, c.serialize)}` };
      const back = deserializeLayer(ser).getConfig();
      if (!jsonEqual(back, c.config)) return { status: 'failed', detail: `deserialize(serialize()) differs at ${firstDifference(back, c.config)}` };
    }
    return { status: 'passed' };
  } catch (err) {
    return { status: 'failed', detail: `threw ${(err as Error).message}` };
  }
}

const ones = (...shape: number[]) => ({ shape, data: new Array<number>(shape.reduce((a, b) => a * b, 1)).fill(1) });
const ramp = (...shape: number[]) => ({ shape, data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i)) });
const x = ramp(2, 5, 3);
const call = (options: ConstructorParameters<typeof GRU>[0], input: unknown = x, callOptions: Record<string, unknown> = {}) =>
  new GRU(options).forwardSync(input as never, callOptions);

type Expect =
  /** Raises Keras's exception type with exactly Keras's message. */
  | { kind: 'keras-message' }
  /** Keras fails inside numpy; we raise the same exception type with our own clear message. */
  | { kind: 'clear-error'; mentions: string[] }
  /** Keras accepts; `check` returns a problem or undefined. */
  | { kind: 'accepts'; check: (result: unknown, entry: ErrorEntryJson) => string | undefined }
  /** A documented deviation: we do `what`, checked by `check`. */
  | { kind: 'deviation'; what: string; check: (thrown: unknown, result: unknown) => string | undefined };

interface Repro {
  run: () => unknown;
  expect: Expect;
}

const resultShape = (r: unknown) => (r as { output: { shape: number[] } }).output.shape;
const configSubset = (r: unknown, entry: ErrorEntryJson) => {
  const cfg = (r as GRU).getConfig();
  const want = entry.result as Record<string, unknown>;
  const bad = Object.keys(want).find((k) => !jsonEqual(cfg[k], want[k]));
  return bad ? `config '${bad}' is ${JSON.stringify(cfg[bad])}, Keras has ${JSON.stringify(want[bad])}` : undefined;
};
const shapeIs = (want: number[]) => (r: unknown) => (jsonEqual(resultShape(r), want) ? undefined : `output shape [${resultShape(r)}], expected [${want}]`);
const throwsValueError = (mentions: string) => (thrown: unknown) =>
  thrown instanceof GruError && thrown.kerasType === 'ValueError' && thrown.message.includes(mentions)
    ? undefined
    : `expected a ValueError mentioning '${mentions}', got ${String(thrown)}`;
const setWeightsOn = (options: ConstructorParameters<typeof GRU>[0], shapes: number[][]) => {
  const layer = new GRU(options);
  layer.build([2, 5, 3]);
  layer.setWeights(shapes.map((s) => ones(...s)));
};

/**
 * JS reproductions of the entries in errors.json, by name. An entry without one is judged from its
 * Keras code where that translates (runErrorEntry), else reported as unsupported with the reason,
 * never silently passed.
 */
export const ERROR_REPRODUCTIONS: Record<string, Repro> = {
  units_0: { run: () => new GRU({ units: 0 }), expect: { kind: 'keras-message' } },
  'units_-1': { run: () => new GRU({ units: -1 }), expect: { kind: 'keras-message' } },
  units_none: { run: () => new GRU({ units: null as never }), expect: { kind: 'keras-message' } },
  units_str: { run: () => new GRU({ units: '4' as never }), expect: { kind: 'keras-message' } },
  'units_float_2.5': { run: () => call({ units: 2.5 }), expect: { kind: 'keras-message' } },
  'units_float_2.0': {
    run: () => call({ units: 2.0 }),
    expect: {
      kind: 'deviation',
      what: 'JS numbers cannot tell 2.0 from 2, so units: 2.0 is units 2',
      check: (t, r) => (t ? `threw ${String(t)}` : shapeIs([2, 2])(r)),
    },
  },
  cell_units_0: { run: () => new GRUCell({ units: 0 }), expect: { kind: 'keras-message' } },
  'dropout_1.5': { run: () => new GRU({ units: 4, dropout: 1.5 }), expect: { kind: 'accepts', check: configSubset } },
  'dropout_-0.1': { run: () => new GRU({ units: 4, dropout: -0.1 }), expect: { kind: 'accepts', check: configSubset } },
  recurrent_dropout_2: { run: () => new GRU({ units: 4, recurrentDropout: 2 }), expect: { kind: 'accepts', check: configSubset } },
  'recurrent_dropout_-1': { run: () => new GRU({ units: 4, recurrentDropout: -1 }), expect: { kind: 'accepts', check: configSubset } },
  dropout_str: { run: () => new GRU({ units: 4, dropout: '0.5' as never }), expect: { kind: 'keras-message' } },
  activation_nope: { run: () => new GRU({ units: 4, activation: 'nope' }), expect: { kind: 'keras-message' } },
  recurrent_activation_nope: { run: () => new GRU({ units: 4, recurrentActivation: 'nope' }), expect: { kind: 'keras-message' } },
  activation_int: { run: () => new GRU({ units: 4, activation: 3 as never }), expect: { kind: 'keras-message' } },
  kernel_initializer_nope: { run: () => new GRU({ units: 4, kernelInitializer: 'nope' }), expect: { kind: 'keras-message' } },
  kernel_regularizer_nope: { run: () => new GRU({ units: 4, kernelRegularizer: 'nope' }), expect: { kind: 'keras-message' } },
  use_cudnn_invalid: { run: () => new GRU({ units: 4, useCudnn: 'maybe' as never }), expect: { kind: 'keras-message' } },
  use_cudnn_true_numpy: { run: () => call({ units: 4, useCudnn: true }), expect: { kind: 'clear-error', mentions: ['use_cudnn=True was specified'] } },
  reset_after_true_use_bias_false: {
    run: () => {
      const l = new GRU({ units: 4, resetAfter: true, useBias: false });
      l.forwardSync(x);
      return l.getWeights().map((w) => w.shape);
    },
    expect: { kind: 'accepts', check: (r, e) => (jsonEqual(r, e.result) ? undefined : `weight shapes ${JSON.stringify(r)}`) },
  },
  implementation_kwarg: {
    run: () => new GRU({ units: 4, implementation: 1 }),
    expect: { kind: 'accepts', check: (r) => ('implementation' in (r as GRU).getConfig() ? 'implementation is in the config' : undefined) },
  },
  unknown_kwarg: { run: () => new GRU({ units: 4, foo: 1 } as never), expect: { kind: 'keras-message' } },
  input_1d: { run: () => call({ units: 4 }, ones(3)), expect: { kind: 'keras-message' } },
  input_2d: { run: () => call({ units: 4 }, ones(2, 3)), expect: { kind: 'keras-message' } },
  input_4d: { run: () => call({ units: 4 }, ones(2, 5, 3, 1)), expect: { kind: 'keras-message' } },
  feature_change_after_build: {
    run: () => {
      const l = new GRU({ units: 4 });
      l.forwardSync(x);
      return l.forwardSync(ones(2, 5, 4));
    },
    expect: { kind: 'clear-error', mentions: ['expected axis -1 of input shape to have value 3', '(2, 5, 4)'] },
  },
  timesteps_change_after_build: {
    run: () => {
      const l = new GRU({ units: 4 });
      l.forwardSync(x);
      return l.forwardSync(ones(2, 8, 3));
    },
    expect: { kind: 'accepts', check: (r, e) => shapeIs(e.result as number[])(r) },
  },
  batch_change_after_build: {
    run: () => {
      const l = new GRU({ units: 4 });
      l.forwardSync(x);
      return l.forwardSync(ones(3, 5, 3));
    },
    expect: { kind: 'accepts', check: (r, e) => shapeIs(e.result as number[])(r) },
  },
  initial_state_units_mismatch: {
    run: () => call({ units: 4 }, x, { initialState: [ones(2, 5)] }),
    expect: { kind: 'clear-error', mentions: ['initial state', '(2, 4)', '(2, 5)'] },
  },
  initial_state_batch_mismatch: {
    run: () => call({ units: 4 }, x, { initialState: [ones(3, 4)] }),
    expect: { kind: 'clear-error', mentions: ['initial state', '(2, 4)', '(3, 4)'] },
  },
  initial_state_rank3: {
    run: () => call({ units: 4 }, x, { initialState: [ones(2, 1, 4)] }),
    expect: { kind: 'clear-error', mentions: ['initial state', '(2, 1, 4)'] },
  },
  initial_state_batch_1_broadcast: {
    run: () => call({ units: 4 }, x, { initialState: [ones(1, 4)] }),
    expect: { kind: 'accepts', check: (r, e) => shapeIs((e.result as number[][])[0])(r) },
  },
  initial_state_two_tensors: {
    run: () => call({ units: 4 }, x, { initialState: [ones(2, 4), ones(2, 4)] }),
    expect: {
      kind: 'deviation',
      what: 'Keras ignores the extra state tensor; we refuse it (a GRU has one state)',
      check: throwsValueError('initial state tensors'),
    },
  },
  mask_wrong_timesteps: {
    run: () => call({ units: 4 }, x, { mask: ones(2, 6) }),
    expect: {
      kind: 'deviation',
      what: 'Keras ignores the extra mask steps; we refuse a mask that does not match the input',
      check: throwsValueError('`mask` must have shape (2, 5)'),
    },
  },
  mask_wrong_batch: {
    run: () => call({ units: 4 }, x, { mask: ones(3, 5) }),
    expect: { kind: 'clear-error', mentions: ['`mask` must have shape (2, 5)', '(3, 5)'] },
  },
  mask_3d: {
    run: () => call({ units: 4 }, x, { mask: ones(2, 5, 1) }),
    expect: {
      kind: 'deviation',
      what: 'Keras squeezes a (batch, timesteps, 1) mask; we require (batch, timesteps)',
      check: throwsValueError('`mask` must have shape (2, 5)'),
    },
  },
  mask_float_0_1: {
    run: () => {
      const l = new GRU({ units: 4, returnSequences: true });
      const values = [1, 1, 0, 1, 0, 1, 0, 1, 1, 1];
      const a = l.forwardSync(x, { mask: { shape: [2, 5], data: values } }).output.data;
      const b = l.forwardSync(x, { mask: { shape: [2, 5], data: values.map((v) => v === 1) } }).output.data;
      return { shape: [2, 5, 4], data: Array.from(a, (v, i) => v - b[i]) };
    },
    expect: { kind: 'accepts', check: (r, e) => (jsonEqual(r, e.result) ? undefined : 'float 0/1 and boolean masks give different outputs') },
  },
  set_weights_bias_2d_on_reset_before: {
    run: () =>
      setWeightsOn({ units: 4, resetAfter: false }, [
        [3, 12],
        [4, 12],
        [2, 12],
      ]),
    expect: { kind: 'keras-message' },
  },
  set_weights_bias_1d_on_reset_after: { run: () => setWeightsOn({ units: 4 }, [[3, 12], [4, 12], [12]]), expect: { kind: 'keras-message' } },
  set_weights_count: {
    run: () =>
      setWeightsOn({ units: 4 }, [
        [3, 12],
        [4, 12],
      ]),
    expect: { kind: 'keras-message' },
  },
  set_weights_kernel_shape: {
    run: () =>
      setWeightsOn({ units: 4 }, [
        [4, 12],
        [4, 12],
        [2, 12],
      ]),
    expect: { kind: 'keras-message' },
  },
  stateful_batch_change: {
    run: () => {
      const l = new GRU({ units: 4, stateful: true });
      l.forwardSync(x);
      return l.forwardSync(ones(3, 5, 3));
    },
    expect: { kind: 'keras-message' },
  },
  stateful_reset_states_with_values: {
    run: () => {
      const l = new GRU({ units: 4, stateful: true });
      l.forwardSync(x);
      l.resetStates([ones(2, 4)]);
      return l.states;
    },
    expect: {
      kind: 'deviation',
      what: "Keras 3's reset_states() takes no values; gru keeps tf.keras 2's resetStates(states), as Keras 3 does with states[0].assign()",
      check: (t, r) => (t ? `threw ${String(t)}` : jsonEqual((r as { data: Float32Array }[])[0].data.length, 8) ? undefined : 'state not set'),
    },
  },
  stateful_reset_state_with_values: {
    run: () => {
      const l = new GRU({ units: 4, stateful: true });
      l.forwardSync(x);
      l.resetState();
      return l.states;
    },
    expect: {
      kind: 'deviation',
      what: 'resetState() takes no values in JS either (there is no keyword argument to misuse)',
      check: (t) => (t ? `threw ${String(t)}` : undefined),
    },
  },
  stateful_dynamic_batch: {
    run: () => {
      const l = new GRU({ units: 4, stateful: true });
      l.build([null, 5, 3]);
      return l.forwardSync(x);
    },
    expect: {
      kind: 'deviation',
      what: 'without a symbolic Input, a stateful layer fixes its batch size at the first call',
      check: (t, r) => (t ? `threw ${String(t)}` : shapeIs([2, 4])(r)),
    },
  },
  unroll_dynamic_timesteps: { run: () => call({ units: 4, unroll: true }), expect: { kind: 'accepts', check: shapeIs([2, 4]) } },
  reset_states_non_stateful: { run: () => new GRU({ units: 4 }).resetStates(), expect: { kind: 'accepts', check: () => undefined } },
  zero_timesteps: { run: () => call({ units: 4 }, { shape: [2, 0, 3], data: [] }), expect: { kind: 'clear-error', mentions: ['0 timesteps'] } },
  zero_timesteps_unroll: {
    run: () => call({ units: 4, unroll: true }, { shape: [2, 0, 3], data: [] }),
    expect: { kind: 'clear-error', mentions: ['0 timesteps'] },
  },
  zero_batch: {
    run: () => call({ units: 4, returnSequences: true }, { shape: [0, 5, 3], data: [] }),
    expect: { kind: 'accepts', check: (r, e) => shapeIs(e.result as number[])(r) },
  },
  int_input: {
    run: () => call({ units: 4 }, [[[1, 1, 1]], [[1, 1, 1]]]),
    expect: {
      kind: 'accepts',
      check: (r) => ((r as { output: { data: unknown } }).output.data instanceof Float32Array ? shapeIs([2, 4])(r) : 'output is not float32'),
    },
  },
  float64_input_float32_layer: {
    run: () => call({ units: 4 }, { shape: [2, 5, 3], data: Float64Array.from(x.data) }),
    expect: { kind: 'accepts', check: (r) => ((r as { output: { data: unknown } }).output.data instanceof Float32Array ? undefined : 'output is not float32') },
  },
  cell_state_units_mismatch: {
    run: () => new GRUCell({ units: 4 }).call(ones(2, 3), [ones(2, 3)]),
    expect: { kind: 'clear-error', mentions: ['initial state', '(2, 4)', '(2, 3)'] },
  },
  cell_3d_input: {
    run: () => new GRUCell({ units: 4 }).call(ones(2, 5, 4), [ones(2, 4)]),
    expect: { kind: 'clear-error', mentions: ['(batch, features)', '(2, 5, 4)'] },
  },
  cell_bare_state_tensor: { run: () => new GRUCell({ units: 4 }).call(ones(2, 3), ones(2, 4)), expect: { kind: 'accepts', check: () => undefined } },
  from_config_unknown_key: { run: () => GRU.fromConfig({ ...new GRU({ units: 4 }).getConfig(), bogus: 1 }), expect: { kind: 'keras-message' } },
};

/** `new GRU({...}).forwardSync(x, {...})`, to say what a translated entry ran. */
function describeTranslation(t: TranslatedCode): string {
  const ctor = `new ${t.layer}(${JSON.stringify(t.options)})`;
  return t.call ? `${ctor}.forwardSync(x[2, 5, 3]${Object.keys(t.call).length ? `, ${JSON.stringify(t.call)}` : ''})` : ctor;
}

const isShape = (v: unknown): v is number[] => Array.isArray(v) && v.every((d) => typeof d === 'number');

/** Compares what a translated entry returned with errors.json's `result`, where the result says something comparable. */
function checkTranslatedResult(t: TranslatedCode, layer: GRU | GRUCell, result: unknown, want: unknown): string | undefined | 'not compared' {
  if (!t.call) {
    if (want && typeof want === 'object' && !Array.isArray(want)) {
      const cfg = layer.getConfig();
      const keys = Object.keys(want);
      if (keys.length && keys.every((k) => k in cfg)) {
        const bad = keys.find((k) => !jsonEqual(cfg[k], (want as Record<string, unknown>)[k]));
        return bad ? `config '${bad}' is ${JSON.stringify(cfg[bad])}, Keras has ${JSON.stringify((want as Record<string, unknown>)[bad])}` : undefined;
      }
    }
    return 'not compared';
  }
  const r = result as { output: { shape: number[]; data: unknown }; outputs: { shape: number[] }[] };
  if (isShape(want) || (Array.isArray(want) && want.every(isShape))) {
    // The generator records a shape or a list of shapes: of the output, the outputs or the weights.
    const candidates = { output: r.output.shape, outputs: r.outputs.map((o) => o.shape), weights: (layer as GRU).getWeights().map((w) => w.shape) };
    if (Object.values(candidates).some((c) => jsonEqual(c, want))) return undefined;
    return `Keras recorded the shape(s) ${JSON.stringify(want)}; gru's output is ${JSON.stringify(candidates.output)}, outputs ${JSON.stringify(candidates.outputs)}, weights ${JSON.stringify(candidates.weights)}`;
  }
  if (want && typeof want === 'object' && ('shape' in want || 'dtype' in want)) {
    const w = want as { shape?: number[]; dtype?: string };
    if (w.shape && !jsonEqual(r.output.shape, w.shape)) return `output shape [${r.output.shape}], Keras [${w.shape}]`;
    const dtype = r.output.data instanceof Float64Array ? 'float64' : r.output.data instanceof Float32Array ? 'float32' : 'unknown';
    if (w.dtype && dtype !== w.dtype) return `output dtype ${dtype}, Keras ${w.dtype}`;
    return undefined;
  }
  return 'not compared';
}

/**
 * Judges an entry without a hand-written reproduction from its Keras code (see python-code.ts):
 * the exception kind and exact message when Keras raises, acceptance (and the recorded config or
 * output shape, where the result is one) when it does not. Entries whose code needs arrays or is
 * prose are reported unsupported, saying so.
 */
function runTranslatedEntry(entry: ErrorEntryJson): CaseOutcome {
  let t: TranslatedCode;
  try {
    t = translateKerasCode(entry.code);
  } catch (err) {
    if (!(err instanceof Untranslatable)) throw err;
    return {
      status: 'unsupported',
      runnerLimit: true,
      detail: `not judged: @gru/conformance has no JS reproduction of '${entry.name}', and its code \`${entry.code}\` cannot be translated into gru's API (${err.message})`,
    };
  }
  const ran = describeTranslation(t);
  const fail = (detail: string): CaseOutcome => ({ status: 'failed', detail: `${ran}: ${detail}` });
  clearSession();
  let thrown: unknown;
  let layer: GRU | GRUCell | undefined;
  let result: unknown;
  try {
    layer = t.layer === 'GRU' ? new GRU(t.options as never) : new GRUCell(t.options as never);
    result = t.call ? (layer as GRU).forwardSync(x, t.call) : layer;
  } catch (err) {
    thrown = err;
  }
  if (entry.raises) {
    if (!(thrown instanceof GruError)) return fail(thrown ? `threw a non-gru error: ${String(thrown)}` : `did not throw; Keras raises ${entry.exception_type}`);
    if (entry.exception_type && thrown.kerasType !== entry.exception_type) return fail(`threw ${thrown.kerasType}, Keras raises ${entry.exception_type}`);
    if (entry.message_core !== undefined && thrown.message !== entry.message_core) {
      return fail(`message ${JSON.stringify(thrown.message)}, Keras says ${JSON.stringify(entry.message_core)}`);
    }
    return { status: 'passed', detail: `judged from its code as ${ran}` };
  }
  if (thrown) return fail(`threw ${String(thrown)}, Keras accepts this`);
  const problem = checkTranslatedResult(t, layer as GRU | GRUCell, result, entry.result);
  if (problem === 'not compared')
    return {
      status: 'passed',
      detail: `judged from its code as ${ran}: accepted, as in Keras (the recorded result ${JSON.stringify(entry.result)} is not compared)`,
    };
  return problem ? fail(problem) : { status: 'passed', detail: `judged from its code as ${ran}` };
}

/**
 * Checks one errors.json entry: against its hand-written JS reproduction (ERROR_REPRODUCTIONS)
 * when there is one, else by translating its Keras code.
 */
export function runErrorEntry(entry: ErrorEntryJson): CaseOutcome & { deviation?: string } {
  return onReferenceOnly(() => runErrorEntryHere(entry));
}

/**
 * Runs `fn` (synchronous) with only the reference backend registered, so a core-only check's
 * layer calls never select the backend under test (one with priority > 0 would otherwise run
 * them and its bugs be counted against core). The shared registry map is edited in place, not
 * through unregisterBackend, which would dispose the backends; everything is put back, in order.
 */
export function onReferenceOnly<T>(fn: () => T): T {
  const registry = (globalThis as Record<symbol, unknown>)[Symbol.for('@gru/core:backend-registry')];
  if (!(registry instanceof Map)) return fn();
  const saved = [...registry.entries()];
  for (const [name] of saved) if (name !== 'reference') registry.delete(name);
  try {
    return fn();
  } finally {
    registry.clear();
    for (const [name, backend] of saved) registry.set(name, backend);
  }
}

function runErrorEntryHere(entry: ErrorEntryJson): CaseOutcome & { deviation?: string } {
  const repro = ERROR_REPRODUCTIONS[entry.name];
  if (!repro) return runTranslatedEntry(entry);
  let thrown: unknown;
  let result: unknown;
  // Keras produced these in a fresh session, so the first GRU is called 'gru'.
  clearSession();
  try {
    result = repro.run();
  } catch (err) {
    thrown = err;
  }
  const e = repro.expect;
  const fail = (detail: string): CaseOutcome => ({ status: 'failed', detail });
  switch (e.kind) {
    case 'keras-message': {
      if (!entry.raises) return fail('errors.json says Keras accepts this, but the reproduction expects an error');
      if (!(thrown instanceof GruError)) return fail(thrown ? `threw a non-gru error: ${String(thrown)}` : 'did not throw');
      if (thrown.kerasType !== entry.exception_type) return fail(`threw ${thrown.kerasType}, Keras raises ${entry.exception_type}`);
      if (thrown.message !== entry.message_core) return fail(`message ${JSON.stringify(thrown.message)}, Keras says ${JSON.stringify(entry.message_core)}`);
      return { status: 'passed' };
    }
    case 'clear-error': {
      if (!(thrown instanceof GruError)) return fail(thrown ? `threw a non-gru error: ${String(thrown)}` : 'did not throw');
      const missing = e.mentions.filter((m) => !thrown.message.includes(m));
      if (missing.length) return fail(`message ${JSON.stringify(thrown.message)} does not mention ${missing.join(', ')}`);
      if (entry.raises && entry.exception_type && !['ValueError', 'IndexError'].includes(entry.exception_type)) {
        return fail(`Keras raises ${entry.exception_type}`);
      }
      return { status: 'passed' };
    }
    case 'accepts': {
      if (thrown) return fail(`threw ${String(thrown)}, Keras accepts this`);
      const problem = e.check(result, entry);
      return problem ? fail(problem) : { status: 'passed' };
    }
    case 'deviation': {
      const problem = e.check(thrown, result);
      return problem ? fail(problem) : { status: 'passed', deviation: e.what };
    }
  }
}
