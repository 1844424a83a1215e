/**
 * Worker threads that run one forward call together on gru-threads.wasm's shared memory: each
 * worker instantiates the module on that memory and runs its share of every step
 * (gruForwardPart, which synchronizes the workers with a barrier in shared memory). Works where
 * SharedArrayBuffer does: Node (worker_threads), and cross-origin-isolated pages (Web Workers).
 *
 * Control block (CONTROL_BYTES, in shared memory, i32 slots): [0] job number, bumped to start a
 * job; [1] command (RUN, BACKWARD or STOP); [2] workers finished with the current job; [4..4+ARGS) the
 * call's arguments, the number of workers
 * that compute and the pool's size; [28..31) the barrier (arrived, generation, sleepers).
 */

export const CONTROL_BYTES = 128;
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
// The parent made this worker with worker_threads wherever process.versions.node is set (Node,
// Bun, Deno): answer on parentPort there. Bun's worker_threads workers also have a self.postMessage,
// but the parent's messages never reach self.onmessage: choosing by self hung the pool's start.
// An eval'd worker is a module where the parent runs with --input-type=module: no require.
const nodeThreads = typeof process === 'object' && process !== null && process.versions && process.versions.node
  ? (process.getBuiltinModule ? process.getBuiltinModule('node:worker_threads') : typeof require === 'function' ? require('node:worker_threads') : undefined)
  : undefined;
