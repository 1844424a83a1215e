import { describe, expect, it } from 'vitest';
import { loadAddon } from '../src/native.js';

/**
 * The addon's argument checks, called through its validate* entry points: the same C++
 * functions the GPU path runs before touching memory. Bad input must be a JS error naming the
 * argument, the expected and the received value, never a crash.
 */

const addon = loadAddon();
const dims = { inputDim: 3, units: 2, dtype: 'float32', precision: 'fp32' };
const f32 = (n: number) => new Float32Array(n);
const good = () => ({
  batch: 2,
  timesteps: 4,
  seqLengths: Int32Array.from([4, 1]),
  x: f32(2 * 4 * 3),
  hx: f32(4),
  y: f32(2 * 4 * 2),
  hy: f32(4),
  training: false,
});

describe('native argument checks', () => {
  it('the addon builds and loads without CUDA, and accepts well-formed arguments', () => {
    expect(addon.interfaceVersion).toBe(1);
    expect(() => addon.validateLayerDims(dims)).not.toThrow();
    expect(() => addon.validateForwardArgs(dims, good())).not.toThrow();
    expect(() => addon.validateForwardArgs(dims, { ...good(), hx: null, y: null })).not.toThrow();
    expect(() =>
      addon.validateForwardArgs(
        { ...dims, dtype: 'float64' },
        {
          ...good(),
          x: new Float64Array(24),
          hx: new Float64Array(4),
          y: new Float64Array(16),
          hy: new Float64Array(4),
        },
      ),
    ).not.toThrow();
  });

  const layerCases: [string, unknown, RegExp, ErrorConstructor][] = [
    ['not an object', 5, /The layer dimensions must be an object; received the number 5/, TypeError],
    ['units missing', { inputDim: 3, dtype: 'float32' }, /`units` must be a positive integer; received undefined/, TypeError],
    ['units zero', { ...dims, units: 0 }, /`units` must be an integer from 1 to 2147483647; received the number 0/, RangeError],
    ['units fractional', { ...dims, units: 2.5 }, /`units` must be an integer .* received the number 2.5/, RangeError],
    ['inputDim too big', { ...dims, inputDim: 2 ** 31 }, /`inputDim` must be an integer from 1 to 2147483647/, RangeError],
    ['weights too large', { ...dims, inputDim: 2 ** 30, units: 2 ** 30 }, /more than 2\^40 elements/, RangeError],
    ['unknown dtype', { ...dims, dtype: 'float16' }, /`dtype` must be 'float32' or 'float64'; received 'float16'/, RangeError],
    ['unknown precision', { ...dims, precision: 'bf16' }, /`precision` must be 'fp32', 'tf32' or 'fp16'; received 'bf16'/, RangeError],
    ['fp16 on float64', { ...dims, dtype: 'float64', precision: 'fp16' }, /`precision` 'fp16' needs dtype 'float32'/, RangeError],
  ];
  for (const [name, value, message, type] of layerCases) {
    it(`layer dimensions: ${name}`, () => {
      expect(() => addon.validateLayerDims(value)).toThrow(type);
      expect(() => addon.validateLayerDims(value)).toThrow(message);
    });
  }

  const forwardCases: [string, Record<string, unknown>, RegExp, ErrorConstructor][] = [
    ['x of the wrong length', { x: f32(23) }, /forward: `x` must have batch\*timesteps\*inputDim = 24 elements; received Float32Array\(23\)/, RangeError],
    [
      'x of the wrong type',
      { x: new Float64Array(24) },
      /`x` must be a Float32Array of batch\*timesteps\*inputDim = 24 elements; received Float64Array\(24\)/,
      TypeError,
    ],
    ['x a plain array', { x: [1, 2, 3] }, /`x` must be a Float32Array .* received Array\(3\)/, TypeError],
    ['x missing', { x: undefined }, /`x` must be a Float32Array .* received undefined/, TypeError],
    ['hx of the wrong length', { hx: f32(3) }, /`hx` must have batch\*units = 4 elements; received Float32Array\(3\)/, RangeError],
    ['hx of the wrong type', { hx: 'zeros' }, /`hx` must be a Float32Array or null .* received the string 'zeros'/, TypeError],
    ['y of the wrong length', { y: f32(15) }, /`y` must have batch\*timesteps\*units = 16 elements/, RangeError],
    ['hy null', { hy: null }, /`hy` must be a Float32Array of batch\*units = 4 elements; received null/, TypeError],
    ['batch zero', { batch: 0 }, /forward: `batch` must be an integer from 1 to 2147483647; received the number 0/, RangeError],
    ['timesteps negative', { timesteps: -1 }, /`timesteps` must be an integer .* received the number -1/, RangeError],
    ['timesteps NaN', { timesteps: Number.NaN }, /`timesteps` must be an integer/, RangeError],
    ['batch a string', { batch: '2' }, /`batch` must be a positive integer; received the string '2'/, TypeError],
    // A long string is cut (at a character boundary) rather than copied whole into the message.
    ['batch a long string', { batch: `${'x'.repeat(59)}é${'y'.repeat(200)}` }, /; received the string 'x{59}\.\.\.'\.$/, TypeError],
    [
      'seqLengths the wrong type',
      { seqLengths: Float32Array.from([4, 1]) },
      /`seqLengths` must be an Int32Array of batch = 2 elements; received Float32Array\(2\)/,
      TypeError,
    ],
    ['seqLengths the wrong length', { seqLengths: Int32Array.from([4]) }, /`seqLengths` must have batch = 2 elements; received Int32Array\(1\)/, RangeError],
    ['a zero sequence length', { seqLengths: Int32Array.from([4, 0]) }, /`seqLengths\[1\]` must be from 1 to timesteps = 4; received 0/, RangeError],
    ['a length past timesteps', { seqLengths: Int32Array.from([5, 1]) }, /`seqLengths\[0\]` must be from 1 to timesteps = 4; received 5/, RangeError],
    ['training not a boolean', { training: 1 }, /`training` must be a boolean; received the number 1/, TypeError],
    ['a huge batch', { batch: 2 ** 31 - 1, timesteps: 2 ** 31 - 1 }, /more than 2\^40 elements/, RangeError],
    [
      'a state too large for cuDNN',
      { batch: 2 ** 30, timesteps: 1 },
      /batch\*units must be at most 2147483647 for cuDNN's state descriptor; received 1073741824\*2 = 2147483648/,
      RangeError,
    ],
  ];
  for (const [name, patch, message, type] of forwardCases) {
    it(`forward: ${name}`, () => {
      const args = { ...good(), ...patch };
      expect(() => addon.validateForwardArgs(dims, args)).toThrow(type);
      expect(() => addon.validateForwardArgs(dims, args)).toThrow(message);
    });
  }

  it('forward: arguments that are not an object', () => {
    expect(() => addon.validateForwardArgs(dims, null)).toThrow(/The forward arguments must be an object; received null/);
    expect(() => addon.validateForwardArgs(dims, f32(3))).toThrow(/must be an object; received Float32Array\(3\)/);
  });

  it('backward: every gradient buffer is checked against the saved pass and the layer', () => {
    const packed = 3 * 2 * 3 + 3 * 2 * 2 + 6 * 2;
    const ok = { dy: f32(16), dhy: f32(4), dx: f32(24), dhx: f32(4), dw: f32(packed) };
    expect(() => addon.validateBackwardArgs(dims, 2, 4, ok)).not.toThrow();
    expect(() => addon.validateBackwardArgs(dims, 2, 4, { ...ok, dy: f32(15) })).toThrow(
      /backward: `dy` must have batch\*timesteps\*units = 16 elements; received Float32Array\(15\)/,
    );
    expect(() => addon.validateBackwardArgs(dims, 2, 4, { ...ok, dx: new Float64Array(24) })).toThrow(/`dx` must be a Float32Array/);
    expect(() => addon.validateBackwardArgs(dims, 2, 4, { ...ok, dw: f32(packed - 1) })).toThrow(
      /`dw` must have 3\*units\*inputDim \+ 3\*units\*units \+ 6\*units = 42 elements/,
    );
    expect(() => addon.validateBackwardArgs(dims, 2, 4, { ...ok, dhx: undefined })).toThrow(
      /`dhx` must be a Float32Array of batch\*units = 4 elements; received undefined/,
    );
    expect(() => addon.validateBackwardArgs(dims, 0, 4, ok)).toThrow(/backward: `batch` must be an integer from 1/);
  });

  it('a getter that detaches an array checked before it ran: refused, not read after it is freed', () => {
    // Every property is read before any array is checked, so the array is seen detached.
    const args: Record<string, unknown> = good();
    Object.defineProperty(args, 'training', {
      get() {
        const x = args.x as Float32Array<ArrayBuffer>;
        structuredClone(x.buffer, { transfer: [x.buffer] });
        return false;
      },
    });
    expect(() => addon.validateForwardArgs(dims, args)).toThrow(/forward: `x` must have batch\*timesteps\*inputDim = 24 elements/);
    const packed = 3 * 2 * 3 + 3 * 2 * 2 + 6 * 2;
    const grads: Record<string, unknown> = { dy: f32(16), dhy: f32(4), dx: f32(24), dhx: f32(4) };
    Object.defineProperty(grads, 'dw', {
      get() {
        const dy = grads.dy as Float32Array<ArrayBuffer>;
        structuredClone(dy.buffer, { transfer: [dy.buffer] });
        return f32(packed);
      },
    });
    expect(() => addon.validateBackwardArgs(dims, 2, 4, grads)).toThrow(/backward: `dy` must have batch\*timesteps\*units = 16 elements/);
  });

  it('weights: the packed buffer must match the layer', () => {
    expect(() => addon.validateWeights(dims, f32(42))).not.toThrow();
    expect(() => addon.validateWeights(dims, f32(41))).toThrow(
      /setWeights: `weights` must have 3\*units\*inputDim \+ 3\*units\*units \+ 6\*units = 42 elements; received Float32Array\(41\)/,
    );
    expect(() => addon.validateWeights({ ...dims, dtype: 'float64' }, f32(42))).toThrow(/must be a Float64Array/);
  });

  it('accepts views into larger buffers (subarrays)', () => {
    const big = f32(100);
    expect(() => addon.validateForwardArgs(dims, { ...good(), x: big.subarray(10, 34) })).not.toThrow();
  });

  it('openRuntime checks its options before searching', () => {
    expect(() => addon.openRuntime(undefined as never)).toThrow(/openRuntime expects \{driver, cudnn, cublasLtDirs, device\}/);
    expect(() => addon.openRuntime({ driver: [{ path: 1 }], cudnn: [], cublasLtDirs: [], device: 0 } as never)).toThrow(
      /`driver`\[0\] must be an object with string `path` and `source`/,
    );
    expect(() => addon.openRuntime({ driver: [], cudnn: [], cublasLtDirs: [3], device: 0 } as never)).toThrow(/`cublasLtDirs`\[0\] must be a string/);
    expect(() => addon.openRuntime({ driver: [], cudnn: [], cublasLtDirs: [], device: -1 })).toThrow(/`device` must be an integer from 0 to 1024; received -1/);
  });

  it('an empty search reports both libraries missing, without throwing', async () => {
    const r = await addon.openRuntime({ driver: [], cudnn: [], cublasLtDirs: [], device: 0 });
    expect(r.ok).toBe(false);
    expect(r.runtime).toBeUndefined();
    expect(r.problems.join('\n')).toMatch(/libcuda\.so\.1 was not found[\s\S]*libcudnn\.so\.9\) was not found/);
  });

  it('the wrapped classes cannot be constructed from JavaScript', () => {
    const mod = addon as unknown as Record<string, new (...a: unknown[]) => unknown>;
    expect(() => new mod.CudnnLayer()).toThrow(/cannot be constructed directly; it is made by CudnnRuntime.createLayer\(\)/);
    expect(() => new mod.CudnnRuntime({})).toThrow(/made by openRuntime\(\)/);
    expect(() => new mod.CudnnSaved(1, 2)).toThrow(/made by CudnnLayer.forward\(\) in training mode/);
  });
});

