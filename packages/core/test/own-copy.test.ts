import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { copyFloat32, copyFloat64, copyMask, asFloats, referenceBackend, typedArrayLength, type GruSpec } from '../src/index.js';

// Genuine typed arrays (they pass core's checks: honest `length`) whose slice(), subarray() and
// from() would hand back other values: a copy must hold exactly the values that were checked.
class Species32 extends Float32Array {
  // A constructor: a new array of `length` (+5 for slice) filled with 100, whatever buffer subarray() gives it.
  static get [Symbol.species]() {
    return class extends Float32Array {
      constructor(...args: [number] | [ArrayBuffer, number, number]) {
        super(args.length === 1 ? args[0] + 5 : args[2]);
        this.fill(100);
      }
    };
  }
}
// Any copy through slice() throws: one forward with keepForBackward would answer otherwise than one without.
class NoSpecies32 extends Float32Array {
  static get [Symbol.species](): Float32ArrayConstructor {
    throw new Error('@@species read');
  }
}
class Iter64 extends Float64Array {}
Object.defineProperty(Iter64.prototype, Symbol.iterator, {
  *value() {
    for (let i = 0; i < 50; i++) yield 9;
  },
});
const other = vm.runInNewContext('({ F32: Float32Array, F64: Float64Array, U8: Uint8Array })') as {
  F32: Float32ArrayConstructor;
  F64: Float64ArrayConstructor;
  U8: Uint8ArrayConstructor;
};

describe('engine copies of checked arrays', () => {
  it('copy the held values whatever @@species or @@iterator say', () => {
    const s = Species32.from([1, 2, 3]);
    expect(Array.from(s.subarray(0, 3))).toEqual([100, 100, 100]); // what a subarray() copy would have used
    expect(s.slice().length).toBe(8);
    expect(Array.from(copyFloat32(s))).toEqual([1, 2, 3]);
    expect(copyFloat32(s)).toBeInstanceOf(Float32Array);
    expect(Object.getPrototypeOf(copyFloat32(s))).toBe(Float32Array.prototype);
    const it64 = new Iter64([0.5, 1.5]);
    expect(Float64Array.from(it64).length).toBe(50);
    expect(Array.from(copyFloat64(it64))).toEqual([0.5, 1.5]);
    expect(Array.from(copyFloat32(it64))).toEqual([0.5, 1.5]);
  });

  it('copy arrays of another realm into this realm', () => {
    const x = other.F64.from([1.25, -2]);
    const c = copyFloat32(x);
    expect(c).toBeInstanceOf(Float32Array);
    expect(Array.from(c)).toEqual([1.25, -2]);
    const m = copyMask(other.U8.from([1, 0, 1]));
    expect(m).toBeInstanceOf(Uint8Array);
    expect(Array.from(m)).toEqual([1, 0, 1]);
  });

  it('asFloats keeps a plain array of the dtype and copies anything else', () => {
    const plain = new Float32Array([1, 2]);
    expect(asFloats(plain, 'float32')).toBe(plain);
    const foreign = other.F32.from([1, 2]);
    expect(asFloats(foreign, 'float32')).not.toBe(foreign);
    expect(asFloats(foreign, 'float32')).toBeInstanceOf(Float32Array);
    const sub = Species32.from([4]);
    expect(asFloats(sub, 'float32')).not.toBe(sub);
    expect(Array.from(asFloats(sub, 'float32'))).toEqual([4]);
  });

  it('typedArrayLength is the engine count, not an overridden `length`', () => {
    class Liar extends Float32Array {
      override get length() {
        return 99;
      }
    }
    const a = new Liar(3);
    expect(a.length).toBe(99);
    expect(typedArrayLength(a)).toBe(3);
  });
});

describe('the reference backend keeps (for backward) the values it checked', () => {
  it('a subclass x whose @@species throws trains like the plain array', () => {
    const spec: GruSpec = { units: 2, inputDim: 2, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
    const weights = {
      kernel: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) / 2),
      recurrentKernel: Float32Array.from({ length: 12 }, (_, i) => Math.cos(i) / 2),
      bias: Float32Array.from({ length: 12 }, (_, i) => i / 20),
    };
    const values = [0.1, -0.2, 0.3, 0.4];
    const p = referenceBackend.prepareSync!(spec, weights);
    const grads = (x: Float32Array) => {
      const r = p.forwardSync!({ x, batch: 1, timesteps: 2, goBackwards: false, returnSequences: false, keepForBackward: true });
      return p.backwardSync!(r.saved, { dOutput: new Float32Array([1, 1]) });
    };
    const want = grads(Float32Array.from(values));
    const got = grads(NoSpecies32.from(values));
    expect(Array.from(got.dKernel)).toEqual(Array.from(want.dKernel));
    expect(Array.from(got.dx as Float32Array)).toEqual(Array.from(want.dx as Float32Array));
  });
});
