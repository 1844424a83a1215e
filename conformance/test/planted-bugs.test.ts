import { type ForwardRequest, type ForwardResult, type GruBackend, type GruGradients, type GruSpec, referenceBackend } from '@gru/core';
import { afterEach, describe, expect, it } from 'vitest';
import { runConformance, type CaseResult, type ConformanceOptions } from '../src/index.js';
import { planted, unregisterPlanted, type Bugs } from './planted-backend.js';

afterEach(unregisterPlanted);

/**
 * Issue 13: each bug class below was planted in a backend and passed the kit. Each planted-bug
 * backend is the reference backend with one bug; the kit must fail it with a message that points
 * at the bug (the path, the field, the element).
 */
const KERAS = ['defaults_seq_state', 'init_state_mask_right_pad'];
const SMALL_SWEEP: ConformanceOptions['sweep'] = {
  shapes: [
    { B: 3, T: 4, D: 5, H: 7 },
    { B: 17, T: 3, D: 4, H: 67 },
  ],
  variants: [{}],
};

async function run(backend: GruBackend, options: ConformanceOptions = {}) {
  const report = await runConformance(backend, { coreChecks: false, sweep: SMALL_SWEEP, expectations: {}, ...options, only: options.only });
  return { report, failed: report.results.filter((r) => r.status === 'failed') };
}

const failure = (results: CaseResult[], name: string) => results.find((r) => r.name === name)?.detail ?? `(${name} did not fail)`;