describe('fp16 mode: float -> half -> float on the host', () => {
  const roundTrip = (v: number[]) => [...addon.halfRoundTrip(Float32Array.from(v))];

  it('keeps values representable in half exactly', () => {
    expect(roundTrip([0, -0, 1, -2, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 1.5, 1024 + 1])).toEqual([
      0,
      -0,
      1,
      -2,
      0.5,
      65504,
      -65504,
      2 ** -14,
      2 ** -24,
      1.5,
      1025,
    ]);
  });

  it('rounds to nearest, ties to even', () => {
    // Between 1 and 1 + 2^-10 the tie 1 + 2^-11 goes to 1 (even); 1 + 3*2^-11 goes to 1 + 2^-9.
    expect(roundTrip([1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20])).toEqual([1, 1 + 2 ** -9, 1 + 2 ** -10]);
    // Subnormals: units of 2^-24, ties to even.
    expect(roundTrip([2 ** -25, 3 * 2 ** -25, 2 ** -26])).toEqual([0, 2 ** -23, 0]);
  });

  it('overflows to infinity past 65519 and keeps infinities and NaN', () => {
    const out = roundTrip([65519, 65520, 1e6, -1e6, Infinity, -Infinity, NaN]);
    expect(out.slice(0, 6)).toEqual([65504, Infinity, Infinity, -Infinity, Infinity, -Infinity]);
    expect(Number.isNaN(out[6])).toBe(true);
  });

  it('has relative error at most 2^-11 across the normal range', () => {
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const v = Math.fround(Math.exp((i / 20000) * 20.6 - 9.6) * (i % 2 ? 1 : -1));
      const back = roundTrip([v])[0];
      worst = Math.max(worst, Math.abs(back - v) / Math.abs(v));
    }
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    expect(worst).toBeGreaterThan(2 ** -12);
  });

  it('rejects anything but a Float32Array', () => {
    expect(() => addon.halfRoundTrip(new Float64Array(2) as never)).toThrow(/halfRoundTrip expects a Float32Array/);
  });
});
