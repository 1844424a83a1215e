import { checkForwardResult, GRU, GRUCell, UnsupportedCallError, type GruBackend, type Tensor, type TensorLike } from '@gru/core';
import type { CaseJson, StepJson, TensorJson } from './format.js';
import { compareArrays, sameShape, TOLERANCES, type Tolerance } from './tolerance.js';

export type CaseStatus = 'passed' | 'failed' | 'unsupported';

export interface CaseOutcome {
  status: CaseStatus;
  /** Why it failed, or why the backend cannot run it. */
  detail?: string;
  maxAbsDiff?: number;
  /** The backend that actually ran the case (must be the one under test). */
  ranOn?: string;
  /** 'unsupported' because the runner (not the backend) cannot run or judge the case. */
  runnerLimit?: boolean;
}

class Mismatch extends Error {}

export function caseTolerance(c: CaseJson): Tolerance {
  return c.dtype === 'float64' ? TOLERANCES.float64 : TOLERANCES.float32;
}

function checkTensors(got: Tensor[], want: TensorJson[], tol: Tolerance, what: string): number {
  if (got.length !== want.length) throw new Mismatch(`${what}: ${got.length} tensors, expected ${want.length}`);
  let max = 0;
  got.forEach((g, i) => {
    if (!sameShape(g.shape, want[i].shape)) {
      throw new Mismatch(`${what}[${i}]: shape [${g.shape}], expected [${want[i].shape}]`);
    }
    const cmp = compareArrays(g.data, want[i].data, tol, want[i].shape);
    if (!cmp.ok) throw new Mismatch(`${what}[${i}] ${cmp.message}`);
    max = Math.max(max, cmp.maxAbsDiff);
  });
  return max;
}

function weightList(c: CaseJson): TensorJson[] {
  const w = c.weights;
  return w.bias ? [w.kernel, w.recurrent_kernel, w.bias] : [w.kernel, w.recurrent_kernel];
}

/** Keras injects recorded dropout masks only for training calls; so do we. */
function maskOptions(c: CaseJson) {
  if (!c.training) return {};
  return {
    ...(c.dropout_mask ? { dropoutMask: c.dropout_mask as TensorLike | TensorLike[] } : {}),
    ...(c.recurrent_dropout_mask ? { recurrentDropoutMask: c.recurrent_dropout_mask as TensorLike[] } : {}),
  };
}

/** The case's options that shape the call, in one line, for failure messages. */
export function caseOptionsLine(c: CaseJson): string {
  const cfg = c.config;
  const keys = [
    'units',
    'activation',
    'recurrent_activation',
    'use_bias',
    'reset_after',
    'return_sequences',
    'return_state',
    'go_backwards',
    'stateful',
    'unroll',
    'time_major',
    'dropout',
    'recurrent_dropout',
  ];
  const parts = keys.filter((k) => cfg[k] !== undefined).map((k) => `${k}=${JSON.stringify(cfg[k])}`);
  parts.push(`inputs [${c.inputs.shape.join(', ')}]`, `dtype ${c.dtype}`);
  if (c.mask) parts.push('mask');
  if (c.initial_state) parts.push(`initial_state [${c.initial_state[0]?.shape.join(', ')}]`);
  if (c.training) parts.push('training');
  return parts.join(', ');
}

/** Weights that differ from the case's everywhere, to prepare with before the real ones are set. */
function otherWeights(c: CaseJson): TensorJson[] {
  return weightList(c).map((w) => ({ shape: w.shape, data: w.data.map((v) => 0.1 - 0.5 * v) }));
}

async function runLayerCase(c: CaseJson, backend: GruBackend): Promise<CaseOutcome> {
  const layer = GRU.fromConfig(c.config);
  try {
    layer.setWeights(weightList(c));
    const tol = caseTolerance(c);
    if (c.steps) return await runStatefulSteps(layer, c.steps, backend, tol);
    const options = {
      mask: c.mask ?? undefined,
      initialState: c.initial_state ?? undefined,
      training: c.training === true,
      // A forward case checks forward semantics; backends without gradients still run it.
      keepForBackward: false,
      backend: backend.name,
      ...maskOptions(c),
    };
    const result = await layer.forward(c.inputs, options);
    let maxAbsDiff = checkTensors(result.outputs, c.outputs, tol, 'forward: outputs');
    // A stateful layer's state moves with each call: the reruns below would not repeat the case.
    if (c.config.stateful === true) return { status: 'passed', maxAbsDiff, ranOn: result.backend };
    // PreparedGru.setWeights: prepared afresh with other weights, then given the case's through
    // setWeights (an idle prepared layer is updated in place): a backend that ignores it keeps
    // computing with the other weights.
    layer.dispose();
    layer.setWeights(otherWeights(c));
    await layer.forward(c.inputs, options);
    layer.setWeights(weightList(c));
    const again = await layer.forward(c.inputs, options);
    maxAbsDiff = Math.max(maxAbsDiff, checkTensors(again.outputs, c.outputs, tol, 'forward after PreparedGru.setWeights: outputs'));
    if (backend.prepareSync) {
      // Both paths are held to Keras, not just to each other.
      const sync = layer.forwardSync(c.inputs, options);
      maxAbsDiff = Math.max(maxAbsDiff, checkTensors(sync.outputs, c.outputs, tol, 'forwardSync: outputs'));
    }
    return { status: 'passed', maxAbsDiff, ranOn: result.backend };
  } finally {
    layer.dispose();
  }
}

