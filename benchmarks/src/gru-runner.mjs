/**
 * Makes the runner for a gru backend: the public layer (`new GRU({..., backend})` from
 * @gru/core, `forward()` awaited) with seeded weights, so the time includes what a user's call
 * costs (input copy, validation, selection), not just the kernel.
 *
 * @typedef {import('./shapes.mjs').Shape} Shape
 * @typedef {import('./discover.mjs').Runner} Runner
 * @typedef {import('./discover.mjs').Prepared} Prepared
 * @typedef {typeof import('@gru/core')} Core
 * @typedef {import('@gru/core').GruOptions} GruOptions
 *
 * @typedef {object} GruRunnerOptions
 * @property {string} [name]   default 'gru:<backend>'
 * @property {string} [note]
 * @property {(shape: Shape) => boolean} [slow]
 * @property {boolean} [sync]  time `forwardSync()` instead of `forward()`
 * @property {boolean} [stream]  time a stateful layer's `stream()`: a pass is T `step()` calls of B rows
 *   (what a streaming user's loop costs: its µs per step is the median ÷ T)
 * @property {Partial<GruOptions>} [layer]  more layer options (resetAfter, activation, dtype...)
 * @property {string[]} [nodeFlags]  flags the runner's child process starts with (see discover.mjs)
 * @property {string} [isa]  the backend must have loaded this instruction set (its `isa`), else the
 *   runner is unavailable: a relaxed-SIMD row must not silently time the plain build
 */
import { inputFor, kerasWeights } from './data.mjs';

/**
 * @param {string} backend         the registered backend name ('reference', 'cpu', 'wasm', ...)
 * @param {() => Promise<unknown>} importPackage   imports the package that registers it
 * @param {GruRunnerOptions} [options]
 * @returns {Runner}
 */
export function gruRunner(backend, importPackage, options = {}) {
  /** @type {Promise<Core | string> | undefined} */
  let loading;
  /** Imports core and the package once, then loads the backend; a string says why it cannot. */
  const load = () =>
    (loading ??= (async () => {
      /** @type {Core} */
      const core = await import('@gru/core');
      await importPackage();
      const b = core.getBackend(backend);
      if (!b) {
        return `importing its package registered no backend named '${backend}' (registered: ${core
          .listBackends()
          .map((x) => x.name)
          .join(', ')})`;
      }
      try {
        await core.loadBackend(b);
      } catch (err) {
        return `backend '${backend}' failed to load: ${err instanceof Error ? err.message : String(err)}`;
      }
      const isa = /** @type {{ isa?: unknown }} */ (b).isa;
      if (options.isa !== undefined && isa !== options.isa) {
        const flags = options.nodeFlags?.length
          ? ` (this process runs with [${process.execArgv.join(' ')}]; the runner's child gets ${options.nodeFlags.join(' ')}, --in-process does not)`
          : '';
        return `backend '${backend}' loaded instruction set ${JSON.stringify(isa)}, not '${options.isa}'${flags}`;
      }
      return core;
    })().catch((err) => {
      const e = /** @type {NodeJS.ErrnoException} */ (err);
      const hint = e.code === 'ERR_MODULE_NOT_FOUND' ? ' (is the package built, and a dependency of benchmarks/package.json?)' : '';
      return `cannot import the '${backend}' backend: ${e.message}${hint}`;
    }));

  return {
    name: options.name ?? `gru:${backend}`,
    kind: 'gru',
    note: options.note,
    slow: options.slow,
    nodeFlags: options.nodeFlags,
    async available() {
      const core = await load();
      return typeof core === 'string' ? core : true;
    },
    /** @returns {Promise<Prepared | string>} */
    async setup(shape) {
      const core = await load();
      if (typeof core === 'string') return core;
      const { B, T, D, H } = shape;
      const layer = new core.GRU({ ...options.layer, units: H, returnSequences: false, backend, ...(options.stream ? { stateful: true } : {}) });
      const c = layer.config;
      // setWeights builds the layer without running initializers (orthogonal on 512 units takes seconds).
      const w = kerasWeights(shape, { resetAfter: c.resetAfter, useBias: c.useBias });
      layer.setWeights({
        kernel: { shape: [D, 3 * H], data: w.kernel },
        recurrentKernel: { shape: [H, 3 * H], data: w.recurrentKernel },
        bias: w.bias && { shape: c.resetAfter ? [2, 3 * H] : [3 * H], data: w.bias },
      });
      /** @type {import('@gru/core').GruCallInfo} */
      const call = {
        batch: B,
        timesteps: T,
        mask: 'none',
        initialState: false,
        goBackwards: c.goBackwards,
        returnSequences: false,
        inputDropoutPerGate: false,
        recurrentDropout: false,
        recurrentDropoutRate: c.recurrentDropout,
        training: false,
        backward: false,
        unroll: c.unroll,
      };
      try {
        core.selectBackend(layer.cell.spec(), call, { backend, useCudnn: c.useCudnn, sync: options.sync === true || options.stream === true });
      } catch (err) {
        if (err instanceof core.UnsupportedCallError) return err.reason;
        throw err;
      }
      const x = { shape: [B, T, D], data: inputFor(shape) };
      const simd = simdOf(core.getBackend(backend));
      const pool = poolStatsOf(core.getBackend(backend));
      if (options.stream) return { ...streamPass(layer, x.data, shape, backend), ...simd, ...pool };
      let checked = false;
      return {
        ...simd,
        ...pool,
        run: async () => {
          const result = options.sync ? layer.forwardSync(x) : await layer.forward(x);
          if (!checked) {
            checkResult(result, backend, B * H);
            checked = true;
          }
        },
        dispose: () => layer.dispose(),
      };
    },
  };
}

