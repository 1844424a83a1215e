/**
 * The public types, as an application compiled with `tsc --strict` sees them. The type assertions
 * (`expectTypeOf`, `@ts-expect-error`) are checked by `tsc --noEmit` over this file, which
 * `pnpm test` runs before vitest; the runtime assertions check that the values match the types.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ACTIVATION_NAMES,
  activationDef,
  describeChoice,
  GRU,
  GRU_BACKEND_SPEC_VERSION,
  GRUCell,
  referenceBackend,
  registerBackend,
  resolveActivation,
  unregisterBackend,
  type GruBackend,
  type PreparedGru,
  type ActivationName,
  type CellResult,
  type GruLayerGradients,
  type GruOptions,
  type GruResult,
  type Tensor,
} from '../src/index.js';

const x = { shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)) };

describe('GRU results are typed from the layer options', () => {
  it('returnState: true gives a state that is always there, and [output, state]', () => {
    const gru = new GRU({ units: 5, returnState: true, seed: 1 });
    const result = gru.forwardSync(x);
    expectTypeOf(result.state).toEqualTypeOf<Tensor<Float32Array>>();
    expectTypeOf(result.outputs).toEqualTypeOf<[Tensor<Float32Array>, Tensor<Float32Array>]>();
    // Compiles under --strict: no `?.`, no `!` (TS18048 before).
    expect(result.state.shape).toEqual([2, 5]);
    expect(result.outputs).toHaveLength(2);
  });

  it('without returnState there is no state, and outputs is [output]', async () => {
    const gru = new GRU({ units: 5, seed: 1 });
    const result = await gru.forward(x);
    expectTypeOf(result.state).toEqualTypeOf<undefined>();
    expectTypeOf(result.outputs).toEqualTypeOf<[Tensor<Float32Array>]>();
    // @ts-expect-error a layer without returnState has no state to read
    expect(() => result.state.shape).toThrow(TypeError);
    const falseState = new GRU({ units: 5, returnState: false }).forwardSync(x);
    expectTypeOf(falseState.state).toEqualTypeOf<undefined>();
    expect(falseState.state).toBeUndefined();
  });

  it('float32 layers (the default) give Float32Array data, whose methods compile (TS2349 on the union before)', async () => {
    const gru = new GRU({ units: 3, seed: 2 });
    const { output } = await gru.forward(x, { training: true });
    expectTypeOf(output.data).toEqualTypeOf<Float32Array>();
    const sum = output.data.reduce((s, v) => s + v, 0);
    expect(output.data).toBeInstanceOf(Float32Array);
    expect(Number.isFinite(sum)).toBe(true);
    const grads = await gru.backward({ shape: output.shape, data: new Float32Array(output.data.length).fill(1) });
    expectTypeOf(grads).toEqualTypeOf<GruLayerGradients<Float32Array>>();
    expect(grads.kernel.data).toBeInstanceOf(Float32Array);
    expectTypeOf(gru.getWeights()).toEqualTypeOf<Tensor<Float32Array>[]>();
    expectTypeOf(gru.kernel.data).toEqualTypeOf<Float32Array>();
  });

  it("dtype: 'float64' gives Float64Array data, at run time too", () => {
    const gru = new GRU({ units: 3, dtype: 'float64', returnState: true, seed: 3 });
    const result = gru.forwardSync(x);
    expectTypeOf(result.output.data).toEqualTypeOf<Float64Array>();
    expectTypeOf(result.state.data).toEqualTypeOf<Float64Array>();
    expect(result.output.data).toBeInstanceOf(Float64Array);
    expect(result.state.data).toBeInstanceOf(Float64Array);
    expect(gru.getWeights()[0].data).toBeInstanceOf(Float64Array);
    expect(result.output.data.map((v) => v * 2)).toBeInstanceOf(Float64Array);
  });

  it('options TypeScript cannot see through keep the wide types, and every layer is a GRU', () => {
    const options: GruOptions = { units: 2, returnState: true };
    const gru = new GRU(options);
    const result = gru.forwardSync(x);
    expectTypeOf(result).toEqualTypeOf<GruResult<Float32Array | Float64Array, boolean>>();
    expectTypeOf(result.state).toEqualTypeOf<Tensor<Float32Array | Float64Array> | undefined>();
    // @ts-expect-error the data may be either array type: narrow it first
    result.output.data.reduce((s, v) => s + v, 0);
    expect(result.state?.shape).toEqual([2, 2]);
    const layers: GRU[] = [gru, new GRU({ units: 2, dtype: 'float64' }), new GRU({ units: 2, returnState: false })];
    const results: GruResult[] = layers.map((l) => l.forwardSync(x));
    expect(results.map((r) => r.output.shape)).toEqual([
      [2, 2],
      [2, 2],
      [2, 2],
    ]);
  });

  it('an unknown option or a wrong type is a compile error, as it was before GRU was generic', () => {
    // @ts-expect-error a typo in an option name
    expect(() => new GRU({ units: 2, retrunState: true })).toThrow(/Unrecognized keyword arguments/);
    // @ts-expect-error returnState takes a boolean
    expect(() => new GRU({ units: 2, returnState: 1 })).toThrow(/must be a boolean/);
    // @ts-expect-error a typo in a GRUCell option name
    expect(() => new GRUCell({ units: 2, recurentActivation: 'relu' })).toThrow(/Unrecognized keyword arguments/);
  });
});

describe("what a backend returns must be the layer's dtype, so the types hold", () => {
  /** The reference math, handing back arrays of the other dtype. */
  const otherType = (a: Float32Array | Float64Array) => (a instanceof Float32Array ? Float64Array.from(a) : Float32Array.from(a));
  const wrong: GruBackend = {
    specVersion: GRU_BACKEND_SPEC_VERSION,
    name: 'wrong-array-type',
    priority: -1,
    load: async () => {},
    isLoaded: () => true,
    supports: (spec, call) => referenceBackend.supports(spec, call),
    supportsBackward: () => true,
    prepare: async (spec, weights) => wrap(referenceBackend.prepareSync!(spec, weights)),
    prepareSync: (spec, weights) => wrap(referenceBackend.prepareSync!(spec, weights)),
  };
  function wrap(p: PreparedGru): PreparedGru {
    return {
      spec: p.spec,
      setWeights: (w) => p.setWeights(w),
      dispose: () => p.dispose(),
      forward: async (r) => wrapForward(p.forwardSync!(r)),
      forwardSync: (r) => wrapForward(p.forwardSync!(r)),
      backward: async (saved, r) => {
        const g = p.backwardSync!(saved, r);
        return {
          ...g,
          dx: otherType(g.dx),
          dKernel: otherType(g.dKernel),
          dRecurrentKernel: otherType(g.dRecurrentKernel),
          dBias: g.dBias && otherType(g.dBias),
        };
      },
    };
  }
  const wrapForward = (r: ReturnType<NonNullable<PreparedGru['forwardSync']>>) => ({ ...r, output: otherType(r.output), lastState: otherType(r.lastState) });

  it('outputs and gradients of the wrong array type are refused, naming the backend and the field', async () => {
    registerBackend(wrong);
    try {
      const gru = new GRU({ units: 3, returnState: true, returnSequences: true, backend: 'wrong-array-type', seed: 1 });
      await expect(gru.forward(x, { training: true })).rejects.toThrow(
        "Backend 'wrong-array-type' returned an invalid forward result: `output` must be a Float32Array of 18 values ([batch 2, timesteps 3, units 3]) for a float32 layer; received a Float64Array of 18.",
      );
      expect(() => gru.forwardSync(x)).toThrow(/`output` must be a Float32Array .* received a Float64Array of 18/);
    } finally {
      unregisterBackend('wrong-array-type');
    }
  });

  it("GRUCell.stepResult hands back the cell's dtype, whatever arrays it is given", () => {
    const cell = new GRUCell({ units: 3, dtype: 'float64' });
    cell.build(2);
    const step = cell.stepResult(
      { x: new Float64Array(2), batch: 1, timesteps: 1, goBackwards: false, returnSequences: false },
      new Float32Array(3),
      new Float32Array(3),
    );
    expect(step.output.data).toBeInstanceOf(Float64Array);
    expect(step.states[0].data).toBeInstanceOf(Float64Array);
  });
});

