/**
 * Worker threads that run one forward call together on gru-threads.wasm's shared memory: each
 * worker instantiates the module on that memory and runs its share of every step
 * (gruForwardPart, which synchronizes the workers with a barrier in shared memory). Works where
 * SharedArrayBuffer does: Node (worker_threads), and cross-origin-isolated pages (Web Workers).
 *
 * Control block (CONTROL_BYTES, in shared memory, i32 slots): [0] job number, bumped to start a
 * job; [1] command (RUN, BACKWARD or STOP); [2] workers finished with the current job; [4..4+ARGS) the
 * call's arguments, the number of workers
 * that compute and the pool's size; [28..31) the barrier (arrived, generation, sleepers);
 * bytes [SHARED_BYTES, +192) a call shared between the caller and worker 0 (assembly/shared-call.ts:
 * [job, args address, base] then each share's claim and done counts on a line of its own);
 * [BELL + i] worker i's doorbell, rung for every job it should look at, and [SLEEP + i] 1 while it
 * sleeps on it (so that ringing costs a notify only then).
 *
 * Between jobs a worker spins on its doorbell for SPIN_MS before it sleeps, so that back-to-back
 * small calls (a stream's steps) find it awake.
 */

const MAX_WORKERS = 256;
const SHARED_BYTES = 256;
const S_JOB = SHARED_BYTES / 4;
const S_ARGS = S_JOB + 1;
const S_BASE = S_JOB + 2;
/** Claim and done counts of share s at S_TAKEN + 16 * s and one after (assembly/shared-call.ts). */
const S_TAKEN = S_JOB + 16;
const BELL = 128;
const SLEEP = BELL + MAX_WORKERS;
export const CONTROL_BYTES = (SLEEP + MAX_WORKERS) * 4;
/** How long an idle worker spins on its doorbell before it sleeps, in ms. */
export const SPIN_MS = 0.1;
/**
 * Spins of a thread on a share the other holds before gruForwardShared returns to JavaScript
 * (a few microseconds), which then sleeps YIELD_MS where it may block: on a busy machine the
 * other thread may be waiting for this core, and spinning on would keep it waiting.
 */
const SHARED_SPINS = 1 << 11;
const YIELD_MS = 0.05;
/** gruForwardShared's counts are i32: they start again from 0 before they could overflow. */
const SHARED_COUNT_LIMIT = 1 << 30;
const JOB = 0;
const COMMAND = 1;
const FINISHED = 2;
const ARGS = 4;
const BARRIER = 28;
const RUN = 0;
const STOP = 1;
/** gruBackwardPart, whose arguments are in wasm memory at the address in the first argument slot. */
const BACKWARD = 2;
/** gruForwardPart's arguments before (worker, workers, sync). */
export const FORWARD_ARGS = 21;

/**
 * The workers' script, as source so that it needs no file next to the bundle: a Blob URL in
 * browsers, `eval` in Node. It blocks in Atomics.wait between jobs, which a worker may do.
 */
