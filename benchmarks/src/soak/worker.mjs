// A pool worker of the soak: loads the backend in this thread and runs the shared workload. At
// call `interruptAt` it says so and starts a large call, for the parent to terminate it there.
import { parentPort as port, workerData } from 'node:worker_threads';
import { readyBackend } from './backends.mjs';
import { makeWorkload } from './workload.mjs';

if (!port) throw new Error('soak: worker.mjs runs in a worker thread');
const parentPort = port;
/** @type {{ backend: string, calls: number, interruptAt?: number }} */
const { backend: name, calls, interruptAt } = workerData;
try {
  await readyBackend(name);
  const core = await import('@gru/core');
  const work = makeWorkload(core, name);
  for (let i = 0; i < calls; i++) {
    if (i === interruptAt) {
      parentPort.postMessage({ interruptible: i });
      await work.callLarge();
    }
    await work.call(i);
  }
  work.dispose();
  parentPort.postMessage({ done: calls });
} catch (err) {
  parentPort.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