describe('the kit catches each planted-bug class, pointing at it', () => {
  it('a correct backend passes every check (control)', async () => {
    const { report, failed } = await run(planted('planted-none', {}));
    expect(failed).toEqual([]);
    expect(report.backendPassed).toBe(report.results.length - report.skipped);
    expect(report.results.some((r) => r.kind === 'contract')).toBe(true);
    expect(report.results.some((r) => r.kind === 'reference')).toBe(true);
  });

  it('forwardSync that differs from Keras (forward is right): both paths are checked against the reference tensors, the path named', async () => {
    const bump = (r: ForwardResult) => ({ ...r, output: r.output.map((v, i) => (i === 1 ? v + 1e-3 : v)) });
    const { failed } = await run(planted('planted-sync', { forwardSync: bump }), { only: KERAS, contractChecks: false, sweep: false });
    expect(failed.map((r) => r.name)).toEqual(KERAS);
    // defaults_seq_state: outputs [3, 9, 7]; flat element 1 is [0, 0, 1].
    expect(failure(failed, 'defaults_seq_state')).toMatch(
      /^forwardSync: outputs\[0\] at \[0, 0, 1\] of shape \[3, 9, 7\]: got .* 1 of 189 elements out of tolerance \(atol 0\.000005, rtol 0\.00001/,
    );
    expect(failure(failed, 'defaults_seq_state')).toMatch(/\(case: units=7, .*return_sequences=true.*inputs \[3, 9, 6\], dtype float32\)$/);
  });

  it('PreparedGru.setWeights ignored: Keras cases re-checked after setWeights, and the contract check', async () => {
    const { failed } = await run(planted('planted-setweights', { ignoreSetWeights: true }), { only: [...KERAS, 'contract:set-weights'], sweep: false });
    expect(failure(failed, 'defaults_seq_state')).toMatch(/^forward after PreparedGru\.setWeights: outputs\[0\] at \[\d+, \d+, \d+\] of shape \[3, 9, 7\]/);
    expect(failure(failed, 'contract:set-weights')).toMatch(
      /^forward after PreparedGru\.setWeights\(new weights\): output at \[.*\]: .*the new weights were not used/,
    );
  });

  it('an output buffer reused across calls', async () => {
    const { failed } = await run(planted('planted-reuse', { reuseOutput: true }), { only: ['contract:fresh-results'], sweep: false });
    expect(failure(failed, 'contract:fresh-results')).toMatch(
      /^forward: the output of an earlier call changed after a later call \(the backend reuses its result buffer; return a fresh array per call\): at \[\d+, \d+, \d+\] of shape \[5, 9, 19\]/,
    );
  });

  it('a backend that checks one reading of the request and runs another', async () => {
    const { failed } = await run(planted('planted-reads-twice', { readsTwice: true }), { only: ['contract:request-read-once'], sweep: false });
    expect(failure(failed, 'contract:request-read-once')).toMatch(
      /^forward with getters \(every field\) answering a bigger batch from their second read: .*output.*: read each request field once, then check and use that reading \(case: /,
    );
  });

  it.each([
    [
      'setWeights',
      { readsWeightsTwice: true },
      /^forward after setWeights with getters answering other values from their second read: the result: .*: read each field once, then check and use that reading \(case: /,
    ],
    [
      'backward',
      { readsBackwardTwice: true },
      /^backward with getters answering other values from their second read: d\w+ differs from the honest request's .*: read each field once/,
    ],
    [
      'backward inputGradients',
      { readsInputGradientsTwice: true },
      /^backward with getters answering other values from their second read: dx (is missing|differs from the honest request's)/,
    ],
    [
      'bindForward counts',
      { bindReadsCountsOnRun: true },
      /^bindForward with getters answering other values from their second read: run\(\) threw .*`x` must be/,
    ],
  ])('a backend whose %s checks one reading and uses another', async (what, bugs, message) => {
    const { failed } = await run(planted(`planted-reads-${what}-twice`, bugs), { only: ['contract:request-read-once'], sweep: false });
    expect(failure(failed, 'contract:request-read-once')).toMatch(message);
  });

  it('contract:request-read-once names backward as not checked where the backend does not train, or supports() declines the backward call', async () => {
    const readOnce = async (backend: GruBackend) => (await run(backend, { only: ['contract:request-read-once'], sweep: false })).report.results[0];
    const noTraining = { ...planted('planted-read-once-no-training', {}), supportsBackward: () => 'planted: no training' };
    expect(await readOnce(noTraining)).toMatchObject({
      name: 'contract:request-read-once',
      status: 'passed',
      detail: 'not checked: backward (supportsBackward(): planted: no training)',
    });
    const inner = planted('planted-read-once-no-backward-call', {});
    const declined: GruBackend = { ...inner, supports: (spec, call) => (call.backward ? 'planted: no backward call' : inner.supports(spec, call)) };
    expect(await readOnce(declined)).toMatchObject({ status: 'passed', detail: 'not checked: backward (supports(): planted: no backward call)' });
    // A backend that trains has nothing to name.
    expect((await readOnce(planted('planted-read-once-trains', {}))).detail).toBeUndefined();
  });

  it("a backend that reads the caller's spec again on every call", async () => {
    const { failed } = await run(planted('planted-reads-spec-later', { readsSpecLater: true }), { only: ['contract:request-read-once'], sweep: false });
    expect(failure(failed, 'contract:request-read-once')).toMatch(
      /^a spec whose getters answer another layer from their second read: forward: .*: read the spec once at prepare and keep that copy \(case: /,
    );
  });

  it("a backend that writes into the caller's input after computing", async () => {
    const { failed } = await run(planted('planted-write', { writeInput: true }), { only: ['contract:inputs-untouched'], sweep: false });
    expect(failure(failed, 'contract:inputs-untouched')).toMatch(
      /^forward wrote into the caller's request: x\[0, 0, 0\] \(shape \[5, 9, 6\]\) was -?\d.*, is now 0/,
    );
  });

  // Each of these passed every check before the check that names it: only that check fails now.
  const CONTRACT = [
    'contract:set-weights',
    'contract:fresh-results',
    'contract:inputs-untouched',
    'contract:request-read-once',
    'contract:empty-calls',
    'contract:foreign-arrays',
    'contract:bound-reruns',
    'contract:concurrent-calls',
  ];
  it.each([
    [
      'bindForward copies its inputs when bound',
      { bindCopiesInput: true },
      'contract:bound-reruns',
      /^bindForward: a run after new values were written into its input arrays: output differs from a fresh forward on the arrays' current contents and the current weights .* at \[\d+, \d+, \d+\] of shape \[5, 9, 19\].*a bound call runs on its arrays' contents/,
    ],
    [
      'bindForward keeps the weights it was bound with',
      { bindStaleWeights: true },
      'contract:bound-reruns',
      /^bindForward: a run after PreparedGru\.setWeights\(new weights\): output differs from a fresh forward on the arrays' current contents and the current weights/,
    ],
    [
      'forward keeps its request in a per-layer slot across an await',
      { concurrentScratch: true },
      'contract:concurrent-calls',
      /^of 3 forward calls started together \(batches 5, 2, 7\), one threw .*`output` must be .*: calls in flight at once must not share a request or scratch buffers/,
    ],
    [
      "prepare writes into the caller's weights",
      { prepareWritesWeights: true },
      'contract:inputs-untouched',
      /^prepare wrote into the caller's weights: kernel\[0, 1\] \(shape \[6, 57\]\) was -?\d.*, is now -?\d/,
    ],
  ] as const)('%s: its own contract check names it', async (_what, bugs, check, message) => {
    const { failed } = await run(planted(`planted-${check}-${Object.keys(bugs)[0]}`, bugs), { only: [...KERAS, ...CONTRACT] });
    // Weights written in place also corrupt the weights other checks compute their reference from.
    if ('prepareWritesWeights' in bugs) expect(failed.map((r) => r.name)).toContain(check);
    else expect(failed.map((r) => r.name)).toEqual([check]);
    expect(failure(failed, check)).toMatch(message);
  });

  it.each(['forwardSync throws while forward calls are pending', 'one overlapping forward call rejects at once'])(
    'contract:concurrent-calls: %s: the layer is disposed only after every call settled, and the check fails (the run goes on)',
    async (mode) => {
      const events: string[] = [];
      let inFlight = 0;
      const slow: GruBackend = {
        ...referenceBackend,
        name: `planted-slow-${mode.length}`,
        priority: 0,
        prepareSync: undefined,
        async prepare(spec, weights) {
          const inner = await referenceBackend.prepare(spec, weights);
          let disposed = false;
          return {
            spec: inner.spec,
            setWeights: (w) => inner.setWeights(w),
            async forward(req) {
              inFlight++;
              try {
                if (mode.startsWith('one') && req.batch === 2 && inFlight > 1) throw new Error('planted: an overlapping call fails');
                const r = await inner.forward(req);
                // Work that finishes later (a worker or a GPU queue); no timing is asserted.
                for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
                if (disposed) events.push(`forward(batch ${req.batch}) ran on after dispose()`);
                return r;
              } finally {
                inFlight--;
              }
            },
            forwardSync(req) {
              if (mode.startsWith('forwardSync') && inFlight > 0) throw new Error('planted: forwardSync while calls are pending');
              return (inner.forwardSync as NonNullable<typeof inner.forwardSync>)(req);
            },
            dispose() {
              disposed = true;
              events.push(`dispose() with ${inFlight} call(s) in flight`);
            },
          };
        },
      };
      const { failed } = await run(slow, { only: ['contract:concurrent-calls'], sweep: false });
      expect(failed.map((r) => r.name)).toEqual(['contract:concurrent-calls']);
      expect(events).toEqual(['dispose() with 0 call(s) in flight']);
    },
  );

  it('contract:set-weights and contract:request-read-once name a math bug as a difference from the reference', async () => {
    const bump = (r: ForwardResult) => ({ ...r, output: r.output.map((v, i) => (i === 1 ? v + 1e-3 : v)) });
    const { failed } = await run(planted('planted-math', { forward: bump }), { only: ['contract:set-weights', 'contract:request-read-once'], sweep: false });
    expect(failure(failed, 'contract:set-weights')).toMatch(
      /^forward before any setWeights: output at \[0, 0, 1\] .*: the result differs from the reference before setWeights was called \(case: /,
    );
    expect(failure(failed, 'contract:request-read-once')).toMatch(
      /^forward with a plain request \(no getters\): output at \[0, 0, 1\] .*: the result differs from the reference before any getter was tried \(case: /,
    );
  });

  it('a bug only at units >= 64: the seeded sweep against the reference finds it, with the [b, t, u] index', async () => {
    const lastUnit = (r: ForwardResult, _req: ForwardRequest, spec: GruSpec) => {
      if (spec.units < 64) return r;
      const output = r.output.slice();
      for (let i = spec.units - 1; i < output.length; i += spec.units) output[i] = 0;
      return { ...r, output };
    };
    const only = ['defaults_seq_state', 'reference:B=3 T=4 D=5 H=7 seed=1', 'reference:B=17 T=3 D=4 H=67 seed=2'];
    const { report, failed } = await run(planted('planted-large', { forward: lastUnit, forwardSync: lastUnit }), { only, contractChecks: false });
    expect(report.passed).toBe(2);
    expect(failed.map((r) => r.name)).toEqual(['reference:B=17 T=3 D=4 H=67 seed=2']);
    expect(failed[0].detail).toMatch(
      /^forward: output at \[\d+, \d+, 66\] of shape \[17, 3, 67\]: .* 51 of 3417 elements out of tolerance .*\(case: B=17 T=3 D=4 H=67 seed=2\)$/,
    );
  });

  it.each([
    [
      'batch >= 32 (row 32 zeroed)',
      (r: ForwardResult, req: ForwardRequest) => (req.batch < 32 ? r : zeroWhere(r, (i) => Math.floor(i / (r.output.length / req.batch)) === 32)),
      'reference:B=33 T=260 D=9 H=7 seed=6',
    ],
    [
      'units >= 128 (last unit zeroed)',
      (r: ForwardResult, _req: ForwardRequest, spec: GruSpec) => (spec.units < 128 ? r : zeroWhere(r, (i) => i % spec.units === spec.units - 1)),
      'reference:B=3 T=5 D=9 H=130 seed=7',
    ],
    [
      'timesteps > 256 (step 256 zeroed)',
      (r: ForwardResult, req: ForwardRequest, spec: GruSpec) =>
        req.timesteps <= 256 ? r : zeroWhere(r, (i) => Math.floor(i / spec.units) % req.timesteps === 256),
      'reference:B=33 T=260 D=9 H=7 seed=6',
    ],
  ])('a bug only at %s: the default sweep finds it', async (_what, bug, name) => {
    const { failed } = await run(planted(`planted-big-${name}`, { forward: bug, forwardSync: bug }), {
      sweep: { variants: [{}] },
      contractChecks: false,
      only: undefined,
      coreChecks: false,
    });
    expect(failed.map((r) => r.name)).toContain(name);
    expect(failed.every((r) => r.kind === 'reference')).toBe(true);
  });

  it('a float32 backward off by 0.1% in dKernel: the float32 gradient cases fail it, naming backward and the element', async () => {
    const off = (g: GruGradients): GruGradients => ({ ...g, dKernel: g.dKernel.map((v) => v * 1.001) });
    const only = ['grad_f32_defaults_seq', 'grad_f32_cell'];
    const { report, failed } = await run(planted('planted-backward', { backward: off }), { only, contractChecks: false, sweep: false });
    expect(report.passed).toBe(2); // the forward halves
    expect(failed.map((r) => r.name)).toEqual(['grad_f32_cell:grads', 'grad_f32_defaults_seq:grads']);
    expect(failure(failed, 'grad_f32_defaults_seq:grads')).toMatch(
      /^backward: d\/dkernel at \[\d+, \d+\] of shape \[4, 15\]: .* elements out of tolerance \(atol 0\.00002, rtol 0\.00002; .*\(case: units=5, .*dtype float32\)$/,
    );
    // The control: the reference backend's own float32 backward passes them.
    const ok = await run(planted('planted-backward-none', {}), { only, contractChecks: false, sweep: false });
    expect(ok.failed).toEqual([]);
    expect(ok.report.passed).toBe(4);
  });

  it("a backward taking the other one-sided derivative at hard_tanh's corners: reference:activation-kinks names the activation and the point", async () => {
    // The check's layer has one unit, one feature and one step: dx row i is at x[i]; zero it where x is exactly +-1.
    const openCorners = (g: GruGradients, spec: GruSpec, req: ForwardRequest | undefined): GruGradients =>
      spec.activation === 'hard_tanh' && req ? { ...g, dx: g.dx.map((v, i) => (Math.abs(req.x[i]) === 1 ? 0 : v)) } : g;
    const only = ['reference:activation-kinks'];
    const { failed } = await run(planted('planted-kinks', { backward: openCorners }), { only, contractChecks: false });
    expect(failed.map((r) => r.name)).toEqual(only);
    expect(failure(failed, only[0])).toMatch(/^gradients at breakpoints differ from the reference's: activation 'hard_tanh' at -1: dx 0, the reference 0\.5$/);
    const ok = await run(planted('planted-kinks-none', {}), { only, contractChecks: false });
    expect(ok.failed).toEqual([]);
    expect(ok.report.backendPassed).toBe(1);
  });

  it('a backward taking the other one-sided derivative of the recurrent activation in the reset gate only: reference:activation-kinks names the gate', async () => {
    // Only the reset-gate layout starts from a zero state with the recurrent activation under test
    // (the update-gate one starts from 1): zero dx there where x is exactly +-1.
    const openResetCorners = (g: GruGradients, spec: GruSpec, req: ForwardRequest | undefined): GruGradients =>
      spec.recurrentActivation === 'hard_tanh' && req?.initialState?.every((v) => v === 0)
        ? { ...g, dx: g.dx.map((v, i) => (Math.abs(req.x[i]) === 1 ? 0 : v)) }
        : g;
    const only = ['reference:activation-kinks'];
    const { failed } = await run(planted('planted-reset-kinks', { backward: openResetCorners }), { only, contractChecks: false });
    expect(failed.map((r) => r.name)).toEqual(only);
    expect(failure(failed, only[0])).toMatch(
      /^gradients at breakpoints differ from the reference's: recurrentActivation \(reset gate\) 'hard_tanh' at -1: dx 0, the reference 0\.4199\d+$/,
    );
  });

  it('a backend that drops the state carried between stateful calls: the call that continues is named', async () => {
    const only = ['stateful_seq', 'stateful_last_reset_before_mask', 'init_state_mask_right_pad', 'defaults_seq_state'];
    const { report, failed } = await run(planted('planted-drop-state', { dropCarriedState: true }), { only, contractChecks: false, sweep: false });
    // Explicit initial states and first calls are right: only the stateful sequences fail.
    expect(report.passed).toBe(2);
    expect(failed.map((r) => r.name)).toEqual(['stateful_last_reset_before_mask', 'stateful_seq']);
    for (const r of failed) {
      expect(r.detail, r.name).toMatch(
        /^step 1 \(call 2 \(continues from call 1's final state\)\) outputs\[0\] at \[\d+(, \d+)+\] of shape \[[\d, ]+\]: .* out of tolerance/,
      );
      expect(r.detail, r.name).toMatch(/\(case: .*stateful=true.*\)$/);
    }
    const control = await run(planted('planted-drop-state-none', {}), { only, contractChecks: false, sweep: false });
    expect(control.failed).toEqual([]);
    expect(control.report.passed).toBe(4);
  });

  it('results of the wrong typed-array type, wrong length or a missing lastState: core names the field', async () => {
    const cases: [string, Bugs['forward'], RegExp][] = [
      [
        'planted-f64',
        (r) => ({ ...r, output: Float64Array.from(r.output) }),
        /`output` must be a Float32Array of \d+ values \(\[batch \d+, timesteps \d+, units \d+\]\) for a float32 layer; received a Float64Array of \d+/,
      ],
      ['planted-array', (r) => ({ ...r, output: Array.from(r.output) }), /`output` must be a Float32Array .*received a plain Array of \d+/],
      [
        'planted-short',
        (r) => ({ ...r, lastState: r.lastState.subarray(1) }),
        /`lastState` must be a Float32Array of (\d+) values \(\[batch \d+, units \d+\]\).*received a Float32Array of \d+/,
      ],
      ['planted-no-state', (r) => ({ output: r.output }), /`lastState` must be a Float32Array of \d+ values.*received undefined \(missing\)/],
    ];
    for (const [name, bug, message] of cases) {
      const { failed } = await run(planted(name, { forward: bug, forwardSync: bug }), { only: ['defaults_seq_state', 'reference:B=3 T=4 D=5 H=7 seed=1'] });
      expect(
        failed.map((r) => r.name),
        name,
      ).toEqual(['defaults_seq_state', 'reference:B=3 T=4 D=5 H=7 seed=1']);
      for (const r of failed) expect(r.detail, `${name} ${r.name}`).toMatch(message);
    }
  });

  it('a backend that declines every call fails --strict (core-only checks do not count), and passes without it', async () => {
    const backend = planted('planted-declines', { declineAll: true });
    const lax = await runConformance(backend, { expectations: {} });
    expect(lax.failed).toBe(0);
    expect(lax.backendPassed).toBe(0);
    expect(lax.corePassed).toBeGreaterThan(50);
    const strict = await runConformance(backend, { expectations: {}, strict: true });
    expect(strict.strictProblems?.[0]).toMatch(/^no backend case ran on 'planted-declines'/);
    expect(
      strict.strictProblems?.some((p) =>
        /^defaults_seq_state was skipped but is not listed in the expectations: the planted backend declines every call/.test(p),
      ),
    ).toBe(true);
  });

  it('--strict accepts skips the expectations list by group', async () => {
    const backend = planted('planted-declines-listed', { declineAll: true });
    const report = await runConformance(backend, {
      only: ['defaults_seq_state', 'contract:set-weights'],
      sweep: false,
      strict: true,
      expectations: { unsupported: [{ reason: 'declines all', cases: ['defaults_seq_state'], match: '^contract:' }] },
    });
    expect(report.skipped).toBe(2);
    expect(report.strictProblems).toEqual([
      `no backend case ran on 'planted-declines-listed' (it declined or skipped every backend check): nothing about the backend was checked`,
    ]);
  });
});

/** `r` with the output elements `at` picks set to 0. */
function zeroWhere(r: ForwardResult, at: (i: number) => boolean): ForwardResult {
  const output = r.output.slice();
  for (let i = 0; i < output.length; i++) if (at(i)) output[i] = 0;
  return { ...r, output };
}
