import { getBackend, referenceBackend, unregisterBackend, type GruBackend } from '@gru/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runConformance } from '../src/index.js';

describe('a backend object that nobody registered', () => {
  // A third party's backend before it is registered anywhere: the reference's kernels under a new name.
  const mine: GruBackend = { ...referenceBackend, name: 'my-unregistered-backend', priority: -1 };
  afterAll(() => unregisterBackend(mine.name));

  it('is registered under its name and judged', async () => {
    expect(getBackend(mine.name)).toBeUndefined();
    const report = await runConformance(mine, { only: ['defaults_seq_state', 'init_state_mask_right_pad'], coreChecks: false });
    expect(getBackend(mine.name)).toBe(mine);
    expect(report.results.map((r) => [r.name, r.status])).toEqual([
      ['defaults_seq_state', 'passed'],
      ['init_state_mask_right_pad', 'passed'],
    ]);
  });
});
