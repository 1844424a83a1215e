import { unregistrations } from '../backend/load-records.js';
import type { GruBackend, GruSpec, GruWeights, PreparedGru } from '../backend/types.js';

/** One backend's preparation of a layer's weights, shared by the calls that use that version. */
export interface PreparedEntry {
  readonly backend: GruBackend;
  /** The weights version the prepared layer holds (or will hold once `ready` settles). */
  version: number;
  /** The backend's `unregistrations()` when this was prepared: a later unregister disposed the backend under it. */
  readonly generation: number;
  ready: Promise<PreparedGru>;
  prepared?: PreparedGru;
  /** `ready` (the latest preparation or refresh) has fulfilled: a call may use `prepared` without awaiting it. */
  settled: boolean;
  /** Calls (forward or backward) running on it now: it is neither updated nor disposed under them. */
  inFlight: number;
  retired: boolean;
  disposed: boolean;
}

/**
 * Whether a prepared layer says it can no longer run (`isDisposed()`). One whose isDisposed()
 * throws is taken as gone too: reusing it would fail every call, preparing again costs one prepare.
 */
export function preparedGone(prepared: PreparedGru): boolean {
  try {
    return prepared.isDisposed?.() === true;
  } catch {
    return true;
  }
}

/** A prepared layer reserved for one call; `release()` once the call settles. */
export interface PreparedLease {
  readonly entry: PreparedEntry;
  readonly prepared: PreparedGru;
  release(): void;
}

/**
 * What backends prepared for one layer, per backend. A call runs on a prepared layer holding the
 * weights current when the call was made: an idle one is updated in place, but one with calls in
 * flight is never changed under them; a fresh one is prepared instead, and the old one disposed
 * once its calls settle.
 */
export class PreparedCache {
  private readonly current = new Map<GruBackend, PreparedEntry>();

  /**
   * The lease itself when the backend's prepared layer is ready with these weights (the usual case
   * after the first call), so a call awaits nothing for it; else a promise of it.
   */
  acquire(backend: GruBackend, spec: GruSpec, weights: GruWeights, version: number): PreparedLease | Promise<PreparedLease> {
    const entry = this.current.get(backend);
    if (entry?.settled && entry.prepared && !entry.retired && entry.version === version && this.live(entry)) {
      entry.inFlight++;
      return this.lease(entry, entry.prepared);
    }
    return this.acquireAsync(backend, spec, weights, version);
  }

  private async acquireAsync(backend: GruBackend, spec: GruSpec, weights: GruWeights, version: number): Promise<PreparedLease> {
    let entry = this.current.get(backend);
    if (entry && !this.live(entry)) {
      this.retire(entry);
      entry = undefined;
    }
    if (entry && entry.version !== version) {
      if (entry.inFlight === 0) {
        // Idle (so its preparation settled): refresh it in place, behind the preparation.
        entry.version = version;
        this.settleWith(
          entry,
          entry.ready.then(async (p) => {
            await p.setWeights(weights);
            return p;
          }),
        );
      } else {
        this.retire(entry);
        entry = undefined;
      }
    }
    if (!entry) {
      entry = this.add(
        backend,
        version,
        Promise.resolve().then(() => backend.prepare(spec, weights)),
      );
    }
    const held = entry;
    held.inFlight++;
    try {
      const prepared = await held.ready;
      return this.lease(held, prepared);
    } catch (err) {
      // A failed preparation (or refresh) is not reused: the next call prepares again.
      this.retire(held);
      this.release(held);
      throw err;
    }
  }

  /** The synchronous path: nothing runs in between, but an entry busy with async calls is left alone. */
  acquireSync(backend: GruBackend, spec: GruSpec, weights: GruWeights, version: number): PreparedLease {
    const entry = this.current.get(backend);
    // `settled`: a refresh in flight (an async call's setWeights) has not reached `prepared` yet.
    if (entry?.settled && entry.prepared && !entry.retired && entry.version === version && entry.prepared.forwardSync && this.live(entry)) {
      entry.inFlight++;
      return this.lease(entry, entry.prepared);
    }
    if (entry) this.retire(entry);
    const prepared = (backend.prepareSync as NonNullable<GruBackend['prepareSync']>)(spec, weights);
    const added = this.add(backend, version, Promise.resolve(prepared));
    added.prepared = prepared;
    added.settled = true;
    added.inFlight++;
    return this.lease(added, prepared);
  }

  /** Reserves an entry again (for backward on the forward call's prepared layer); undefined once it or its backend was disposed. */
  hold(entry: PreparedEntry): PreparedLease | undefined {
    if (entry.disposed || !entry.prepared || !this.live(entry)) return undefined;
    entry.inFlight++;
    return this.lease(entry, entry.prepared);
  }

  /**
   * Whether the entry can still run: its backend was not unregistered (and disposed) since it was
   * prepared, and the prepared layer does not say it is gone (its backend was disposed and loaded
   * again, or its GPU device was lost): such an entry is retired and the layer prepared again.
   */
  private live(entry: PreparedEntry): boolean {
    return entry.generation === unregistrations(entry.backend) && !(entry.prepared && preparedGone(entry.prepared));
  }

  /** Disposes every prepared layer; those with calls in flight when their calls settle. */
  dispose(): void {
    for (const entry of [...this.current.values()]) this.retire(entry);
  }

  private add(backend: GruBackend, version: number, ready: Promise<PreparedGru>): PreparedEntry {
    const entry: PreparedEntry = {
      backend,
      version,
      generation: unregistrations(backend),
      ready,
      inFlight: 0,
      retired: false,
      disposed: false,
      settled: false,
    };
    this.settleWith(entry, ready);
    this.current.set(backend, entry);
    return entry;
  }

  /** Makes `ready` the entry's preparation; `settled` turns true once it fulfills, unless a later one replaced it. */
  private settleWith(entry: PreparedEntry, ready: Promise<PreparedGru>): void {
    entry.ready = ready;
    entry.settled = false;
    ready.then(
      (p) => {
        entry.prepared = p;
        if (entry.ready === ready) entry.settled = true;
      },
      () => {},
    );
  }

  private lease(entry: PreparedEntry, prepared: PreparedGru): PreparedLease {
    let released = false;
    return {
      entry,
      prepared,
      release: () => {
        if (released) return;
        released = true;
        this.release(entry);
      },
    };
  }

  private release(entry: PreparedEntry): void {
    entry.inFlight--;
    if (entry.retired && entry.inFlight === 0) this.disposeEntry(entry);
  }

  private retire(entry: PreparedEntry): void {
    if (this.current.get(entry.backend) === entry) this.current.delete(entry.backend);
    entry.retired = true;
    if (entry.inFlight === 0) this.disposeEntry(entry);
  }

  private disposeEntry(entry: PreparedEntry): void {
    if (entry.disposed) return;
    entry.disposed = true;
    // Now where the preparation settled (dispose() frees memory now), else once it does.
    if (entry.prepared && entry.inFlight === 0) {
      entry.prepared.dispose();
      return;
    }
    entry.ready.then(
      (p) => p.dispose(),
      () => {},
    );
  }
}