async function runStatefulSteps(layer: GRU, steps: StepJson[], backend: GruBackend, tol: Tolerance): Promise<CaseOutcome> {
  let maxAbsDiff = 0;
  let ranOn: string | undefined;
  for (const [i, step] of steps.entries()) {
    // A call's note says where its state comes from ("continues from call 1's final state"): a
    // backend that loses the carried state fails at the call that names it.
    const where = step.op === 'call' && step.note ? `step ${i} (${step.note})` : `step ${i} (${step.op})`;
    if (step.op === 'call') {
      const result = await layer.forward(step.inputs as TensorJson, {
        mask: step.mask ?? undefined,
        initialState: step.initial_state ?? undefined,
        backend: backend.name,
      });
      ranOn = result.backend;
      maxAbsDiff = Math.max(maxAbsDiff, checkTensors(result.outputs, step.outputs ?? [], tol, `${where} outputs`));
    } else if (step.op === 'reset_states') {
      layer.resetStates();
    } else if (step.op === 'assign_states') {
      layer.resetStates(step.states as TensorJson[]);
    } else {
      throw new Mismatch(`${where}: unknown stateful operation '${String((step as StepJson).op)}'`);
    }
    if (step.states_after) {
      maxAbsDiff = Math.max(maxAbsDiff, checkTensors(layer.states ?? [], step.states_after, tol, `${where} states`));
    }
  }
  return { status: 'passed', maxAbsDiff, ranOn };
}

/**
 * A GRUCell case is one step: the reference backend runs it through `GRUCell.call` (the public
 * API); any other backend runs the same request as a one-timestep sequence.
 */
async function runCellCase(c: CaseJson, backend: GruBackend): Promise<CaseOutcome> {
  const cell = GRUCell.fromConfig(c.config);
  cell.setWeights(weightList(c));
  const states = (c.initial_state ?? cell.getInitialState(c.inputs.shape[0])) as TensorLike[];
  const batch = c.inputs.shape[0];
  if (c.training && c.dropout_mask) cell.setDropoutMask(c.dropout_mask as TensorLike | TensorLike[], batch);
  if (c.training && c.recurrent_dropout_mask) cell.setRecurrentDropoutMask(c.recurrent_dropout_mask as TensorLike[], batch);
  const tol = caseTolerance(c);
  if (backend.name === 'reference') {
    const r = cell.call(c.inputs, states, { training: c.training === true });
    return { status: 'passed', maxAbsDiff: checkTensors([r.output, ...r.states], c.outputs, tol, 'outputs'), ranOn: 'reference' };
  }
  const request = cell.stepRequest(c.inputs, states, { training: c.training === true });
  const spec = cell.spec();
  const supported = backend.supports(spec, {
    batch,
    timesteps: 1,
    mask: 'none',
    initialState: true,
    goBackwards: false,
    returnSequences: false,
    inputDropoutPerGate: request.inputDropoutMasks !== undefined,
    recurrentDropout: request.recurrentDropoutMasks !== undefined,
    recurrentDropoutRate: cell.config.recurrentDropout,
    training: c.training === true,
    backward: false,
    unroll: false,
  });
  if (supported !== true) return { status: 'unsupported', detail: supported };
  const prepared = await backend.prepare(spec, cell.gruWeights());
  try {
    const out = checkForwardResult(backend.name, spec, request, await prepared.forward(request));
    const r = cell.stepResult(request, out.output, out.lastState);
    return { status: 'passed', maxAbsDiff: checkTensors([r.output, ...r.states], c.outputs, tol, 'outputs'), ranOn: backend.name };
  } finally {
    prepared.dispose();
  }
}

/** Runs one forward/stateful/cell case on a backend. Gradient cases are judged by runGradientCase. */
export async function runForwardCase(c: CaseJson, backend: GruBackend): Promise<CaseOutcome> {
  try {
    const outcome = c.layer === 'GRUCell' ? await runCellCase(c, backend) : await runLayerCase(c, backend);
    if (outcome.status === 'passed' && outcome.ranOn !== backend.name) {
      return { status: 'failed', detail: `ran on '${outcome.ranOn}' instead of '${backend.name}'` };
    }
    return outcome;
  } catch (err) {
    if (err instanceof UnsupportedCallError) return { status: 'unsupported', detail: err.reason };
    if (err instanceof Mismatch) return { status: 'failed', detail: `${err.message} (case: ${caseOptionsLine(c)})` };
    return { status: 'failed', detail: `threw ${(err as Error).name}: ${(err as Error).message} (case: ${caseOptionsLine(c)})` };
  }
}
