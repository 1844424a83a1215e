import { classifyMask, type ForwardRequest, type GruCallInfo } from '@gru/core';

/** The `supports()` description of a raw backend request, as the layer would build it. */
export function callInfoOf(request: ForwardRequest, options: { training?: boolean; backward?: boolean } = {}): GruCallInfo {
  const training = options.training ?? (request.inputDropoutMasks !== undefined || request.recurrentDropoutMasks !== undefined);
  return {
    batch: request.batch,
    timesteps: request.timesteps,
    mask: request.mask ? classifyMask(request.mask, request.batch, request.timesteps) : 'none',
    initialState: request.initialState !== undefined,
    goBackwards: request.goBackwards,
    returnSequences: request.returnSequences,
    inputDropoutPerGate: request.inputDropoutMasks !== undefined,
    recurrentDropout: request.recurrentDropoutMasks !== undefined,
    recurrentDropoutRate: request.recurrentDropoutMasks ? 0.25 : 0,
    training,
    backward: options.backward ?? request.keepForBackward === true,
    unroll: false,
  };
}
