import { classifyMask, type ForwardRequest, type GruBackend, type GruCallInfo, type GruSpec, type PreparedGru } from '@gru/core';
import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '../src/index.js';
import { float32Only, planted, unregisterPlanted } from './planted-backend.js';

afterEach(unregisterPlanted);

/**
 * contract:set-weights, fresh-results, inputs-untouched and request-read-once run one call with
 * every optional input supports() accepts. An input it declines must be named in the passing
 * outcome's detail ("not checked: ..."), not dropped silently; and declining one input must not
 * cost the others their check.
 */
const CHECKS = ['contract:set-weights', 'contract:fresh-results', 'contract:inputs-untouched', 'contract:request-read-once'];

async function outcomes(backend: GruBackend) {
  const report = await runConformance(backend, { coreChecks: false, sweep: false, only: CHECKS, expectations: {} });
  expect(report.results.map((r) => r.name)).toEqual(CHECKS);
  return report.results;
}

/** What the forward calls of a check were given: the optional inputs of each request. */
type Seen = { initialState: boolean; mask: string; inputDropout: boolean; recurrentDropout: boolean }[];

function seenOf(r: ForwardRequest): Seen[number] {
  return {
    initialState: r.initialState !== undefined,
    mask: classifyMask(r.mask, r.batch, r.timesteps),
    inputDropout: r.inputDropoutMasks !== undefined,
    recurrentDropout: r.recurrentDropoutMasks !== undefined,
  };
}

/** A float32-only planted backend declining what `declines` names, recording what its forward calls were given. */
function declining(name: string, declines: (spec: GruSpec, call: GruCallInfo) => string | undefined): { backend: GruBackend; seen: Seen } {
  const seen: Seen = [];
  const backend = float32Only(planted(name, {}), {
    declines,
    layer: (p: PreparedGru) => ({
      forward: (r) => {
        seen.push(seenOf(r));
        return p.forward(r);
      },
    }),
  });
  return { backend, seen };
}

const dropout = (_: GruSpec, call: GruCallInfo) => (call.inputDropoutPerGate || call.recurrentDropout ? 'REASON-DROPOUT' : undefined);

