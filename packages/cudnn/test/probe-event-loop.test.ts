import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plainCallInfo } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { createCudnnBackend } from '../src/backend.js';
import { probePython } from '../src/search.js';
import { buildFakeGpu } from './fake-gpu.js';

/**
 * Looking for the pip wheel asks Python, which can take a while: the event loop must keep turning
 * meanwhile (it used to be a synchronous child process: 100-350 ms of a frozen loop, up to 10 s
 * with a slow Python), and Python is asked once per process.
 */

const dir = mkdtempSync(join(tmpdir(), 'gru-cudnn-probe-'));
const fake = buildFakeGpu();

/** A Python stand-in that answers only once `go` exists, and counts its runs in `count`. */
function waitingPython(name: string): { python: string; go: string; count: string } {
  const python = join(dir, name);
  const go = join(dir, `${name}.go`);
  const count = join(dir, `${name}.count`);
  writeFileSync(
    python,
    `#!/bin/sh\necho run >> '${count}'\nwhile [ ! -e '${go}' ]; do sleep 0.01; done\n` +
      `echo '{"site": ["${dir}"], "cudnn": ["${dir}/nvidia/cudnn/lib"], "error": null}'\n`,
  );
  chmodSync(python, 0o755);
  return { python, go, count };
}

const runs = (count: string) => (existsSync(count) ? readFileSync(count, 'utf8').trim().split('\n').length : 0);

describe("the cuDNN wheel probe doesn't block the event loop", { timeout: 60_000 }, () => {
  it('load() lets the event loop turn while Python runs (Python answers only after 50 turns of the loop)', async () => {
    const { python, go, count } = waitingPython('waiting-python');
    const backend = createCudnnBackend({ name: 'cudnn-probe', cudnnPath: fake.ok, cudaDriverPath: fake.ok, python });
    let turns = 0;
    let settled = false;
    const loading = backend.load().finally(() => (settled = true));
    const turn = () => {
      if (settled) return;
      if (++turns === 50) writeFileSync(go, '');
      setImmediate(turn);
    };
    setImmediate(turn);
    await loading;
    expect(turns).toBeGreaterThanOrEqual(50);
    expect(runs(count)).toBe(1);
    // Once per process: another backend with the same Python, and another load, ask no more.
    await createCudnnBackend({ name: 'cudnn-probe-2', cudnnPath: fake.ok, cudaDriverPath: fake.ok, python }).load();
    expect(runs(count)).toBe(1);
  });

  it('a Python that never answers is given up on after the timeout, with the reason', async () => {
    const hung = join(dir, 'hung-python');
    writeFileSync(hung, '#!/bin/sh\nexec sleep 60\n');
    chmodSync(hung, 0o755);
    const probe = await probePython(hung, 200);
    expect(probe).toEqual({ executable: hung, cudnnLibDirs: [], sitePackages: [], error: `${hung} did not answer within 200 ms` });
  });

  it('supports() never probes', () => {
    const { python, count } = waitingPython('unasked-python');
    const backend = createCudnnBackend({ name: 'cudnn-unasked', python });
    const spec = { units: 4, inputDim: 3, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' } as const;
    backend.supports(spec, { ...plainCallInfo(2, 3), returnSequences: true });
    expect(runs(count)).toBe(0);
  });
});