const parentPort = nodeThreads && nodeThreads.parentPort;
if (parentPort) {
  post = (m) => parentPort.postMessage(m);
  receive = (f) => parentPort.once('message', f);
} else {
  post = (m) => self.postMessage(m);
  receive = (f) => { self.onmessage = (e) => { self.onmessage = null; f(e.data); }; };
}
receive(({ module, memory, control, index }) => {
  let ctl, part, back;
  try {
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    part = exports.gruForwardPart;
    back = exports.gruBackwardPart;
    ctl = new Int32Array(memory.buffer, control, ${CONTROL_BYTES / 4});
  } catch (err) {
    post({ type: 'error', index, message: String(err && err.message || err) });
    return;
  }
  post({ type: 'ready', index });
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, ${JOB}, seen);
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

type NodeWorker = InstanceType<NodeWorkerThreads['Worker']>;

/**
 * Why creating a worker threw. Node's permission model (--permission or --experimental-permission
 * without --allow-worker) refuses with ERR_ACCESS_DENIED; the file loaded fine, so say what did not.
 */
function workerRefusal(err: unknown, node: boolean): string {
  const message = err instanceof Error ? err.message : String(err);
  if ((err as { code?: unknown } | null)?.code === 'ERR_ACCESS_DENIED') {
    return `creating worker threads was refused (${message}): Node's permission model is on, so run it with --allow-worker, or use threads: 1`;
  }
  return `creating a ${node ? 'worker thread' : 'worker'} failed (${message}); threads: 1 runs without workers`;
}

/** Why this runtime cannot run worker threads on shared WebAssembly memory, or undefined. */
export function threadsUnavailable(): string | undefined {
  // First: a context without workers (a SharedWorker, a service worker) is not isolated either,
  // and headers would not help it.
  if (!runtimeProcess()?.versions?.node && typeof (globalThis as { Worker?: unknown }).Worker !== 'function') {
    return 'this context cannot start workers (it has no Worker constructor, as in a SharedWorker, a service worker or an edge runtime); use threads: 1';
  }
  if (typeof SharedArrayBuffer !== 'function') {
    return 'SharedArrayBuffer is not available (in a browser, the page must be cross-origin isolated: serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), so WebAssembly memory cannot be shared with workers';
  }
  return undefined;
}

/** How long ThreadPool.start waits for every worker to report ready. */
const START_TIMEOUT_MS = 60_000;

/** For tests only: code run in each worker before its script, and a shorter start timeout. */
export interface PoolStartTesting {
  workerPrelude?: string;
  startTimeoutMs?: number;
}

export class ThreadPool {
  private readonly ctl: Int32Array;
  private readonly ports: PortLike[];
  private queue: Promise<unknown> = Promise.resolve();
  private pending: { job: number; resolve: () => void; reject: (err: Error) => void } | undefined;
  private job = 0;
  private failure: string | undefined;

  private constructor(memory: WebAssembly.Memory, control: number, ports: PortLike[]) {
    this.ctl = new Int32Array(memory.buffer as unknown as SharedArrayBuffer, control, CONTROL_BYTES / 4);
    this.ports = ports;
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
  static async start(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    control: number,
    size: number,
    testing: PoolStartTesting = {},
  ): Promise<ThreadPool> {
    const source = (testing.workerPrelude ?? '') + WORKER_SOURCE;
    const startTimeoutMs = testing.startTimeoutMs ?? START_TIMEOUT_MS;
    const ports: PortLike[] = [];
    const listeners: ((m: Message) => void)[] = [];
    const onMessage = (m: Message) => listeners.forEach((f) => f(m));
    const onFailure = (why: string) => onMessage({ type: 'error', message: why });
    const threads = await nodeWorkerThreads();
    const url = threads ? '' : URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
    // Creating a worker can throw (Node's permission model, a page's CSP): stop those made so far.
    const refused = (err: unknown): Error => {
      ports.forEach((p) => p.terminate());
      if (url) URL.revokeObjectURL(url);
      return new Error(`could not start ${size} wasm worker threads: ${workerRefusal(err, threads !== undefined)}`);
    };
    for (let index = 0; index < size; index++) {
      if (threads) {
        let worker: NodeWorker;
        try {
          worker = new threads.Worker(source, { eval: true });
        } catch (err) {
          throw refused(err);
        }
        worker.on('message', (m) => onMessage(m as Message));
        worker.on('error', (err) => onFailure(`a worker thread failed: ${(err as Error).message}`));
        worker.on('exit', (code) => onFailure(`a worker thread exited (code ${String(code)})`));
        ports.push(worker);
      } else {
        let worker: Worker;
        try {
          worker = new Worker(url);
        } catch (err) {
          throw refused(err);
        }
        worker.onmessage = (e) => onMessage(e.data as Message);
        // A worker the page's policy refuses fires a bare Event (no message), not a thrown error.
        worker.onerror = (e) =>
          onFailure(
            typeof (e as Partial<ErrorEvent>).message === 'string'
              ? `a worker failed: ${e.message}`
              : 'the browser refused to start a worker from a blob: URL and gave no reason (a Content-Security-Policy whose worker-src, or script-src, does not allow blob: does this: allow it, or use threads: 1)',
          );
        ports.push(worker);
      }
    }
    const pool = new ThreadPool(memory, control, ports);
    listeners.push((m) => pool.receive(m));
    let ready = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve, reject) => {
      listeners.push((m) => {
        if (m.type === 'ready' && ++ready === size) resolve();
        if (m.type === 'error') reject(new Error(m.message));
      });
      // A backstop, never reached where workers start: a runtime that runs the workers but never
      // delivers messages between them and this thread would otherwise leave load() pending forever.
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `${ready} of ${size} workers reported ready within ${startTimeoutMs / 1000} s (this runtime may not deliver messages to ` +
                `worker threads made from source); threads: 1 runs without workers`,
            ),
          ),
        startTimeoutMs,
      );
      ports.forEach((port, index) => port.postMessage({ module, memory, control, index }));
    })
      .catch((err: Error) => {
        pool.terminate();
        throw new Error(`could not start ${size} wasm worker threads: ${err.message}`);
      })
      .finally(() => {
        clearTimeout(timer);
        if (url) URL.revokeObjectURL(url);
      });
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
    const next = this.queue.then(() => this.start(args, Math.max(1, Math.min(workers, this.size)), command));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private start(args: readonly number[], workers: number, command: number): Promise<void> {
    if (this.failure) return Promise.reject(new Error(`the wasm worker threads failed earlier: ${this.failure}`));
    const ctl = this.ctl;
    // No worker touches the control block between jobs: the previous job's last worker has
    // counted itself finished, and each is blocked in Atomics.wait on the job number.
    ctl.fill(0, ARGS, CONTROL_BYTES / 4);
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
    Atomics.notify(ctl, JOB);
    return done.finally(() => this.ports.forEach((p) => p.unref?.()));
  }

  /** Stops the workers (a running job is abandoned). */
  terminate(): void {
    this.failure ??= 'the pool was terminated';
    Atomics.store(this.ctl, COMMAND, STOP);
    Atomics.add(this.ctl, JOB, 1);
    Atomics.notify(this.ctl, JOB);
    for (const port of this.ports) port.terminate();
    this.pending?.reject(new Error('the wasm worker threads were terminated'));
    this.pending = undefined;
  }
}