describe('the contract checks name the optional inputs supports() declines', () => {
  it('a backend that takes every input: no detail, and the call has them all (control)', async () => {
    const { backend, seen } = declining('planted-inputs-all', () => undefined);
    for (const r of await outcomes(backend)) expect(r, r.name).toMatchObject({ status: 'passed', detail: undefined });
    expect(seen).toContainEqual({ initialState: true, mask: 'any', inputDropout: true, recurrentDropout: true });
  });

  it('dropout declined: both masks named, with the reason', async () => {
    const { backend, seen } = declining('planted-inputs-no-dropout', dropout);
    for (const r of await outcomes(backend)) {
      expect(r, r.name).toMatchObject({
        status: 'passed',
        detail: 'not checked: inputDropoutMasks (supports(): REASON-DROPOUT); recurrentDropoutMasks (supports(): REASON-DROPOUT)',
      });
    }
    expect(seen).toContainEqual({ initialState: true, mask: 'any', inputDropout: false, recurrentDropout: false });
  });

  it('only right-padded masks (cuDNN-like): a right-padded mask runs, mask=any is named', async () => {
    const { backend, seen } = declining('planted-inputs-right-padded', (spec, call) => (call.mask === 'any' ? 'REASON-ANY' : dropout(spec, call)));
    for (const r of await outcomes(backend)) {
      expect(r, r.name).toMatchObject({
        status: 'passed',
        detail:
          'not checked: mask (any) (supports(): REASON-ANY); inputDropoutMasks (supports(): REASON-DROPOUT); recurrentDropoutMasks (supports(): REASON-DROPOUT)',
      });
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.initialState && s.mask === 'right-padded')).toBe(true);
  });

  it('initialState declined: named, and the mask and dropout still run', async () => {
    const { backend, seen } = declining('planted-inputs-no-state', (_, call) => (call.initialState ? 'REASON-STATE' : undefined));
    for (const r of await outcomes(backend))
      expect(r, r.name).toMatchObject({ status: 'passed', detail: 'not checked: initialState (supports(): REASON-STATE)' });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => !s.initialState && s.mask === 'any' && s.inputDropout && s.recurrentDropout)).toBe(true);
  });

  it('a mask declined only beside initialState: named "together with initialState"', async () => {
    const pair = (_: GruSpec, call: GruCallInfo) => (call.initialState && call.mask !== 'none' ? 'REASON-PAIR' : undefined);
    const { backend } = declining('planted-inputs-pair', pair);
    for (const r of await outcomes(backend)) {
      expect(r, r.name).toMatchObject({ status: 'passed', detail: 'not checked: mask together with initialState (supports(): REASON-PAIR)' });
    }
  });

  it('masks declined everywhere: "mask", with the reason for the plainest kind', async () => {
    const { backend } = declining('planted-inputs-no-mask', (_, call) => (call.mask !== 'none' ? `REASON-MASK-${call.mask}` : undefined));
    for (const r of await outcomes(backend))
      expect(r, r.name).toMatchObject({ status: 'passed', detail: 'not checked: mask (supports(): REASON-MASK-right-padded)' });
  });

  it('float32 declined: float64 runs, and float32 is named', async () => {
    const inner = planted('planted-inputs-f64', {});
    const backend: GruBackend = { ...inner, supports: (spec, call) => (spec.dtype === 'float32' ? 'REASON-F32' : inner.supports(spec, call)) };
    for (const r of await outcomes(backend)) expect(r, r.name).toMatchObject({ status: 'passed', detail: 'not checked: float32 (supports(): REASON-F32)' });
  });

  it('request-read-once: the declined inputs, then backward where the backend does not train', async () => {
    const { backend } = declining('planted-inputs-no-training', dropout);
    const results = await outcomes({ ...backend, supportsBackward: () => 'REASON-NO-TRAINING' });
    expect(results.find((r) => r.name === 'contract:request-read-once')).toMatchObject({
      status: 'passed',
      detail:
        'not checked: inputDropoutMasks (supports(): REASON-DROPOUT); recurrentDropoutMasks (supports(): REASON-DROPOUT); backward (supportsBackward(): REASON-NO-TRAINING)',
    });
  });

  it('a bug is still found in the call a backend takes (no dropout): inputs-untouched names the write', async () => {
    const writes = float32Only(planted('planted-inputs-writes', { writeInput: true }), { declines: dropout });
    const result = (await outcomes(writes)).find((r) => r.name === 'contract:inputs-untouched');
    expect(result?.status).toBe('failed');
    expect(result?.detail).toMatch(
      /^forward wrote into the caller's request: x\[0, 0, 0\] .*\(case: B=5 T=9 D=6 H=19 initialState=true mask=any dtype=float32 seed=9\)$/,
    );
  });

  it('request-read-once: a right-padded-only backend that reads the request twice fails (the bigger call has a right-padded mask too)', async () => {
    // Checks the first reading, runs a second: which it refuses, naming the mask, where that mask is not right-padded.
    const twice = float32Only(planted('planted-inputs-right-padded-twice', {}), {
      declines: (spec, call) => (call.mask === 'any' ? 'REASON-ANY' : dropout(spec, call)),
      layer: (p: PreparedGru) => ({
        forward: (r) => {
          // The first reading (checked, here by the planted reference), then a second one it runs.
          p.forwardSync?.({ ...r });
          const again = { ...r };
          if (classifyMask(again.mask, again.batch, again.timesteps) === 'any') throw new RangeError('planted: the mask is not right-padded');
          return p.forward(again);
        },
      }),
    });
    const result = (await outcomes(twice)).find((r) => r.name === 'contract:request-read-once');
    expect(result?.status).toBe('failed');
    expect(result?.detail).toMatch(/^forward with getters \(every field\) answering a bigger batch from their second read: .*mask=right-padded/);
  });

  it('a backend that declines every plain call is unsupported, with the reasons', async () => {
    const inner = planted('planted-inputs-none', {});
    const backend: GruBackend = { ...inner, supports: () => 'REASON-NONE' };
    for (const r of await outcomes(backend)) {
      expect(r, r.name).toMatchObject({ status: 'unsupported' });
      expect(r.detail).toMatch(/^it declines every call tried: REASON-NONE/);
    }
  });
});
