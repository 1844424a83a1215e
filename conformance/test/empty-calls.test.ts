import {
  GruError,
  UnsupportedCallError,
  type ForwardRequest,
  type ForwardResult,
  type GruBackend,
  type GruCallInfo,
  type GruGradients,
  type GruSpec,
} from '@gru/core';
import { afterEach, describe, expect, it } from 'vitest';
import { runConformance } from '../src/index.js';
import { checkEmptyCalls } from '../src/testing/index.js';
import { float32Only, planted, unregisterPlanted, type Bugs } from './planted-backend.js';

afterEach(unregisterPlanted);

const CHECK = 'contract:empty-calls';

async function emptyCallsOutcome(bugs: Bugs, name: string) {
  const report = await runConformance(planted(name, bugs), { coreChecks: false, sweep: false, only: [CHECK], expectations: {} });
  const result = report.results.find((r) => r.name === CHECK);
  if (!result) throw new Error(`${CHECK} did not run`);
  return result;
}

/** A state that should have passed through unchanged answered as zeros. */
const zeros = (a: Float32Array | Float64Array) => new (a.constructor as Float32ArrayConstructor)(a.length);

describe('contract:empty-calls holds every backend to one answer for batch 0 and timesteps 0', () => {
  it('passes a backend that answers them as the reference does (control)', async () => {
    const result = await emptyCallsOutcome({}, 'planted-empty-ok');
    expect(result.status).toBe('passed');
  });

  it('fails a backend that refuses timesteps 0 (as wasm did), naming the case', async () => {
    const refuse = (r: ForwardResult, req: ForwardRequest) => {
      if (req.timesteps === 0) throw new GruError('ValueError', 'planted: `timesteps` must be a positive integer; received number 0.');
      return r;
    };
    const result = await emptyCallsOutcome({ forward: refuse }, 'planted-empty-refuses');
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^forward threw GruError\(ValueError\): planted: `timesteps` must be a positive integer; received number 0\. \(case: B=3 T=0 D=3 H=5 /,
    );
  });

  it('fails a backend whose state with no steps is zeros instead of the initial state', async () => {
    const zeroState = (r: ForwardResult, req: ForwardRequest) => (req.timesteps === 0 ? { output: zeros(r.output), lastState: zeros(r.lastState) } : r);
    const result = await emptyCallsOutcome({ forwardSync: zeroState }, 'planted-empty-zero-state');
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^forwardSync: output at \[\d+, \d+\] of shape \[3, 5\]: .*\(case: B=3 T=0 D=3 H=5 returnSequences=false initialState=true/);
  });

  it('fails a backend whose gradients drop dLastState on an empty call', async () => {
    const dropState = (g: GruGradients) => ({ ...g, dInitialState: zeros(g.dInitialState) });
    const result = await emptyCallsOutcome({ backward: dropState }, 'planted-empty-grad');
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^backward \(with dLastState\): dInitialState .*\(case: B=3 T=0 D=3 H=5 returnSequences=true/);
  });

  it('fails a backend that refuses an empty call at call time after its supports() accepted it (the layer would not fall back)', async () => {
    const refuse = (r: ForwardResult, req: ForwardRequest) => {
      if (req.timesteps === 0) throw new UnsupportedCallError('planted-empty-unsupported', 'planted: no empty calls');
      return r;
    };
    const result = await emptyCallsOutcome({ forward: refuse }, 'planted-empty-unsupported');
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^forward refused an empty call its supports\(\) accepted, throwing UnsupportedCallError: .*\(case: B=3 T=0 /);
  });

  it('fails a backend whose bindForward refuses an empty call at bind time after its supports() accepted it (GRU.stream() would not fall back)', async () => {
    const inner = planted('planted-empty-bind-refuses', {});
    const backend: GruBackend = {
      ...inner,
      prepare: async (spec, w) => {
        const p = await inner.prepare(spec, w);
        return {
          ...p,
          spec: p.spec,
          bindForward: (r) => {
            if (r.batch === 0 || r.timesteps === 0) throw new UnsupportedCallError('planted-empty-bind-refuses', 'no empty bind');
            return p.bindForward!(r);
          },
        };
      },
    };
    const result = await checkEmptyCalls(backend);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^bindForward refused an empty call its supports\(\) accepted, throwing UnsupportedCallError: .*no empty bind.*\(case: B=0 T=4 /,
    );
  });

  it("fails a backend that answers with the caller's own initialState array, or one array as output and lastState", async () => {
    const aliased = (r: ForwardResult, req: ForwardRequest) =>
      req.timesteps === 0 && req.initialState ? { output: r.output, lastState: req.initialState as Float32Array } : r;
    const own = await emptyCallsOutcome({ forwardSync: aliased }, 'planted-empty-aliased');
    expect(own.status).toBe('failed');
    expect(own.detail).toMatch(/^forwardSync: returned the request's own initialState array as lastState/);
    const same = (r: ForwardResult, req: ForwardRequest) => (req.timesteps === 0 && !req.returnSequences ? { output: r.lastState, lastState: r.lastState } : r);
    const one = await emptyCallsOutcome({ forwardSync: same }, 'planted-empty-one-array');
    expect(one.status).toBe('failed');
    expect(one.detail).toMatch(/^forwardSync: returned one array as both output and lastState/);
  });

  it('fails a backend that refuses batch 0 and timesteps 0 together (each alone answered), naming the case', async () => {
    const refuse = (r: ForwardResult, req: ForwardRequest) => {
      if (req.batch === 0 && req.timesteps === 0) throw new GruError('ValueError', 'planted: an empty [0, 0] call has nothing to run');
      return r;
    };
    const result = await emptyCallsOutcome({ forward: refuse }, 'planted-empty-both');
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^forward threw GruError\(ValueError\): planted: an empty \[0, 0\] call .*\(case: B=0 T=0 D=3 H=5 /);
  });

  it('checks float64 too where the backend computes it: a float64-only mistake fails, naming the dtype', async () => {
    const zeroState = (r: ForwardResult, req: ForwardRequest, spec: GruSpec) =>
      spec.dtype === 'float64' && req.timesteps === 0 ? { output: zeros(r.output), lastState: zeros(r.lastState) } : r;
    const result = await emptyCallsOutcome({ forwardSync: zeroState }, 'planted-empty-f64');
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(/^forwardSync: output .*\(case: B=3 T=0 D=3 H=5 .*dtype=float64/);
  });

  it('names supports()’s reasons when it declines every empty call', async () => {
    const inner = planted('planted-empty-declined', {});
    const backend: GruBackend = {
      ...inner,
      supports: (spec, call) => (call.batch === 0 || call.timesteps === 0 ? `planted: no empty ${spec.dtype} calls` : inner.supports(spec, call)),
    };
    const result = await checkEmptyCalls(backend);
    expect(result).toEqual({
      status: 'unsupported',
      detail:
        'supports() declines every empty call tried (batch 0, timesteps 0, both; float32 and float64): planted: no empty float32 calls; planted: no empty float64 calls',
    });
  });

  it('asks supports() about the backward call (as a training call) only for an empty call it accepts, and where the backend trains', async () => {
    const inner = planted('planted-empty-asked', {});
    const asked: { batch: number; timesteps: number; backward: boolean; training: boolean }[] = [];
    const backend: GruBackend = {
      ...inner,
      supports: (spec, call) => {
        asked.push({ batch: call.batch, timesteps: call.timesteps, backward: call.backward, training: call.training });
        return call.timesteps === 0 && !call.backward ? 'planted: no timesteps 0' : inner.supports(spec, call);
      },
    };
    const result = await checkEmptyCalls(backend);
    expect(result).toEqual({
      status: 'passed',
      ranOn: backend.name,
      detail: 'not checked: float32 B=3 T=0, B=0 T=0 (supports(): planted: no timesteps 0); float64 B=3 T=0, B=0 T=0 (supports(): planted: no timesteps 0)',
    });
    // Declined (timesteps 0): the forward call only, once; accepted (batch 0, timesteps 4): forward, then backward.
    const declined = asked.filter((a) => a.timesteps === 0);
    expect(declined.length).toBeGreaterThan(0);
    expect(declined.every((a) => !a.backward)).toBe(true);
    const accepted = asked.filter((a) => a.timesteps > 0);
    expect(accepted.filter((a) => !a.backward).length).toBe(accepted.filter((a) => a.backward).length);
    expect(accepted.filter((a) => a.backward).every((a) => a.training)).toBe(true);
  });

  it('never asks supports() about backward where the backend does not train, and names backward as not checked', async () => {
    const backwardAsked: boolean[] = [];
    const declines = (_: GruSpec, call: GruCallInfo) => {
      if (call.backward) backwardAsked.push(true);
      return undefined;
    };
    const backend: GruBackend = { ...float32Only(planted('planted-empty-no-training', {}), { declines }), supportsBackward: () => 'planted: no training' };
    const result = await checkEmptyCalls(backend);
    expect(backwardAsked).toEqual([]);
    expect(result).toEqual({
      status: 'passed',
      ranOn: backend.name,
      detail: 'not checked: float64 (supports(): planted: float32 only); float32 backward (supportsBackward(): planted: no training)',
    });
  });

  it('names backward as not checked where the layer has no backward method and supportsBackward() says why', async () => {
    const backend: GruBackend = {
      ...float32Only(planted('planted-empty-no-backward-method', {}), { layer: () => ({ backward: undefined, backwardSync: undefined }) }),
      supportsBackward: () => 'planted: no training',
    };
    const result = await checkEmptyCalls(backend);
    expect(result).toEqual({
      status: 'passed',
      ranOn: backend.name,
      detail: 'not checked: float64 (supports(): planted: float32 only); float32 backward (supportsBackward(): planted: no training)',
    });
  });

  it('names single declined cases and a backward call declined for some of them', async () => {
    const inner = planted('planted-empty-some', {});
    const backend: GruBackend = {
      ...inner,
      supports: (spec, call) =>
        spec.dtype === 'float64' && call.batch === 0 && call.timesteps === 0
          ? 'planted: no [0, 0] calls'
          : spec.dtype === 'float32' && call.backward && call.mask !== 'none'
            ? 'planted: no masked backward'
            : inner.supports(spec, call),
    };
    const result = await checkEmptyCalls(backend);
    expect(result).toEqual({
      status: 'passed',
      ranOn: backend.name,
      detail:
        'not checked: float32 backward of returnSequences=true initialState=true mask=any goBackwards=true at every size, ' +
        'returnSequences=false initialState=true mask=right-padded resetAfter=false at every size (supports(): planted: no masked backward); ' +
        'float64 B=0 T=0 (supports(): planted: no [0, 0] calls)',
    });
  });
});