const WORKER_SOURCE = `"use strict";
let post, receive;
if (typeof self === 'undefined' || typeof self.postMessage !== 'function') {
  // An eval'd worker is a module where the parent runs with --input-type=module: no require.
  const { parentPort } = process.getBuiltinModule ? process.getBuiltinModule('node:worker_threads') : require('node:worker_threads');
  post = (m) => parentPort.postMessage(m);
  receive = (f) => parentPort.once('message', f);
} else {
  post = (m) => self.postMessage(m);
  receive = (f) => { self.onmessage = (e) => { self.onmessage = null; f(e.data); }; };
}
receive(({ module, memory, control, index }) => {
  let ctl, part, back, shared;
  try {
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    part = exports.gruForwardPart;
    back = exports.gruBackwardPart;
    shared = exports.gruForwardShared;
    ctl = new Int32Array(memory.buffer, control, ${CONTROL_BYTES / 4});
  } catch (err) {
    post({ type: 'error', index, message: String(err && err.message || err) });
    return;
  }
  post({ type: 'ready', index });
  const bell = ${BELL} + index, sleep = ${SLEEP} + index;
  const now = typeof performance === 'object' ? () => performance.now() : () => Date.now();
  let rung = 0, seen = 0, seenShared = 0;
  for (;;) {
    let b = Atomics.load(ctl, bell);
    if (b === rung) {
      const t0 = now();
      for (let n = 1; (b = Atomics.load(ctl, bell)) === rung; n++) {
        if ((n & 255) === 0 && now() - t0 > ${SPIN_MS}) {
          // Seq-cst: a caller that rings after this store sees it and notifies; one that rang
          // before it changed the bell, and the wait returns at once.
          Atomics.store(ctl, sleep, 1);
          Atomics.wait(ctl, bell, rung);
          Atomics.store(ctl, sleep, 0);
        }
      }
    }
    rung = b;
    if (index === 0) {
      // A shared call: its descriptor is read whole (the job word is 0 while the caller writes it).
      const sj = Atomics.load(ctl, ${S_JOB});
      const args = Atomics.load(ctl, ${S_ARGS}), base = Atomics.load(ctl, ${S_BASE});
      if (sj !== 0 && sj !== seenShared && Atomics.load(ctl, ${S_JOB}) === sj) {
        seenShared = sj;
        try {
          const done0 = ${S_TAKEN} + 1;
          for (let r = 0; (r = shared(args, 1, control + ${SHARED_BYTES}, base, sj, r, ${SHARED_SPINS})) >= 0; ) {
            Atomics.wait(ctl, done0, Atomics.load(ctl, done0), ${YIELD_MS});
          }
        } catch (err) {
          post({ type: 'error', index, message: String(err && err.message || err) });
          return;
        }
      }
    }
    const job = Atomics.load(ctl, ${JOB});
    if (job === seen) continue;
    seen = job;
    const command = Atomics.load(ctl, ${COMMAND});
    if (command === ${STOP}) return;
    const workers = ctl[${ARGS + FORWARD_ARGS}];
    if (index < workers) {
      try {
        if (command === ${BACKWARD}) back(ctl[${ARGS}], index, workers, control + ${BARRIER * 4});
        else part(...Array.from(ctl.subarray(${ARGS}, ${ARGS + FORWARD_ARGS})), index, workers, control + ${BARRIER * 4});
      } catch (err) {
        post({ type: 'error', index, message: String(err && err.message || err) });
        return;
      }
    }
    if (Atomics.add(ctl, ${FINISHED}, 1) === ctl[${ARGS + FORWARD_ARGS + 1}] - 1) post({ type: 'done', job });
  }
});
`;

interface PortLike {
  postMessage(message: unknown): void;
  terminate(): unknown;
  ref?(): void;
  unref?(): void;
}

type Message = { type: 'ready' | 'done' | 'error'; index?: number; job?: number; message?: string };

interface NodeWorkerThreads {
  Worker: new (
    source: string,
    options: { eval: true },
  ) => PortLike & {
    on(event: string, listener: (value: unknown) => void): void;
  };
}

interface RuntimeProcess {
  getBuiltinModule?: (id: string) => unknown;
  versions?: { node?: string };
}

const runtimeProcess = () => (globalThis as { process?: RuntimeProcess }).process;

async function nodeWorkerThreads(): Promise<NodeWorkerThreads | undefined> {
  const proc = runtimeProcess();
  if (!proc?.versions?.node) return undefined;
  const builtin = proc.getBuiltinModule?.('node:worker_threads') as NodeWorkerThreads | undefined;
  if (builtin) return builtin;
  const specifier = ['node', 'worker_threads'].join(':');
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as NodeWorkerThreads;
}

/** Why this runtime cannot run worker threads on shared WebAssembly memory, or undefined. */
export function threadsUnavailable(): string | undefined {
  if (typeof SharedArrayBuffer !== 'function') {
    return 'SharedArrayBuffer is not available (in a browser, the page must be cross-origin isolated: serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), so WebAssembly memory cannot be shared with workers';
  }
  if (!runtimeProcess()?.versions?.node && typeof (globalThis as { Worker?: unknown }).Worker !== 'function') {
    return 'this runtime has no Worker';
  }
  return undefined;
}

