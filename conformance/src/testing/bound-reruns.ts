import type { BoundForwardRequest, FloatArray, ForwardRequest, ForwardResult, GruBackend, PreparedGru } from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { cloneRequest, compareResult, pathsOf, runPath } from './against-reference.js';
import { guarded, pickedOptions } from './contract.js';
import { makeCase, type RandomCase } from './make-case.js';

/**
 * contract:bound-reruns: a BoundForward is "checked once, run again and again on the current
 * contents of its arrays", and "each run uses the prepared layer's current weights" (types.ts).
 * One binding is run three times: as bound, after new values are written into every input array
 * it was given (x, initialState, mask, dropout masks), and after PreparedGru.setWeights. Each run
 * must equal, bit for bit, a fresh call of every path the layer has on the arrays' contents and
 * weights at that time (the same backend's answer: a bound run is the same call). A backend that
 * copies its inputs at bind time, or keeps the weights it had then, answers the first run only.
 */
export function checkBoundReruns(backend: GruBackend, seed = 11): Promise<CaseOutcome> {
  return guarded(backend, seed, async (c, label, notChecked) => {
    const prepared = await backend.prepare(c.spec, c.weights);
    try {
      if (!prepared.bindForward) {
        notChecked.push('bindForward (the prepared layer has none)');
        return { status: 'passed' };
      }
      const { spec, request } = c;
      const bound: BoundForwardRequest = {
        ...cloneRequest(request),
        keepForBackward: undefined,
        output: zeros(request.x, request.returnSequences ? request.batch * request.timesteps * spec.units : request.batch * spec.units),
        lastState: zeros(request.x, request.batch * spec.units),
      };
      delete bound.keepForBackward;
      const call = prepared.bindForward(bound);
      try {
        const next = makeCase(
          { ...pickedOptions(request), B: request.batch, T: request.timesteps, D: spec.inputDim, H: spec.units, dtype: spec.dtype },
          seed + 1,
        );
        const other = makeCase(
          { B: 1, T: 1, D: spec.inputDim, H: spec.units, useBias: spec.useBias, resetAfter: spec.resetAfter, dtype: spec.dtype },
          seed + 2,
        ).weights;
        const steps: [string, () => Promise<void>][] = [
          ['the first run', async () => {}],
          ['a run after new values were written into its input arrays', async () => writeInputs(bound, next)],
          ['a run after PreparedGru.setWeights(new weights)', async () => void (await prepared.setWeights(other))],
        ];
        for (const [what, before] of steps) {
          await before();
          call.run();
          const problem = await againstFresh(backend, prepared, bound, spec.units, `bindForward: ${what}`);
          if (problem) return { status: 'failed', detail: `${problem} (case: ${label})` };
        }
        return { status: 'passed' };
      } finally {
        call.dispose();
      }
    } finally {
      prepared.dispose();
    }
  });
}

const zeros = (like: FloatArray, n: number): FloatArray => (like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n));

/** Writes the next case's values into every input array the binding holds (the arrays stay the same objects). */
function writeInputs(bound: BoundForwardRequest, next: RandomCase): void {
  const r = next.request;
  bound.x.set(r.x);
  if (bound.initialState && r.initialState) bound.initialState.set(r.initialState);
  if (bound.mask && r.mask) (bound.mask as Uint8Array).set(r.mask);
  for (const field of ['inputDropoutMasks', 'recurrentDropoutMasks'] as const) {
    const to = bound[field];
    const from = r[field];
    if (to && from) for (let g = 0; g < 3; g++) to[g].set(from[g]);
  }
}

/** What differs between the bound run's output and lastState and a fresh call on each path, or undefined. */
async function againstFresh(backend: GruBackend, prepared: PreparedGru, bound: BoundForwardRequest, units: number, what: string): Promise<string | undefined> {
  const { output, lastState, ...rest } = bound;
  const got: ForwardResult = { output: output.slice(), lastState: lastState.slice() };
  const request: ForwardRequest = cloneRequest(rest);
  for (const path of pathsOf(prepared)) {
    const want = await runPath(backend, prepared, path, cloneRequest(request));
    const problem = compareResult(
      got,
      want,
      request,
      units,
      { bitwiseAgainst: `a fresh ${path} on the arrays' current contents and the current weights` },
      what,
    );
    if (problem) return `${problem} (a bound call runs on its arrays' contents and the layer's weights at the time of each run)`;
  }
  return undefined;
}
