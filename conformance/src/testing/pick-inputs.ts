import type { GruBackend } from '@gru/core';
import { callInfoOf } from './call-info.js';
import { makeCase, type CaseOptions, type RandomCase } from './make-case.js';

/** One kind of an optional input: the case options that give it, and its name in a detail. */
export interface InputKind {
  options: Partial<CaseOptions>;
  name: string;
}

/**
 * An optional input's kinds, richest first: a richer kind is tried before a plainer one (a
 * right-padded mask where mask=any is declined); the plainest's name and reason name the input
 * where no kind is taken. The names are the request's fields.
 */
export type OptionalInput = readonly InputKind[];

export const INITIAL_STATE: OptionalInput = [{ options: { initialState: true }, name: 'initialState' }];
export const MASK: OptionalInput = [
  { options: { mask: 'any' }, name: 'mask (any)' },
  { options: { mask: 'right-padded' }, name: 'mask' },
];
export const INPUT_DROPOUT: OptionalInput = [{ options: { inputDropout: true }, name: 'inputDropoutMasks' }];
export const RECURRENT_DROPOUT: OptionalInput = [{ options: { recurrentDropout: true }, name: 'recurrentDropoutMasks' }];

/** A call: the case and the options it was made from. */
export interface PickedCall {
  c: RandomCase;
  options: CaseOptions;
}

/**
 * A kind of an input supports() declines beside the inputs taken but accepts alone, as a call of
 * its own, and that input's richer kinds it declines even alone (named: the run alone leaves them out).
 */
export interface AloneCall extends PickedCall {
  notChecked: string[];
}

/** The call to run, the inputs it was not given (named with supports()'s reason), and the inputs to run alone. */
export interface PickedInputs extends PickedCall {
  notChecked: string[];
  alone: AloneCall[];
}

/**
 * The call a check runs: the base call with each optional input in turn (in the order given, each
 * kind richest first) where supports() accepts it beside those taken before. An input not taken
 * is named with supports()'s reason for the call it was tried in: a richer kind declined where a
 * plainer one is taken by its own name, an input no kind of which is taken by its plainest's;
 * "together with" the inputs taken where supports() accepts it alone. The richest such kind is
 * also made a call of its own (`alone`), for a caller that runs it alone. Or, where supports()
 * declines the base call itself, its reason.
 */
export function pickInputs(backend: GruBackend, base: CaseOptions, inputs: readonly OptionalInput[]): PickedInputs | string {
  // The inputs before dtype and seed, so the case's label reads as the layer's options, then its float type.
  const { dtype, seed, ...rest } = base;
  const ask = (given: Partial<CaseOptions>) => {
    const options: CaseOptions = { ...rest, ...given, dtype, seed };
    const c = makeCase(options);
    return { c, options, answer: backend.supports(c.spec, callInfoOf(c.request)) };
  };
  let current = ask({});
  if (current.answer !== true) return current.answer;
  const notChecked: string[] = [];
  const alone: AloneCall[] = [];
  let given: Partial<CaseOptions> = {};
  const taken: string[] = [];
  const named = (name: string, together: boolean, answer: string) =>
    `${name}${together ? ` together with ${taken.join(' and ')}` : ''} (supports(): ${answer})`;
  for (const kinds of inputs) {
    const declined: { kind: InputKind; answer: string }[] = [];
    for (const kind of kinds) {
      const tried = ask({ ...given, ...kind.options });
      if (tried.answer === true) {
        given = { ...given, ...kind.options };
        current = tried;
        break;
      }
      declined.push({ kind, answer: tried.answer });
    }
    // Beside no input taken, declined alone already.
    const alones = taken.length ? declined.map(({ kind }) => ask(kind.options)) : [];
    const first = alones.findIndex((a) => a.answer === true);
    if (declined.length < kinds.length) {
      for (const [i, { kind, answer }] of declined.entries()) notChecked.push(named(kind.name, alones[i]?.answer === true, answer));
      if (first >= 0) alone.push({ c: alones[first].c, options: alones[first].options, notChecked: [] });
      taken.push(kinds[declined.length].name);
      continue;
    }
    const plainest = declined[declined.length - 1];
    notChecked.push(named(plainest.kind.name, first >= 0, plainest.answer));
    if (first >= 0) {
      // The richer kinds, declined even alone, are what the run alone leaves out of this input.
      const richer = declined.slice(0, first).map(({ kind }, i) => `${kind.name} (supports(): ${alones[i].answer})`);
      alone.push({ c: alones[first].c, options: alones[first].options, notChecked: richer });
    }
  }
  return { c: current.c, options: current.options, notChecked, alone };
}