/**
 * The flags a child process needs for WebAssembly relaxed SIMD: V8 shipped it in 11.4 (Node 21+);
 * before that (Node 20's V8 11.3) it is behind --experimental-wasm-relaxed-simd. Engines that ship it
 * get no flag, since a flag V8 later drops would stop Node from starting.
 * @param {string} [v8Version]   default: this process's
 * @returns {string[]}
 */
export function relaxedSimdFlags(v8Version = process.versions.v8) {
  const [major, minor] = v8Version.split('.').map(Number);
  return major > 11 || (major === 11 && minor >= 4) ? [] : ['--experimental-wasm-relaxed-simd'];
}

/**
 * The cpu backend's pool counters (`poolStats()`: calls shared with pool threads, or run alone and
 * why), where the backend has them: a row where two threads are no faster than one then says
 * whether its calls were shared at all.
 * @param {unknown} b
 * @returns {{ poolStats?: () => Record<string, number> }}
 */
function poolStatsOf(b) {
  const withStats = /** @type {{ poolStats?: unknown }} */ (b ?? {});
  if (typeof withStats.poolStats !== 'function') return {};
  const read = /** @type {() => Record<string, number>} */ (withStats.poolStats);
  return { poolStats: () => ({ ...read.call(b) }) };
}

/**
 * The instruction set a backend's kernels use, where it says: the cpu backend's `isa` (avx512,
 * avx2, sse, neon), SIMD128 for wasm.
 * @param {unknown} b
 * @returns {{ simd?: string }}
 */
function simdOf(b) {
  const named = /** @type {{ name?: string, isa?: unknown }} */ (b ?? {});
  if (typeof named.isa === 'string') return { simd: named.isa };
  if (typeof named.name === 'string' && named.name.startsWith('wasm')) return { simd: 'simd128' };
  return {};
}

/**
 * A pass of T steps through `layer.stream()`: step t's B rows are copied into the stream's input
 * (as a user's loop would get them), then stepped. The first pass checks the output.
 * @param {import('@gru/core').GRU} layer   stateful, weights set
 * @param {Float32Array} x   [B, T, D]
 * @param {Shape} shape
 * @param {string} backend
 * @returns {Prepared}
 */
function streamPass(layer, x, { B, T, D, H }, backend) {
  layer.build([B, null, D]);
  const stream = layer.stream();
  if (stream.backend !== backend) throw new Error(`the stream runs on backend '${stream.backend}', not '${backend}'.`);
  const input = stream.input;
  // Each step's rows as views made once, so the timed loop allocates nothing (as a streaming user's would not).
  const rows = Array.from({ length: T * B }, (_, i) => {
    const t = Math.floor(i / B);
    const b = i % B;
    return x.subarray((b * T + t) * D, (b * T + t + 1) * D);
  });
  let checked = false;
  return {
    stepsPerPass: T,
    // Synchronous, so the timing loop does not await it (an await costs about as much as a step).
    run: () => {
      let out = stream.output;
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) input.set(rows[t * B + b], b * D);
        out = stream.step();
      }
      if (!checked) {
        checkResult({ backend: stream.backend, output: { shape: [B, H], data: out } }, backend, B * H);
        checked = true;
      }
    },
    dispose: () => {
      stream.close();
      layer.dispose();
    },
  };
}

/**
 * A backend that silently fell back or returned garbage would make its timing meaningless,
 * so the first pass is checked.
 * @param {Pick<import('@gru/core').GruResult, 'backend' | 'output'>} result
 * @param {string} backend
 * @param {number} size
 */
function checkResult(result, backend, size) {
  if (result.backend !== backend) throw new Error(`the call ran on backend '${result.backend}', not '${backend}'.`);
  const out = result.output.data;
  if (out.length !== size) throw new Error(`backend '${backend}' returned ${out.length} output values; expected ${size} (batch × units).`);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new Error(`backend '${backend}' returned a non-finite output (${out[i]} at index ${i}).`);
  }
}
