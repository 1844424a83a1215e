/**
 * PyTorch's torch.nn.GRU on CUDA (cuDNN underneath, TF32 off): the peer @gru/cudnn is measured
 * against. One Python process per shape (SERVER below) holds the layer and a pinned
 * copy of the input; each pass sends one line over a pipe and waits for the answer, so a pass
 * includes a pipe round trip (about 0.1-0.3 ms) on top of PyTorch's own host-to-device copy, forward
 * and device-to-host copy of the last state. Unavailable without python3, torch or a CUDA GPU.
 * Python is $GRU_BENCH_PYTHON or python3.
 *
 * @typedef {import('../shapes.mjs').Shape} Shape
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inputFor, kerasWeights } from '../data.mjs';
import { assertAgrees, gruLastOutput } from './peers/check-against-gru.mjs';

export const name = 'torch-gru-cuda';
export const kind = 'peer';
export const note = 'PyTorch nn.GRU on CUDA (cuDNN, TF32 off), one Python process per shape; each pass includes a pipe round trip to Python (about 0.1-0.3 ms)';

const python = process.env.GRU_BENCH_PYTHON ?? 'python3';
/**
 * The Python side: reads one JSON command per line, answers one JSON line. Weights arrive in
 * Keras's layout (blocks z, r, h; kernel [D, 3H]) and are reordered to PyTorch's (r, z, n; [3H, D]).
 */
const SERVER = String.raw`# A PyTorch nn.GRU kept in one process for the benchmark's torch-gru-cuda runner: reads one
# JSON command per line on stdin, answers one JSON line on stdout. Weights arrive in Keras's
# layout (gate blocks z, r, h; kernel [D, 3H]) and are reordered to PyTorch's (r, z, n; [3H, D]).
import json
import sys

import numpy as np
import torch

# Plain fp32, as gru's cuDNN backend computes by default (PyTorch lets cuDNN use TF32 otherwise).
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False


def reorder(m):
    z, r, h = np.split(m, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


gru = None
x_host = None
for line in sys.stdin:
    cmd = json.loads(line)
    try:
        if cmd["op"] == "setup":
            B, T, D, H = cmd["B"], cmd["T"], cmd["D"], cmd["H"]
            data = np.fromfile(cmd["path"], dtype=np.float32)
            sizes = [B * T * D, D * 3 * H, H * 3 * H, 2 * 3 * H]
            parts = np.split(data, np.cumsum(sizes)[:-1])
            x = parts[0].reshape(B, T, D)
            kernel, recurrent, bias = parts[1].reshape(D, 3 * H), parts[2].reshape(H, 3 * H), parts[3].reshape(2, 3 * H)
            gru = torch.nn.GRU(D, H, batch_first=True).cuda().eval()
            with torch.no_grad():
                gru.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(reorder(kernel).T)))
                gru.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(reorder(recurrent).T)))
                gru.bias_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(reorder(bias[0]))))
                gru.bias_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(reorder(bias[1]))))
            x_host = torch.from_numpy(np.ascontiguousarray(x)).pin_memory()
            reply({"ok": True, "device": torch.cuda.get_device_name(0), "torch": torch.__version__, "cudnn": torch.backends.cudnn.version()})
        elif cmd["op"] == "run":
            # Like gru's call: input from host memory, last state back to host memory.
            with torch.no_grad():
                _, h = gru(x_host.to("cuda", non_blocking=True))
                out = h[0].cpu()
            reply({"ok": True, "h": out.flatten().tolist() if cmd.get("values") else None})
        elif cmd["op"] == "quit":
            break
        else:
            reply({"ok": False, "error": "unknown op " + str(cmd["op"])})
    except Exception as e:  # reported to the runner, which fails the shape with it
        reply({"ok": False, "error": type(e).__name__ + ": " + str(e)})
`;

export async function available() {
  const probe = spawnSync(python, ['-c', 'import torch, json; print(json.dumps([torch.__version__, torch.cuda.is_available()]))'], {
    encoding: 'utf8',
    timeout: 60000,
  });
  if (probe.error) return `${python} could not be run: ${probe.error.message}`;
  if (probe.status !== 0) return `${python} cannot import torch: ${(probe.stderr || '').trim().split('\n').pop()}`;
  const [version, cuda] = JSON.parse(probe.stdout.trim().split('\n').pop() ?? '[]');
  return cuda ? true : `torch ${version} sees no CUDA GPU`;
}

/** @param {Shape} shape */
export async function setup(shape) {
  const { B, T, D, H } = shape;
  const w = kerasWeights(shape, { resetAfter: true });
  const dir = mkdtempSync(join(tmpdir(), 'gru-bench-torch-'));
  const path = join(dir, 'data.f32');
  const x = inputFor(shape);
  const all = new Float32Array(x.length + w.kernel.length + w.recurrentKernel.length + /** @type {Float32Array} */ (w.bias).length);
  all.set(x, 0);
  all.set(w.kernel, x.length);
  all.set(w.recurrentKernel, x.length + w.kernel.length);
  all.set(/** @type {Float32Array} */ (w.bias), x.length + w.kernel.length + w.recurrentKernel.length);
  writeFileSync(path, all);

  const child = spawn(python, ['-c', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) })[Symbol.asyncIterator]();
  /** @param {object} cmd */
  const ask = async (cmd) => {
    child.stdin?.write(`${JSON.stringify(cmd)}\n`);
    const next = await lines.next();
    if (next.done) throw new Error(`${name}: the Python process exited (code ${child.exitCode}).`);
    const answer = JSON.parse(next.value);
    if (!answer.ok) throw new Error(`${name}: ${answer.error}`);
    return answer;
  };
  const dispose = () => {
    child.stdin?.end(`${JSON.stringify({ op: 'quit' })}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ask({ op: 'setup', B, T, D, H, path });
    // The same computation as gru's, checked once on the benchmark's own numbers.
    const first = await ask({ op: 'run', values: true });
    assertAgrees(name, first.h, await gruLastOutput(shape, { resetAfter: true }));
  } catch (err) {
    dispose();
    throw err;
  }
  return {
    run: async () => {
      await ask({ op: 'run' });
    },
    dispose,
  };
}
