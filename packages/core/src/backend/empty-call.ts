import { arrayFor, type FloatArray } from '../tensor.js';
import type { BackwardRequest, ForwardRequest, ForwardResult, GruGradients, GruSpec } from './types.js';

/**
 * Whether a call has no rows or no steps: no kernel runs, and every backend answers it the same
 * way (emptyForwardResult, emptyCallGradients). Kernels (cuDNN, wasm, the GPU's) run at least one
 * row and one step, so a backend answers these before its kernel is reached.
 */
export function isEmptyCall(call: Pick<ForwardRequest, 'batch' | 'timesteps'>): boolean {
  return call.batch === 0 || call.timesteps === 0;
}

/**
 * The answer to a checked forward request with no rows or no steps, in the spec's dtype: with no
 * steps the state never changes, so `lastState` is the initial state (zeros when absent), and the
 * output is that state, or the empty sequence [batch, 0, units] / [0, timesteps, units] with
 * returnSequences. Fresh arrays: the caller may keep and write them.
 */
export function emptyForwardResult(spec: GruSpec, req: Pick<ForwardRequest, 'batch' | 'timesteps' | 'returnSequences' | 'initialState'>): ForwardResult {
  const { batch: B, timesteps: T } = req;
  const H = spec.units;
  const lastState = arrayFor(spec.dtype, B * H);
  if (req.initialState) lastState.set(req.initialState);
  const output = req.returnSequences ? arrayFor(spec.dtype, B * T * H) : lastState.slice();
  return { output, lastState };
}

/**
 * The gradients of a checked backward request through an empty forward call: the state passed
 * straight from the initial state to `lastState` (and to `output` without returnSequences), so
 * dInitialState = dLastState (+ dOutput); dx is zeros (empty when `inputGradients` is false) and
 * the weights, which had no effect, get zero gradients in Keras's layout.
 */
export function emptyCallGradients(
  spec: GruSpec,
  call: Pick<ForwardRequest, 'batch' | 'timesteps' | 'returnSequences'>,
  req: Pick<BackwardRequest, 'dOutput' | 'dLastState' | 'inputGradients'>,
): GruGradients {
  const { batch: B, timesteps: T } = call;
  const { units: H, inputDim: D, dtype } = spec;
  const G = 3 * H;
  const dInitialState = arrayFor(dtype, B * H);
  const dLast: ArrayLike<number> | null | undefined = req.dLastState;
  const dOut: FloatArray | null = call.returnSequences ? null : req.dOutput;
  // As the reference backend sums them (dLastState first, so a -0 stays -0 without dOutput).
  for (let i = 0; i < B * H; i++) dInitialState[i] = dOut ? (dLast ? dLast[i] : 0) + dOut[i] : dLast ? dLast[i] : 0;
  return {
    dx: arrayFor(dtype, req.inputGradients === false ? 0 : B * T * D),
    dInitialState,
    dKernel: arrayFor(dtype, D * G),
    dRecurrentKernel: arrayFor(dtype, H * G),
    dBias: spec.useBias ? arrayFor(dtype, spec.resetAfter ? 2 * G : G) : null,
  };
}
