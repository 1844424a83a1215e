import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildFakeGpu } from './fake-gpu.js';

// Terminating a worker thread while its call runs on libuv's pool must never take the process
// down (it used to abort: "terminate called after throwing an instance of 'Napi::Error'", from
// the call's completion in the dying environment). The workers run in a child process over the
// fake GPU libraries, so an abort fails this test instead of killing the test runner.
const child = fileURLToPath(new URL('./fixtures/terminate-child.mjs', import.meta.url));

describe('terminating a worker thread mid-call', { timeout: 240_000 }, () => {
  it('16 workers terminated during forward, training forward, backward and setWeights: the process lives and computes', async () => {
    const fake = buildFakeGpu();
    const r = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
      const p = spawn(process.execPath, [child, fake.ok, '16'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', reject);
      p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const line = r.stdout.split('\n').find((l) => l.startsWith('ok '));
    expect(line).toBeDefined();
    const summary = JSON.parse((line as string).slice(3)) as { workers: number; stoppedDuring: Record<string, number> };
    expect(summary.workers).toBe(16);
    expect(Object.keys(summary.stoppedDuring).sort()).toEqual(['backward', 'forward', 'setWeights', 'training']);
  });
});
