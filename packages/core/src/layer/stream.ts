import type { BoundForward, BoundForwardRequest, ForwardRequest, PreparedGru } from '../backend/types.js';
import { valueError } from '../errors.js';
import { arrayFor, type DType, type FloatArray } from '../tensor.js';

/** Options of `GRU.stream()`. */
export interface GruStreamOptions {
  /** Run on this backend only (default: the layer's `backend` option, else the best synchronous backend). */
  backend?: string;
  /** The batch size, when the layer was built without one (a stateful layer's first call or `build()` fixes it). */
  batch?: number;
  /** Input features, when the layer is not built yet. */
  features?: number;
}

/** A bound call on a prepared layer, held for as long as the stream uses it. */
export interface StreamBinding {
  readonly call: BoundForward;
  /** The backend's prepared layer was retired (new weights, dispose): bind again. */
  stale(): boolean;
  release(): void;
}

/**
 * What a stream needs of its stateful layer: the layer's state and weights version, and a way to
 * bind a request on the backend the stream chose. Made by `GRU.stream()`.
 */
export interface StreamHost {
  readonly name: string;
  readonly dtype: DType;
  readonly units: number;
  readonly features: number;
  readonly batch: number;
  readonly backend: string;
  /** The layer's state now (null before it has one). */
  state(): FloatArray | null;
  /** Makes `s` the layer's state (the stream owns it and never hands it out for writing). */
  setState(s: FloatArray): void;
  /** Why the layer cannot take a step now (async calls in flight), or undefined. */
  busy(): string | undefined;
  weightsVersion(): number;
  bind(request: BoundForwardRequest): StreamBinding;
}

/**
 * A stateful GRU fed one timestep at a time (keyword spotting, sensor streams, token-by-token
 * decoding), from `GRU.stream()`. Each `step()` is exactly the layer's call on a sequence of one
 * step, `gru.forwardSync(x [batch, 1, features])`, continuing from and updating the layer's state
 * (`gru.states`, `gru.resetStates()` and other calls see the same state), but the call is checked
 * and its buffers laid out once, when the stream is made: a step allocates nothing.
 *
 * Steps run in inference mode (no dropout) without a mask, and do not update `gru.losses` or what
 * `backward()` differentiates. New weights (`setWeights`) take effect at the next step.
 */
export class GruStream<D extends FloatArray = FloatArray> {
  /** The rows of a step. */
  readonly batch: number;
  /** Input features per row. */
  readonly features: number;
  readonly units: number;
  /** The backend the steps run on. */
  readonly backend: string;
  /**
   * A step's inputs, [batch, features]: write them here and call `step()` without arguments to
   * skip the copy.
   */
  readonly input: D;
  /** The last step's output [batch, units], overwritten by every step. */
  readonly output: D;
  /** Two state buffers: each step reads one and writes the other (a backend never runs in place). */
  private readonly states: [D, D];
  /** The byte lengths of the two buffers: 0 once one is transferred (postMessage) or detached. */
  private readonly bytes: [number, number];
  private current = 0;
  private bindings: [StreamBinding, StreamBinding] | undefined;
  private version = -1;
  private closed = false;

  constructor(private readonly host: StreamHost) {
    const { dtype, batch, features, units } = host;
    this.batch = batch;
    this.features = features;
    this.units = units;
    this.backend = host.backend;
    // Two buffers, not four: a backend that checks before each step that its arrays are still
    // attached checks two. The states (one of which is the layer's state) are apart from what the
    // caller holds, so transferring a step's output or input (postMessage) cannot detach the layer's
    // state with it.
    const n = batch * features,
      m = batch * units;
    const io = arrayFor(dtype, n + m);
    const both = arrayFor(dtype, 2 * m);
    this.bytes = [io.byteLength, both.byteLength];
    this.input = io.subarray(0, n) as D;
    this.output = io.subarray(n, n + m) as D;
    this.states = [both.subarray(0, m) as D, both.subarray(m, 2 * m) as D];
    this.bind();
  }

