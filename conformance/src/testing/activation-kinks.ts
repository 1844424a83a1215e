import { ACTIVATION_NAMES, activationDef, GRU, resolveActivation, UnsupportedCallError, type GruBackend } from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { compareArrays, type Tolerance } from '../tolerance.js';

/** A backend's float32 gradients against the reference's float64 derivatives (exponential at 6 is 403). */
const KINK_TOLERANCE: Tolerance = { atol: 1e-6, rtol: 1e-5 };

const KERAS2_HARD_SIGMOID = 'keras2_hard_sigmoid';

/** Every activation's breakpoints (relu6's 6, hard_sigmoid's +-2.5 and +-3, the +-1 and +-0.5 of the clipped and shrinking ones, 0). */
export const ACTIVATION_BREAKPOINTS: readonly number[] = [-3, -2.5, -1, -0.5, 0, 0.5, 1, 2.5, 3, 6];

/** Where the activation under test sits: the candidate's, or the recurrent one in z or in r. */
type KinkRole = 'activation' | 'recurrentActivation' | 'recurrentActivation (reset gate)';

const KINK_ROLES: readonly KinkRole[] = ['activation', 'recurrentActivation', 'recurrentActivation (reset gate)'];

/** Keras's kernel columns are [z | r | candidate]; the recurrent bias's last entry is the candidate's b_h (resetAfter). */
const KINK_LAYERS: Record<KinkRole, { kernel: number[]; candidateRecurrentBias: number; initialState: number }> = {
  activation: { kernel: [0, 0, 1], candidateRecurrentBias: 0, initialState: 0 },
  recurrentActivation: { kernel: [1, 0, 0], candidateRecurrentBias: 0, initialState: 1 },
  'recurrentActivation (reset gate)': { kernel: [0, 1, 0], candidateRecurrentBias: 1, initialState: 0 },
};

/**
 * reference:activation-kinks: backward through every elementwise activation, as the activation and
 * as the recurrent activation, with its pre-activation exactly at each breakpoint. Random inputs
 * never land there, but zero-padded steps without a mask and a zero initial state put a layer
 * without bias exactly at 0. At a kink either one-sided derivative is defensible, so the backend
 * must take the one the reference takes (core's `activationDef(id).df`).
 *
 * Keras 2's hard_sigmoid (`compat: 'keras2'`) too. One unit, one feature, one step, zero biases
 * but where said; the batch holds one breakpoint per row; dx and the initial state's gradient are
 * compared. As the activation (with sigmoid as the recurrent one): the candidate's kernel column is
 * 1 and the others 0, so dx = 0.5 f'(p). As the recurrent activation (with tanh as the activation)
 * in the update gate: z's column is 1, the initial state 1 and the candidate tanh(0) = 0, so
 * dx = f'(p); in the reset gate: r's column is 1, the candidate's recurrent bias 1 and the initial
 * state 0, so the candidate is tanh(r) and dx = (1 - f(0)) tanh'(f(p)) f'(p). Backends limited to
 * tanh and sigmoid (cuDNN's) run the pairs of those two.
 */
export async function checkActivationKinks(backend: GruBackend): Promise<CaseOutcome> {
  const points = ACTIVATION_BREAKPOINTS;
  const B = points.length;
  const x = { shape: [B, 1, 1], data: Float32Array.from(points) };
  const dOutput = { shape: [B, 1], data: new Float32Array(B).fill(1) };
  const declined: string[] = [];
  let firstReason = '';
  const wrong: string[] = [];
  let ran = 0;
  const gradients = async (name: string, role: KinkRole, on: string) => {
    // Keras 2's hard_sigmoid (clip(0.2x + 0.5, 0, 1)) is what 'hard_sigmoid' means in Keras 2 configs.
    const keras2 = name === KERAS2_HARD_SIGMOID;
    if (keras2) name = 'hard_sigmoid';
    const layer = new GRU({
      units: 1,
      resetAfter: true,
      ...(keras2 ? { compat: 'keras2' as const } : {}),
      activation: role === 'activation' ? name : 'tanh',
      recurrentActivation: role === 'activation' ? 'sigmoid' : name,
      backend: on,
    });
    try {
      // Keras's kernel columns: [z | r | candidate].
      const { kernel, candidateRecurrentBias, initialState: h0 } = KINK_LAYERS[role];
      layer.setWeights([
        { shape: [1, 3], data: kernel },
        { shape: [1, 3], data: [0, 0, 0] },
        // Biases rather than none (zeros but where said): cuDNN's path needs use_bias=True.
        { shape: [2, 3], data: [0, 0, 0, 0, 0, candidateRecurrentBias] },
      ]);
      const initialState = { shape: [B, 1], data: new Float32Array(B).fill(h0) };
      await layer.forward(x, { initialState, training: true });
      const g = await layer.backward(dOutput);
      return { dx: g.inputs.data, dState: (g.initialState as { data: ArrayLike<number> }).data };
    } finally {
      layer.dispose();
    }
  };
  // Aliases (swish, hard_swish) name the same functions once.
  for (const name of [...new Set(ACTIVATION_NAMES.map((n) => resolveActivation(n) as string)), KERAS2_HARD_SIGMOID]) {
    if (!activationDef(name as Parameters<typeof activationDef>[0]).df) continue;
    for (const role of KINK_ROLES) {
      let got: Awaited<ReturnType<typeof gradients>>;
      try {
        got = await gradients(name, role, backend.name);
      } catch (err) {
        if (err instanceof UnsupportedCallError) {
          declined.push(`${role} ${name}`);
          firstReason ||= (err as Error).message;
          continue;
        }
        return { status: 'failed', detail: `${role} '${name}': backward threw ${(err as Error).message}` };
      }
      const want = await gradients(name, role, 'reference');
      ran++;
      for (const [what, g, w] of [['dx', got.dx, want.dx] as const, ['dInitialState', got.dState, want.dState] as const]) {
        const cmp = compareArrays(g, w, KINK_TOLERANCE);
        if (!cmp.ok) wrong.push(`${role} '${name}' at ${points[cmp.worst]}: ${what} ${g[cmp.worst]}, the reference ${w[cmp.worst]}`);
      }
    }
  }
  const declinedNote = declined.length ? `; declined: ${declined.join(', ')}` : '';
  if (wrong.length) return { status: 'failed', detail: `gradients at breakpoints differ from the reference's: ${wrong.join('; ')}${declinedNote}` };
  if (!ran) return { status: 'unsupported', detail: `the backend declined all ${declined.length} activation roles (the first: ${firstReason})` };
  return { status: 'passed', detail: `${ran} activation roles at ${B} breakpoints${declinedNote}` };
}