describe('stateful layers', () => {
  it('states is null until the batch size is known: `gru.states?.[0]` compiles, `gru.states[0]` does not', () => {
    const gru = new GRU({ units: 2, stateful: true, seed: 3 });
    expect(gru.states).toBeNull();
    gru.forwardSync([
      [[1], [2]],
      [[3], [4]],
    ]);
    expectTypeOf(gru.states).toEqualTypeOf<Tensor<Float32Array>[] | null>();
    expect(gru.states?.[0].shape).toEqual([2, 2]);
    // @ts-expect-error null before the first call (TS18047): check it, as Keras's layer.states is None then
    expect(gru.states[0].data).toBeInstanceOf(Float32Array);
  });
});

describe('GRUCell results are typed from the cell options', () => {
  it('float32 by default, float64 with dtype, and one state', () => {
    const cell = new GRUCell({ units: 3, seed: 5 });
    const r = cell.call([[1, 2]], [[[0, 0, 0]]]);
    expectTypeOf(r).toEqualTypeOf<CellResult<Float32Array>>();
    expectTypeOf(r.states[0].data).toEqualTypeOf<Float32Array>();
    expect(r.output.data.reduce((s, v) => s + v, 0)).toBeTypeOf('number');
    const cell64 = new GRUCell({ units: 3, dtype: 'float64' });
    const r64 = cell64.call([[1, 2]], [[0, 0, 0]]);
    expectTypeOf(r64.output.data).toEqualTypeOf<Float64Array>();
    expect(r64.output.data).toBeInstanceOf(Float64Array);
    expect(r64.states[0].data).toBeInstanceOf(Float64Array);
  });
});

describe('activation options', () => {
  it('offer the known names, and still take any string (checked at run time)', () => {
    expectTypeOf<'gelu'>().toExtend<NonNullable<GruOptions['activation']>>();
    expectTypeOf<ActivationName>().toExtend<NonNullable<GruOptions['recurrentActivation']>>();
    expectTypeOf<string>().toExtend<NonNullable<GruOptions['activation']>>();
    expectTypeOf(ACTIVATION_NAMES).toEqualTypeOf<readonly ActivationName[]>();
    const name: string = 'not_an_activation';
    expect(() => new GRU({ units: 2, activation: name })).toThrow(/Could not interpret activation function identifier/);
  });

  it('names that only exist on Object.prototype are not activations (activationDef returned Object itself for "constructor")', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(() => activationDef(name), name).toThrow(/Could not interpret activation function identifier/);
      expect(() => resolveActivation(name), name).toThrow(/Could not interpret activation function identifier/);
    }
  });
});

describe('describeChoice', () => {
  it('takes gru.lastChoice as it is, undefined before the first call (TS2345 before)', () => {
    const gru = new GRU({ units: 2 });
    expect(describeChoice(gru.lastChoice)).toBe('no backend chosen yet (the layer has not run a call)');
    gru.forwardSync(x, { backend: 'reference' });
    expect(describeChoice(gru.lastChoice)).toMatch(/^reference/);
  });
});