/** The number of hardware threads, or 1 where the runtime does not say. */
export async function hardwareThreads(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  const proc = runtimeProcess();
  if (proc?.versions?.node) {
    const os = (proc.getBuiltinModule?.('node:os') ?? (await import(/* @vite-ignore */ ['node', 'os'].join(':')))) as {
      availableParallelism?: () => number;
      cpus: () => unknown[];
    };
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return 1;
}

export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly ports: PortLike[];
  private queue: Promise<unknown> = Promise.resolve();
  private pending: { job: number; resolve: () => void; reject: (err: Error) => void } | undefined;
  private job = 0;
  private failure: string | undefined;
  /** Jobs enqueued and not yet settled. */
  private inFlight = 0;
  private sharedJob = 0;
  private sharedBase = 0;
  private readonly control: number;
  /** Whether this thread may block in Atomics.wait (not a browser's main thread). */
  private readonly canBlock: boolean;

  private constructor(memory: WebAssembly.Memory, control: number, ports: PortLike[]) {
    this.ctl = new Int32Array(memory.buffer as unknown as SharedArrayBuffer, control, CONTROL_BYTES / 4);
    this.ports = ports;
    this.control = control;
    let canBlock = true;
    try {
      // A value that differs: returns at once where blocking is allowed, throws where it is not.
      Atomics.wait(this.ctl, S_JOB + 3, 1, 0);
    } catch {
      canBlock = false;
    }
    this.canBlock = canBlock;
  }

  /** True when no job is queued or running and no worker failed: a shared call may use worker 0. */
  get idle(): boolean {
    return this.inFlight === 0 && this.failure === undefined;
  }

  /**
   * Runs the forward call whose gruForward arguments are the i32 at `args` on this thread and
   * worker 0 (assembly/shared-call.ts), `phases` phases of it (forwardPhases), and returns when it
   * is done. Only while `idle`. A worker that is asleep or away leaves its share to this thread;
   * one that holds a share for `patienceMs` (it died mid-step) breaks the pool, and this throws.
   */
  runShared(
    exports: { gruForwardShared(args: number, self: number, sync: number, base: number, job: number, from: number, spins: number): number },
    args: number,
    phases: number,
    patienceMs = 10_000,
  ): void {
    const ctl = this.ctl;
    let base = this.sharedBase;
    Atomics.store(ctl, S_JOB, 0);
    if (base + phases > SHARED_COUNT_LIMIT) {
      // No worker can claim a share of a call that is over: a late one finds the job changed.
      for (let s = 0; s < 2; s++) {
        Atomics.store(ctl, S_TAKEN + 16 * s, 0);
        Atomics.store(ctl, S_TAKEN + 16 * s + 1, 0);
      }
      base = 0;
    }
    const job = (this.sharedJob = (this.sharedJob % 0x7ffffffe) + 1);
    Atomics.store(ctl, S_ARGS, args);
    Atomics.store(ctl, S_BASE, base);
    Atomics.store(ctl, S_JOB, job);
    this.ring(0);
    const sync = this.control + SHARED_BYTES;
    let r = exports.gruForwardShared(args, 0, sync, base, job, 0, SHARED_SPINS);
    if (r >= 0) {
      const t0 = performance.now();
      const done1 = S_TAKEN + 16 + 1;
      while (r >= 0) {
        if (this.canBlock) Atomics.wait(ctl, done1, Atomics.load(ctl, done1), YIELD_MS);
        if (performance.now() - t0 > patienceMs) {
          const why = `worker 0 held its share of a step for over ${patienceMs} ms`;
          this.receive({ type: 'error', message: why });
          throw new Error(`the wasm worker threads failed: ${why}`);
        }
        r = exports.gruForwardShared(args, 0, sync, base, job, r, SHARED_SPINS);
      }
    }
    this.sharedBase = base + phases;
  }

  /** Rings worker i's doorbell, waking it only if it sleeps. */
  private ring(i: number): void {
    Atomics.add(this.ctl, BELL + i, 1);
    if (Atomics.load(this.ctl, SLEEP + i) !== 0) Atomics.notify(this.ctl, BELL + i);
  }

  get size(): number {
    return this.ports.length;
  }

  /** Why the pool can no longer run jobs (a worker failed or exited), or undefined. */
  get broken(): string | undefined {
    return this.failure;
  }

  /**
   * Starts `size` workers on gru-threads.wasm (`module`) and the shared `memory`; `control` is
   * the address of a zeroed CONTROL_BYTES block in that memory. Resolves once every worker has
   * instantiated the module.
   */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, control: number, size: number): Promise<ThreadPool> {
    const ports: PortLike[] = [];
    const listeners: ((m: Message) => void)[] = [];
    const onMessage = (m: Message) => listeners.forEach((f) => f(m));
    const onFailure = (why: string) => onMessage({ type: 'error', message: why });
    const threads = await nodeWorkerThreads();
    const url = threads ? '' : URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    for (let index = 0; index < size; index++) {
      if (threads) {
        const worker = new threads.Worker(WORKER_SOURCE, { eval: true });
        worker.on('message', (m) => onMessage(m as Message));
        worker.on('error', (err) => onFailure(`a worker thread failed: ${(err as Error).message}`));
        worker.on('exit', (code) => onFailure(`a worker thread exited (code ${String(code)})`));
        ports.push(worker);
      } else {
        const worker = new Worker(url);
        worker.onmessage = (e) => onMessage(e.data as Message);
        worker.onerror = (e) => onFailure(`a worker failed: ${e.message}`);
        ports.push(worker);
      }
    }
    const pool = new ThreadPool(memory, control, ports);
    listeners.push((m) => pool.receive(m));
    let ready = 0;
    await new Promise<void>((resolve, reject) => {
      listeners.push((m) => {
        if (m.type === 'ready' && ++ready === size) resolve();
        if (m.type === 'error') reject(new Error(m.message));
      });
      ports.forEach((port, index) => port.postMessage({ module, memory, control, index }));
    })
      .catch((err: Error) => {
        pool.terminate();
        throw new Error(`could not start ${size} wasm worker threads: ${err.message}`);
      })
      .finally(() => url && URL.revokeObjectURL(url));
    // Idle workers must not keep Node running; a job refs them while it runs.
    ports.forEach((p) => p.unref?.());
    return pool;
  }

  private receive(m: Message): void {
    if (m.type === 'error' && !this.failure) {
      this.failure = m.message ?? 'a worker failed';
      this.pending?.reject(new Error(`the wasm worker threads failed: ${this.failure}`));
      this.pending = undefined;
      this.terminate();
    } else if (m.type === 'done' && this.pending && m.job === this.pending.job) {
      this.pending.resolve();
      this.pending = undefined;
    }
  }

  /**
   * Runs gruForwardPart's first FORWARD_ARGS arguments on `workers` of the pool's threads (the
   * others take the job and finish at once). Jobs run one at a time, in call order.
   */
  run(args: readonly number[], workers: number): Promise<void> {
    if (args.length !== FORWARD_ARGS) throw new Error(`ThreadPool.run: expected ${FORWARD_ARGS} arguments, received ${args.length}`);
    return this.enqueue(args, workers, RUN);
  }

  /**
   * Runs gruBackwardPart on `workers` of the pool's threads, with gruBackward's arguments as i32
   * in wasm memory at `args`.
   */
  runBackward(args: number, workers: number): Promise<void> {
    return this.enqueue([args, ...new Array<number>(FORWARD_ARGS - 1).fill(0)], workers, BACKWARD);
  }

  private enqueue(args: readonly number[], workers: number, command: number): Promise<void> {
    this.inFlight++;
    const next = this.queue.then(() => this.start(args, Math.max(1, Math.min(workers, this.size)), command));
    this.queue = next.catch(() => undefined).finally(() => this.inFlight--);
    return next;
  }

  private start(args: readonly number[], workers: number, command: number): Promise<void> {
    if (this.failure) return Promise.reject(new Error(`the wasm worker threads failed earlier: ${this.failure}`));
    const ctl = this.ctl;
    // No worker touches the job's slots between jobs: the previous job's last worker has
    // counted itself finished, and each waits on its doorbell. (Only those slots: the shared
    // calls' counts, the doorbells and the sleep flags live on across jobs.)
    ctl.fill(0, ARGS, BARRIER + 3);
    args.forEach((v, i) => (ctl[ARGS + i] = v | 0));
    ctl[ARGS + FORWARD_ARGS] = workers;
    ctl[ARGS + FORWARD_ARGS + 1] = this.size;
    Atomics.store(ctl, FINISHED, 0);
    Atomics.store(ctl, COMMAND, command);
    const job = ++this.job;
    const done = new Promise<void>((resolve, reject) => (this.pending = { job, resolve, reject }));
    // Node would exit with a job in flight if nothing else kept the event loop alive.
    this.ports.forEach((p) => p.ref?.());
    Atomics.store(ctl, JOB, job);
    for (let i = 0; i < this.size; i++) this.ring(i);
    return done.finally(() => this.ports.forEach((p) => p.unref?.()));
  }

  /** Stops the workers (a running job is abandoned). */
  terminate(): void {
    this.failure ??= 'the pool was terminated';
    Atomics.store(this.ctl, COMMAND, STOP);
    Atomics.add(this.ctl, JOB, 1);
    for (let i = 0; i < this.ports.length; i++) this.ring(i);
    for (const port of this.ports) port.terminate();
    this.pending?.reject(new Error('the wasm worker threads were terminated'));
    this.pending = undefined;
  }
}
