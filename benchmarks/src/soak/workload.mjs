/**
 * The layers a soak calls over and over: a few shapes and options users run in services (one step
 * of one sequence, a masked batch returning sequences and state, a stateful stream reset now and
 * then). Inputs are made once; each call also checks its result, so a wrong answer is a failure,
 * not just a leak-free one.
 */

/**
 * Deterministic values in [-1, 1).
 * @param {number} n
 * @param {number} seed
 */
function values(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * @param {typeof import('@gru/core')} core
 * @param {string} backend  the registered backend name every call runs on
 */
export function makeWorkload(core, backend) {
  const specs = [
    { about: 'one step of one sequence', layer: { units: 128 }, B: 1, T: 1, D: 64 },
    { about: 'masked batch, sequences and state', layer: { units: 32, returnSequences: true, returnState: true }, B: 4, T: 20, D: 8, masked: true },
    { about: 'stateful stream', layer: { units: 16, stateful: true }, B: 2, T: 5, D: 4, resetEvery: 100 },
  ];
  const items = specs.map((s, k) => {
    const gru = new core.GRU({ ...s.layer, seed: 7 + k, backend });
    const x = { shape: [s.B, s.T, s.D], data: values(s.B * s.T * s.D, 11 + k) };
    const mask = s.masked ? Array.from({ length: s.B }, (_, b) => Array.from({ length: s.T }, (_, t) => (t < s.T - b ? 1 : 0))) : undefined;
    const outLength = s.layer.returnSequences ? s.B * s.T * s.layer.units : s.B * s.layer.units;
    return { ...s, gru, x, mask, outLength, calls: 0 };
  });

  /**
   * One call on layer `i % items.length`; throws when the result is not what it must be.
   * @param {number} i
   */
  async function call(i) {
    const item = items[i % items.length];
    if (item.resetEvery && item.calls % item.resetEvery === 0) item.gru.resetStates();
    item.calls++;
    const r = await item.gru.forward(item.x, item.mask ? { mask: item.mask } : {});
    if (r.backend !== backend) throw new Error(`soak: a call ran on '${r.backend}', not '${backend}'`);
    if (r.output.data.length !== item.outLength) {
      throw new Error(`soak: '${item.about}' returned ${r.output.data.length} values, expected ${item.outLength}`);
    }
    for (const v of r.output.data) if (!Number.isFinite(v) || Math.abs(v) > 1) throw new Error(`soak: '${item.about}' returned ${v}, outside tanh's range`);
  }

  /**
   * A call large enough to run off the calling thread on every backend (tens of millions of
   * multiply-adds: a native worker thread, wasm workers, a GPU queue), to be interrupted.
   */
  /** @type {{ gru: import('@gru/core').GRU, x: import('@gru/core').Tensor } | undefined} */
  let large;
  async function callLarge() {
    large ??= { gru: new core.GRU({ units: 128, seed: 5, backend }), x: { shape: [16, 32, 64], data: values(16 * 32 * 64, 5) } };
    await large.gru.forward(large.x);
  }

  function dispose() {
    large?.gru.dispose();
    for (const item of items) item.gru.dispose();
  }

  return { call, callLarge, dispose, layers: items.map((s) => s.about) };
}
