import { GRU_BACKEND_SPEC_VERSION, registerBackend, type GruBackend } from '@gru/core';
import { planConformance } from '@gru/conformance';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cudnnSupports, cudnnSupportsSpec } from '../src/support.js';

/**
 * conformance.expectations.json (beside the backend) lists every reference case the cuDNN backend declines,
 * with its reason. It is derived, not hand-written: each case is planned against a probe that
 * has the backend's real supports()/supportsBackward() but stops where the GPU would start.
 * `pnpm run expectations` rewrites the file; this test fails when it is out of date.
 */

const FILE = fileURLToPath(new URL('../conformance.expectations.json', import.meta.url));
const REACHED_GPU = 'probe: the case reached prepare(), so cuDNN runs it';

const probe: GruBackend = {
  specVersion: GRU_BACKEND_SPEC_VERSION,
  name: 'cudnn',
  priority: 100,
  cudnn: true,
  load: async () => {},
  isLoaded: () => true,
  supports: cudnnSupports,
  supportsBackward: cudnnSupportsSpec,
  prepare: async () => {
    throw new Error(REACHED_GPU);
  },
  // The backend has one (it forgets its runtime), so contract:backend-reload reaches prepare().
  dispose: () => {},
};

async function derive(): Promise<{ unsupported: { reason: string; cases: string[] }[]; runnable: string[] }> {
  registerBackend(probe);
  const { planned } = planConformance(probe, { coreChecks: false });
  const unsupported: Record<string, string> = {};
  const runnable: string[] = [];
  for (const p of planned.filter((c) => ['forward', 'gradient', 'reference', 'contract'].includes(c.kind))) {
    const outcome = await p.run();
    if (outcome.status === 'unsupported') unsupported[p.name] = outcome.detail ?? 'declined';
    else if (outcome.detail?.includes(REACHED_GPU)) runnable.push(p.name);
    else throw new Error(`${p.name}: neither declined nor sent to the GPU: ${outcome.status} ${outcome.detail ?? ''}`);
  }
  // One group per reason (the expectations format), reasons and names sorted.
  const groups = new Map<string, string[]>();
  for (const [name, reason] of Object.entries(unsupported)) groups.set(reason, [...(groups.get(reason) ?? []), name]);
  const sorted = [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([reason, cases]) => ({ reason, cases: cases.sort((a, b) => a.localeCompare(b)) }));
  return { unsupported: sorted, runnable };
}

describe('conformance.expectations.json', () => {
  it('lists exactly the cases supports() declines, with its reasons', async () => {
    const { unsupported, runnable } = await derive();
    const want = { backend: 'cudnn', unsupported, failing: [] };
    if (process.env.GRU_WRITE_EXPECTATIONS === '1') writeFileSync(FILE, `${JSON.stringify(want, null, 2)}\n`);
    expect(JSON.parse(readFileSync(FILE, 'utf8'))).toEqual(want);
    // Keras's cuDNN path covers the default layer, so most cases must reach the GPU.
    expect(runnable.length).toBeGreaterThan(20);
    expect(runnable).toContain('defaults_seq');
    expect(runnable).toContain('mask_right_pad_backwards_seq');
    expect(runnable).toContain('init_state_mask_right_pad');
  });
});
