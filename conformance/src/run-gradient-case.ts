import {
  checkForwardResult,
  checkGradients,
  GRU,
  GRUCell,
  UnsupportedCallError,
  type GruBackend,
  type GruGradients,
  type Tensor,
  type TensorLike,
} from '@gru/core';
import type { CaseJson, TensorJson } from './format.js';
import { caseOptionsLine, type CaseOutcome } from './run-case.js';
import { callInfoOf } from './testing/call-info.js';
import { compareArrays, sameShape, TOLERANCES, type Tolerance } from './tolerance.js';

/** float64 cases hold float64 finite differences; float32 cases Keras's own float32 autodiff. */
export function gradientTolerance(c: CaseJson): Tolerance {
  return c.dtype === 'float32' ? TOLERANCES.float32Gradients : TOLERANCES.gradients;
}

/** Keras's gradient names in a case file, and where each is in our gradients. */
const GRAD_KEYS = ['inputs', 'initial_state', 'kernel', 'recurrent_kernel', 'bias'] as const;

function weightList(c: CaseJson): TensorJson[] {
  const w = c.weights;
  return w.bias ? [w.kernel, w.recurrent_kernel, w.bias] : [w.kernel, w.recurrent_kernel];
}

/** Gradients of L = sum(outputs[0] * cotangent) through the backend, keyed as in the case file. */
async function layerGradients(c: CaseJson, backend: GruBackend): Promise<Record<string, Tensor | null>> {
  const layer = GRU.fromConfig(c.config);
  try {
    layer.setWeights(weightList(c));
    await layer.forward(c.inputs, {
      mask: c.mask ?? undefined,
      initialState: c.initial_state ?? undefined,
      training: c.training === true,
      keepForBackward: true,
      backend: backend.name,
    });
    const g = await layer.backward(c.cotangent as TensorJson);
    return { inputs: g.inputs, initial_state: g.initialState, kernel: g.kernel, recurrent_kernel: g.recurrentKernel, bias: g.bias };
  } finally {
    layer.dispose();
  }
}

/** A GRUCell step differentiated on the backend, as a one-timestep sequence. */
async function cellGradients(c: CaseJson, backend: GruBackend): Promise<Record<string, Tensor | null>> {
  const cell = GRUCell.fromConfig(c.config);
  cell.setWeights(weightList(c));
  const states = (c.initial_state ?? cell.getInitialState(c.inputs.shape[0])) as TensorLike[];
  const request = { ...cell.stepRequest(c.inputs, states, { training: c.training === true }), keepForBackward: true };
  const spec = cell.spec();
  // As the layer's selection would: a backend that declines the call is not sent it.
  const supported = backend.supports(spec, {
    ...callInfoOf(request, { training: c.training === true, backward: true }),
    recurrentDropoutRate: cell.config.recurrentDropout,
  });
  if (supported !== true) throw new UnsupportedCallError(backend.name, supported);
  const prepared = await backend.prepare(spec, cell.gruWeights());
  try {
    const out = await prepared.forward(request);
    checkForwardResult(backend.name, spec, request, out);
    if (!prepared.backward) throw new UnsupportedCallError(backend.name, 'its prepared layer has no backward()');
    const dOutput = (spec.dtype === 'float64' ? Float64Array : Float32Array).from((c.cotangent as TensorJson).data);
    const g: GruGradients = checkGradients(backend.name, spec, request, await prepared.backward(out.saved, { dOutput }));
    const D = spec.inputDim;
    const H = spec.units;
    return {
      inputs: { shape: [request.batch, D], data: g.dx },
      initial_state: { shape: [request.batch, H], data: g.dInitialState },
      kernel: { shape: [D, 3 * H], data: g.dKernel },
      recurrent_kernel: { shape: [H, 3 * H], data: g.dRecurrentKernel },
      bias: g.dBias ? { shape: c.weights.bias?.shape ?? [], data: g.dBias } : null,
    };
  } finally {
    prepared.dispose();
  }
}

/**
 * A gradient case (`grads` present): the backend's gradients against Keras's central finite
 * differences. Backends that do not implement backward are reported as unsupported with their
 * own reason.
 */
export async function runGradientCase(c: CaseJson, backend: GruBackend): Promise<CaseOutcome> {
  try {
    const probe = c.layer === 'GRU' ? GRU.fromConfig(c.config) : GRUCell.fromConfig(c.config);
    probe.setWeights(weightList(c));
    const spec = probe instanceof GRU ? probe.cell.spec() : probe.spec();
    const canBackward = backend.supportsBackward ? backend.supportsBackward(spec) : 'it does not implement backward';
    if (canBackward !== true) return { status: 'unsupported', detail: `no gradients: ${canBackward}` };
    const got = c.layer === 'GRUCell' ? await cellGradients(c, backend) : await layerGradients(c, backend);
    const want = c.grads as Record<string, TensorJson | unknown>;
    const tol = gradientTolerance(c);
    let max = 0;
    for (const key of GRAD_KEYS) {
      const w = want[key] as TensorJson | undefined;
      if (!w || typeof w !== 'object' || !('data' in w)) continue;
      const g = got[key];
      if (!g) return { status: 'failed', detail: `backward: no gradient for ${key}` };
      if (!sameShape(g.shape, w.shape)) return { status: 'failed', detail: `backward: d/d${key}: shape [${g.shape}], expected [${w.shape}]` };
      const cmp = compareArrays(g.data, w.data, tol, w.shape);
      if (!cmp.ok) return { status: 'failed', detail: `backward: d/d${key} ${cmp.message} (case: ${caseOptionsLine(c)})` };
      max = Math.max(max, cmp.maxAbsDiff);
    }
    return { status: 'passed', maxAbsDiff: max, ranOn: backend.name };
  } catch (err) {
    if (err instanceof UnsupportedCallError) return { status: 'unsupported', detail: err.reason };
    return { status: 'failed', detail: `backward: threw ${(err as Error).message} (case: ${caseOptionsLine(c)})` };
  }
}
