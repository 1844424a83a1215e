import { referenceForward } from '@gru/core';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';
import { compareWithReference, expectClose, makeRequest, makeSpec, makeWeights } from './helpers.js';
import { ARGS, FULL, mapRequest, mapWeights, offsetView, onShared, type Floats } from './views.js';

/**
 * Arrays the GPU cannot take as they are reach it safely. Before the fix, a SharedArrayBuffer view
 * crashed the process in Dawn's writeBuffer: the child-process test then names the argument, and
 * the in-process ones kill this file's worker, which vitest reports as a failure (the file is
 * kept apart from test/call-snapshot.test.ts so that a crash hides no other test).
 */
const b = createWebGpuBackend({ name: 'webgpu-views', allowFallbackAdapter: true });
beforeAll(() => b.load());
afterAll(() => b.dispose());

/**
 * The child: the built package (turbo builds before testing) runs one call per argument kind with
 * that argument on a SharedArrayBuffer, printing each result as a JSON line before the next call.
 */
const CHILD = `
import { createWebGpuBackend } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
let text = '';
for await (const chunk of process.stdin) text += chunk;
const { spec, weights, req } = JSON.parse(text);
const f32 = (a) => a && Float32Array.from(a);
const shared = (a, Ctor = Float32Array) => { const s = new Ctor(new SharedArrayBuffer(a.length * Ctor.BYTES_PER_ELEMENT)); s.set(a); return s; };
const b = createWebGpuBackend({ allowFallbackAdapter: true });
const p = await b.prepare(spec, { kernel: f32(weights.kernel), recurrentKernel: f32(weights.recurrentKernel), bias: f32(weights.bias) });
const base = () => ({ ...req, x: f32(req.x), initialState: f32(req.initialState), mask: Uint8Array.from(req.mask),
  inputDropoutMasks: req.inputDropoutMasks.map(f32), recurrentDropoutMasks: req.recurrentDropoutMasks.map(f32) });
for (const arg of ${JSON.stringify(ARGS)}) {
  const r = base();
  if (arg === 'mask') r.mask = shared(r.mask, Uint8Array);
  else if (Array.isArray(r[arg])) r[arg] = r[arg].map((m) => shared(m));
  else r[arg] = shared(r[arg]);
  process.stderr.write('running ' + arg + '\\n');
  const got = await p.forward(r);
  console.log(JSON.stringify({ arg, output: Array.from(got.output), lastState: Array.from(got.lastState) }));
}
b.dispose();
`;

interface ChildLine {
  arg: string;
  output: number[];
  lastState: number[];
}

async function runSharedChild(input: unknown): Promise<ChildLine[]> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const plain = (a: unknown) => (ArrayBuffer.isView(a) ? Array.from(a as Float32Array) : a);
  child.stdin.end(JSON.stringify(input, (_k, v) => plain(v)));
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  if (code !== 0) {
    const running = [...stderr.matchAll(/^running (\w+)$/gm)].pop()?.[1];
    expect.fail(`the child process ended with ${signal ?? `code ${code}`} while running ${running ?? 'its set-up'}: ${stderr.slice(-2000)}`);
  }
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ChildLine);
}

describe('views the GPU cannot take as they are', () => {
  // inputDim 5 and batch 3: odd element counts for x (3*T*5) and the input dropout masks.
  const spec = makeSpec({ units: 7, inputDim: 5 });
  const weights = makeWeights(spec, 1);
  const req = makeRequest(spec, 2, { batch: 3, timesteps: 5, ...FULL });

  it('each argument on a SharedArrayBuffer, in a child process (a crash names the argument)', { timeout: 300_000 }, async () => {
    const lines = await runSharedChild({ spec, weights, req });
    for (const arg of ARGS) {
      const got = lines.find((l) => l.arg === arg);
      if (!got) expect.fail(`no result for ${arg} on a SharedArrayBuffer`);
      const want = referenceForward(spec, weights, mapRequest(req, onShared, arg));
      expectClose(got.output, want.output, `shared ${arg} output`);
      expectClose(got.lastState, want.lastState, `shared ${arg} lastState`);
    }
  });

  for (const arg of ARGS) {
    it(`${arg} on a SharedArrayBuffer, in this process`, async () => {
      const p = await b.prepare(spec, weights);
      await compareWithReference(p, weights, mapRequest(req, onShared, arg), `shared ${arg}`);
      p.dispose();
    });
  }

  it('every argument at an offset into a larger buffer, and Float64Array inputs', async () => {
    const p = await b.prepare(spec, weights);
    await compareWithReference(p, weights, mapRequest(req, offsetView), 'offset views');
    const toF64 = <T extends Floats | Uint8Array>(a: T) => (a instanceof Uint8Array ? a : (Float64Array.from(a) as unknown as T));
    await compareWithReference(p, weights, mapRequest(req, toF64), 'float64 inputs');
    p.dispose();
  });

  it('weights on a SharedArrayBuffer or at an offset, in prepare() and setWeights(), f32 and f16', async () => {
    const f16 = createWebGpuBackend({ name: 'webgpu-snapshot-f16', allowFallbackAdapter: true, precision: 'f16' });
    await f16.load();
    for (const backend of [b, f16]) {
      const tol = backend === f16 ? 2e-3 : undefined;
      const p = await backend.prepare(spec, mapWeights(weights, onShared));
      await compareWithReference(p, weights, req, `${backend.name} shared weights`, tol, tol);
      const next = makeWeights(spec, 3);
      await p.setWeights(mapWeights(next, offsetView));
      await compareWithReference(p, next, req, `${backend.name} offset weights`, tol, tol);
      await p.setWeights(mapWeights(next, onShared));
      await compareWithReference(p, next, req, `${backend.name} shared weights via setWeights`, tol, tol);
      p.dispose();
    }
    f16.dispose();
  });
});
