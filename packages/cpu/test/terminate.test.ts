import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Terminating a worker thread while it runs a call must never take the process down (it used to
// abort: "terminate called after throwing an instance of 'Napi::Error'", or crash in the thread
// pool once the worker's environment unloaded the addon). The workers run in a child process,
// so a crash fails this test instead of killing the test runner.
const child = fileURLToPath(new URL('./fixtures/terminate-child.mjs', import.meta.url));

function runChild(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function summary(stdout: string): { workers: number; stoppedDuring: Record<string, number>; mainCalls: number } {
  const line = stdout.split('\n').find((l) => l.startsWith('ok '));
  if (!line) throw new Error(`the child printed no summary:\n${stdout}`);
  return JSON.parse(line.slice(3));
}

describe('terminating a worker thread mid-call', { timeout: 240_000 }, () => {
  it('20 workers terminated during forward, backward, forwardSync and backwardSync: the process lives and computes', async () => {
    const r = await runChild(['20']);
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const s = summary(r.stdout);
    expect(s.workers).toBe(20);
    // Every kind of call was interrupted at least once.
    expect(Object.keys(s.stoppedDuring).sort()).toEqual(['backward', 'backwardSync', 'forward', 'forwardSync']);
  });

  it('the same while the main thread keeps running calls on the addon', async () => {
    const r = await runChild(['12', '--main-first']);
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    const s = summary(r.stdout);
    expect(s.workers).toBe(12);
    expect(s.mainCalls).toBeGreaterThan(0);
  });
});
