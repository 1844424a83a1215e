import type { ForwardRequest, ForwardResult, GruBackend } from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { cloneRequest, compareResult, pathsOf, runPath, type ForwardPath } from './against-reference.js';
import { guarded, pickedOptions } from './contract.js';
import { makeCase } from './make-case.js';

/**
 * contract:concurrent-calls: core does not serialise calls on one layer, so three forward() calls
 * on one prepared layer, with other inputs and batch sizes, are started before any resolves (with a
 * forwardSync call made while they are pending, where the layer has one). Each must equal, bit for
 * bit, the same call made alone on the same path: a backend that keeps a call's request or scratch
 * on the layer across an await hands one call's answer to another.
 */
const SHARED = ': calls in flight at once must not share a request or scratch buffers';

export function checkConcurrentCalls(backend: GruBackend, seed = 12): Promise<CaseOutcome> {
  return guarded(backend, seed, async (c, label) => {
    const { spec, request } = c;
    const requests: ForwardRequest[] = [
      request,
      ...[2, 7].map(
        (B, i) => makeCase({ ...pickedOptions(request), B, T: request.timesteps, D: spec.inputDim, H: spec.units, dtype: spec.dtype }, seed + 1 + i).request,
      ),
    ];
    const prepared = await backend.prepare(spec, c.weights);
    try {
      const paths = pathsOf(prepared);
      // Each call alone, on each path, one after another.
      const alone = new Map<ForwardPath, ForwardResult[]>();
      for (const path of paths) {
        const results: ForwardResult[] = [];
        for (const r of requests) results.push(await runPath(backend, prepared, path, cloneRequest(r)));
        alone.set(path, results);
      }
      // Every call is let finish before the layer is disposed (finally), whatever one of them does:
      // disposing under a running call frees what it still uses, and a rejection nobody awaits
      // would end the whole run.
      const pending = Promise.allSettled(requests.map((r) => runPath(backend, prepared, 'forward', cloneRequest(r))));
      // A synchronous call while the async ones are pending.
      let sync: ForwardResult | undefined;
      let syncThrew: unknown;
      try {
        sync = paths.includes('forwardSync') ? await runPath(backend, prepared, 'forwardSync', cloneRequest(requests[1])) : undefined;
      } catch (err) {
        syncThrew = err;
      }
      const settled = await pending;
      if (syncThrew !== undefined) throw syncThrew;
      const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) {
        const err = rejected.reason as Error | undefined;
        return {
          status: 'failed',
          detail: `of ${requests.length} forward calls started together (batches ${requests.map((r) => r.batch).join(', ')}), one threw ${err?.name}: ${err?.message}${SHARED} (case: ${label})`,
        };
      }
      const together = settled.map((r) => (r as PromiseFulfilledResult<ForwardResult>).value);
      for (const [i, got] of together.entries()) {
        const what = `forward call ${i + 1} of ${requests.length} started together (batch ${requests[i].batch})`;
        const problem = compareResult(got, alone.get('forward')![i], requests[i], spec.units, { bitwiseAgainst: 'the same call made alone' }, what);
        if (problem) return { status: 'failed', detail: `${problem}${SHARED} (case: ${label})` };
      }
      if (sync) {
        const what = `forwardSync (batch ${requests[1].batch}) made while ${requests.length} forward calls were pending`;
        const problem = compareResult(sync, alone.get('forwardSync')![1], requests[1], spec.units, { bitwiseAgainst: 'the same call made alone' }, what);
        if (problem) return { status: 'failed', detail: `${problem}${SHARED} (case: ${label})` };
      }
      return { status: 'passed' };
    } finally {
      prepared.dispose();
    }
  });
}