  /**
   * Runs one timestep. `x` is the step's input [batch, features], flat (omit it after writing
   * `input`). Returns the output [batch, units]: `out` when given (filled), else `output`, which
   * the next step overwrites. The layer's state is updated as a call of one step updates it.
   */
  step(x?: ArrayLike<number>, out?: D): D {
    if (this.closed) throw valueError(`Layer '${this.host.name}': this stream was closed; make another with gru.stream().`);
    const busy = this.host.busy();
    if (busy) throw valueError(`Layer '${this.host.name}': ${busy}`);
    if (this.input.buffer.byteLength !== this.bytes[0] || this.states[0].buffer.byteLength !== this.bytes[1]) {
      throw valueError(
        `Layer '${this.host.name}': this stream's ${this.input.buffer.byteLength !== this.bytes[0] ? 'input/output' : 'state'} buffer was transferred or detached ` +
          "(postMessage with a transfer list?); pass step() an `out` array to keep a step's output, and make another stream with gru.stream().",
      );
    }
    if (x !== undefined && x !== this.input) {
      if (x === null || typeof x !== 'object' || x.length !== this.input.length) {
        throw valueError(
          `Layer '${this.host.name}': step(x) expects \`x\`, one step's input [batch, features] = [${this.batch}, ${this.features}], as ${this.input.length} values (flat); ` +
            `received ${x === null || typeof x !== 'object' ? String(x) : `${x.length} values${x.length === 0 && isDetached(x) ? ' (its buffer was transferred or detached: postMessage with a transfer list?)' : ''}`}.`,
        );
      }
      this.input.set(x);
    }
    if (out !== undefined && (out === null || typeof out !== 'object' || out.length !== this.output.length || typeof out.set !== 'function')) {
      throw valueError(
        `Layer '${this.host.name}': step()'s \`out\` must be a typed array of [batch, units] = [${this.batch}, ${this.units}] (${this.output.length} values); received ${describe(out)}.`,
      );
    }
    const current = this.current;
    const binding = this.fresh(current);
    // The layer's state may have been replaced since the last step (resetStates(), a call).
    const from = this.states[current];
    const state = this.host.state();
    if (state === null) from.fill(0);
    else if (state !== from) from.set(state);
    binding.call.run();
    this.current = current ^ 1;
    this.host.setState(this.states[current ^ 1]);
    if (!out) return this.output;
    out.set(this.output);
    return out;
  }

  /** Releases the backend's hold on the stream's buffers. The layer and its state stay as they are. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unbind();
    // The layer keeps a state no stream writes anymore.
    const state = this.host.state();
    if (state === this.states[0] || state === this.states[1]) this.host.setState(state.slice());
  }

  /**
   * The binding that reads state buffer `from`, for the layer's current weights. Only that one is
   * asked whether it is stale (the other is asked before it runs): a step checks one.
   */
  private fresh(from: number): StreamBinding {
    const b = this.bindings;
    if (b && this.version === this.host.weightsVersion() && !b[from].stale()) return b[from];
    return this.bind()[from];
  }

  private bind(): [StreamBinding, StreamBinding] {
    this.unbind();
    this.version = this.host.weightsVersion();
    const request = (from: number): BoundForwardRequest => ({
      x: this.input,
      batch: this.batch,
      timesteps: 1,
      initialState: this.states[from],
      goBackwards: false,
      returnSequences: false,
      output: this.output,
      lastState: this.states[from ^ 1],
    });
    const first = this.host.bind(request(0));
    try {
      this.bindings = [first, this.host.bind(request(1))];
    } catch (err) {
      first.release();
      throw err;
    }
    return this.bindings;
  }

  private unbind(): void {
    if (!this.bindings) return;
    for (const b of this.bindings) b.release();
    this.bindings = undefined;
  }
}

function describe(v: unknown): string {
  if (v === null || typeof v !== 'object') return String(v);
  const length = (v as { length?: unknown }).length;
  return `${v.constructor?.name ?? 'an object'}${typeof length === 'number' ? ` of ${length} values` : ''}`;
}

/**
 * A bound call for backends without `bindForward`: each run is a `forwardSync` of the request,
 * its results copied into the bound outputs (so it allocates what forwardSync allocates).
 */
export function bindBySync(prepared: PreparedGru, request: BoundForwardRequest): BoundForward {
  const forwardSync = prepared.forwardSync;
  if (!forwardSync) throw valueError('this backend has no synchronous forward, which a stream needs.');
  const { output, lastState, ...call } = request;
  const plain: ForwardRequest = call;
  let disposed = false;
  return {
    run() {
      if (disposed) throw valueError('this bound call was disposed.');
      const r = forwardSync.call(prepared, plain);
      output.set(r.output);
      lastState.set(r.lastState);
    },
    dispose() {
      disposed = true;
    },
  };
}

/** Whether `x` is a typed array (or DataView) whose ArrayBuffer was transferred or detached. */
function isDetached(x: object): boolean {
  if (!ArrayBuffer.isView(x)) return false;
  const buffer = x.buffer as ArrayBuffer & { detached?: boolean };
  // ArrayBuffer.prototype.detached is Node 22+; before it, a detached buffer is the one of length 0 that cannot be sliced.
  if (typeof buffer.detached === 'boolean') return buffer.detached;
  if (buffer.byteLength !== 0 || (typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer)) return false;
  try {
    buffer.slice(0);
    return false;
  } catch {
    return true;
  }
}
