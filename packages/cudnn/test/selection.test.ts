import { GRU, cudnnEligibility, listBackends, plainCallInfo, type GruCallInfo, type GruSpec } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';

/**
 * supports() follows Keras's rules through core's cudnnEligibility, and on a machine without a
 * GPU (CI) the registered backend fails to load with the reason, which selection reports.
 */

const SPEC: GruSpec = { units: 4, inputDim: 3, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const CALL: GruCallInfo = plainCallInfo(2, 5);

describe("supports(): Keras's cuDNN rules", () => {
  it('accepts what Keras runs on cuDNN: right-padded masks, goBackwards, initial state, sequences, float64, training with input dropout', () => {
    expect(backend.supports(SPEC, CALL)).toBe(true);
    expect(backend.supports(SPEC, { ...CALL, mask: 'right-padded', goBackwards: true, initialState: true, returnSequences: true })).toBe(true);
    expect(backend.supports({ ...SPEC, dtype: 'float64' }, { ...CALL, training: true, backward: true })).toBe(true);
    expect(backend.supportsBackward?.(SPEC)).toBe(true);
  });

  const rules: [string, Partial<GruSpec>, Partial<GruCallInfo>][] = [
    ['activation', { activation: 'relu' }, {}],
    ['recurrentActivation', { recurrentActivation: 'hard_sigmoid' }, {}],
    ['Keras 2 hard sigmoid', { recurrentActivation: 'keras2_hard_sigmoid' }, {}],
    ['recurrentDropout (even in inference)', {}, { recurrentDropoutRate: 0.25 }],
    ['unroll', {}, { unroll: true }],
    ['useBias', { useBias: false }, {}],
    ['resetAfter', { resetAfter: false }, {}],
    ['mask with holes', {}, { mask: 'any' }],
  ];
  for (const [rule, spec, call] of rules) {
    it(`declines ${rule} with core's reason`, () => {
      const want = cudnnEligibility({ ...SPEC, ...spec }, { ...CALL, ...call });
      expect(typeof want).toBe('string');
      expect(backend.supports({ ...SPEC, ...spec }, { ...CALL, ...call })).toBe(want);
    });
  }

  it('declines per-gate input dropout masks (implementation 1 in training), which cuDNN cannot take', () => {
    expect(backend.supports(SPEC, { ...CALL, training: true, inputDropoutPerGate: true })).toMatch(
      /three per-gate input dropout masks .* cannot be given to cuDNN/,
    );
  });

  it('supportsBackward() applies the layer-level rules', () => {
    expect(backend.supportsBackward?.({ ...SPEC, resetAfter: false })).toBe('resetAfter is false (cuDNN applies the reset gate after the matmul)');
    expect(backend.supportsBackward?.({ ...SPEC, activation: 'gelu' })).toContain("activation 'gelu'");
  });

  it('is registered on import as a cuDNN backend ahead of the reference', () => {
    const names = listBackends().map((b) => b.name);
    expect(names.indexOf('cudnn')).toBeLessThan(names.indexOf('reference'));
    expect(backend.cudnn).toBe(true);
    expect(backend.isLoaded()).toBe(false);
  });
});

const x = { shape: [2, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i)) };

// Core reports a remembered load failure ahead of supports(), so Keras's configuration reasons
// are checked before anything in this file has tried to load the backend.
describe('useCudnn true before any load attempt', () => {
  it("on an ineligible layer it throws Keras's message with the rule the layer breaks", async () => {
    const layer = new GRU({ units: 4, useCudnn: true, resetAfter: false });
    await expect(layer.forward(x)).rejects.toThrow(
      /use_cudnn=True was specified, but cuDNN is not supported .*\(cudnn: resetAfter is false \(cuDNN applies the reset gate after the matmul\)/,
    );
    const masked = new GRU({ units: 4, useCudnn: true });
    await expect(
      masked.forward(x, {
        mask: [
          [1, 0, 1],
          [1, 1, 1],
        ],
      }),
    ).rejects.toThrow(/cudnn: the mask is not strictly right-padded/);
  });

  it('nothing above tried to load the backend', () => {
    expect(backend.loadError()).toBeUndefined();
  });
});

describe('selection on a machine without a GPU', () => {
  it("useCudnn 'auto': the call falls back and names cudnn's load failure (driver and cuDNN missing, with the places looked at)", async () => {
    const layer = new GRU({ units: 4 });
    const result = await layer.forward(x);
    expect(result.backend).toBe('reference');
    const skipped = result.skipped.find((s) => s.name === 'cudnn');
    expect(skipped?.reason).toMatch(/^failed to load: cuDNN backend unavailable: /);
    expect(skipped?.reason).toContain('libcuda.so.1');
    expect(skipped?.reason).toContain('libcudnn.so.9');
    expect(skipped?.reason).toContain('Looked for');
    expect(backend.loadError()).toBe(skipped?.reason.replace(/^failed to load: /, ''));
  });

  it('the synchronous path skips it: GPU calls are async only', () => {
    const result = new GRU({ units: 4 }).forwardSync(x);
    expect(result.backend).toBe('reference');
    expect(result.skipped.find((s) => s.name === 'cudnn')?.reason).toBe('it has no synchronous path (use the async forward())');
  });

  it("useCudnn true on an eligible layer throws Keras's message with the load failure", async () => {
    const layer = new GRU({ units: 4, useCudnn: true });
    await expect(layer.forward(x)).rejects.toThrow(
      /use_cudnn=True was specified, but cuDNN is not supported .*cudnn: failed to load: cuDNN backend unavailable/,
    );
  });

  it('useCudnn false passes over it without trying to load it', async () => {
    const result = await new GRU({ units: 4, useCudnn: false }).forward(x);
    expect(result.skipped.find((s) => s.name === 'cudnn')?.reason).toBe('useCudnn is false');
  });

  it('asking for it by name rejects with the load failure', async () => {
    await expect(new GRU({ units: 4, backend: 'cudnn' }).forward(x)).rejects.toThrow(
      /Backend 'cudnn' cannot run this call: failed to load: cuDNN backend unavailable/,
    );
  });

  it('load() itself rejects with the same clear reason, and memoryInUse() is 0', async () => {
    await expect(backend.load()).rejects.toThrow(/^cuDNN backend unavailable: the NVIDIA driver library libcuda\.so\.1 was not found/);
    expect(backend.memoryInUse?.()).toBe(0);
    expect(backend.deviceInfo()).toBeUndefined();
  });
});
