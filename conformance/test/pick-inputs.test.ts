import { referenceBackend, type GruBackend, type GruCallInfo } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { describeCaseOptions, type CaseOptions } from '../src/testing/make-case.js';
import { INITIAL_STATE, MASK, pickInputs, type PickedInputs } from '../src/testing/pick-inputs.js';

/**
 * pickInputs decides what contract:set-weights (and the other contract checks) and
 * contract:foreign-arrays run and name: these pin its picks, names and alone calls against a
 * backend whose supports() is all it has.
 */
const BASE: CaseOptions = { B: 2, T: 3, D: 2, H: 3, returnSequences: true, dtype: 'float32', seed: 5 };

/** A backend whose supports() declines what `declines` names (the reason names the call's mask, so each call's reason is told apart). */
function declining(declines: (call: GruCallInfo) => string | undefined): GruBackend {
  return { ...referenceBackend, name: 'planted-pick-inputs', supports: (_, call) => declines(call) ?? true };
}

function picked(declines: (call: GruCallInfo) => string | undefined): PickedInputs {
  const p = pickInputs(declining(declines), BASE, [INITIAL_STATE, MASK]);
  if (typeof p === 'string') throw new Error(`nothing picked: ${p}`);
  return p;
}

/** What a call was given, from its request (what a backend sees), not from its options. */
const given = (p: { c: { request: { initialState?: unknown; mask?: unknown } } }) => ({
  initialState: p.c.request.initialState !== undefined,
  mask: p.c.request.mask !== undefined,
});

describe('pickInputs: the call a check runs, what it names, what it runs alone', () => {
  it('takes every input a backend accepts, names nothing, runs nothing alone (control)', () => {
    const p = picked(() => undefined);
    expect(p.options).toMatchObject({ initialState: true, mask: 'any' });
    expect(given(p)).toEqual({ initialState: true, mask: true });
    expect(p.notChecked).toEqual([]);
    expect(p.alone).toEqual([]);
    expect(describeCaseOptions(p.options)).toBe('B=2 T=3 D=2 H=3 returnSequences=true initialState=true mask=any dtype=float32 seed=5');
  });

  it('a mask accepted alone but not beside initialState: the pair named with the plainest mask’s reason, mask=any made a call alone', () => {
    const p = picked((call) => (call.initialState && call.mask !== 'none' ? `PAIR-${call.mask}` : undefined));
    expect(p.options).toMatchObject({ initialState: true });
    expect(p.options.mask).toBeUndefined();
    expect(given(p)).toEqual({ initialState: true, mask: false });
    expect(p.notChecked).toEqual(['mask together with initialState (supports(): PAIR-right-padded)']);
    expect(p.alone).toHaveLength(1);
    expect(p.alone[0].options).toMatchObject({ mask: 'any' });
    expect(p.alone[0].options.initialState).toBeUndefined();
    expect(given(p.alone[0])).toEqual({ initialState: false, mask: true });
    expect(p.alone[0].notChecked).toEqual([]);
  });

  it('mask=any declined everywhere, right-padded accepted: a right-padded mask runs with initialState, mask=any named', () => {
    const p = picked((call) => (call.mask === 'any' ? `ANY-${call.initialState}` : undefined));
    expect(p.options).toMatchObject({ initialState: true, mask: 'right-padded' });
    expect(given(p)).toEqual({ initialState: true, mask: true });
    expect(p.notChecked).toEqual(['mask (any) (supports(): ANY-true)']);
    expect(p.alone).toEqual([]);
  });

  it('mask=any declined only beside initialState: right-padded runs with it, mask=any named "together with" and made a call alone', () => {
    const p = picked((call) => (call.mask === 'any' && call.initialState ? 'ANY-PAIR' : undefined));
    expect(p.options).toMatchObject({ initialState: true, mask: 'right-padded' });
    expect(p.notChecked).toEqual(['mask (any) together with initialState (supports(): ANY-PAIR)']);
    expect(p.alone.map((a) => [a.options.mask, a.options.initialState, a.notChecked])).toEqual([['any', undefined, []]]);
  });

  it('no mask beside initialState, and no mask=any at all: a right-padded mask made a call alone, which names mask=any', () => {
    const p = picked((call) => (call.mask === 'any' ? `ANY-${call.initialState}` : call.initialState && call.mask !== 'none' ? 'PAIR' : undefined));
    expect(p.options).toMatchObject({ initialState: true });
    expect(given(p)).toEqual({ initialState: true, mask: false });
    expect(p.notChecked).toEqual(['mask together with initialState (supports(): PAIR)']);
    expect(p.alone).toHaveLength(1);
    expect(p.alone[0].options).toMatchObject({ mask: 'right-padded' });
    expect(given(p.alone[0])).toEqual({ initialState: false, mask: true });
    // The reason supports() gave mask=any alone (not beside initialState).
    expect(p.alone[0].notChecked).toEqual(['mask (any) (supports(): ANY-false)']);
  });

  it('initialState declined: named first (no "together with": nothing was taken before it), the mask still taken', () => {
    const p = picked((call) => (call.initialState ? 'STATE' : call.mask === 'any' ? 'ANY' : undefined));
    expect(p.options).toMatchObject({ mask: 'right-padded' });
    expect(p.options.initialState).toBeUndefined();
    expect(p.notChecked).toEqual(['initialState (supports(): STATE)', 'mask (any) (supports(): ANY)']);
    expect(p.alone).toEqual([]);
  });

  it('masks declined everywhere: "mask", with the plainest kind’s reason, nothing alone', () => {
    const p = picked((call) => (call.mask !== 'none' ? `MASK-${call.mask}` : undefined));
    expect(p.options).toMatchObject({ initialState: true });
    expect(p.notChecked).toEqual(['mask (supports(): MASK-right-padded)']);
    expect(p.alone).toEqual([]);
  });

  it('the plain call declined: supports()’s reason, nothing picked', () => {
    expect(
      pickInputs(
        declining(() => 'PLAIN'),
        BASE,
        [INITIAL_STATE, MASK],
      ),
    ).toBe('PLAIN');
  });
});
