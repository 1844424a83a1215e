import { forwardPhases, gruForwardPhase } from './forward';

// A forward call shared between the calling thread and one worker (a bound call: src/bound.ts),
// with no thread ever waiting on one that is not running. The call's two shares of units are
// walked phase by phase (forward.ts); each share of each phase is claimed by whichever thread
// gets to it first: its owner, or the other thread once done with its own share (a worker still
// asleep, or descheduled, never holds the step up). Claim and done counts only grow, over every
// call this block has served, so a thread that comes late to a call finds every share of it
// claimed and does nothing. Who computes a share never changes its arithmetic: results are
// bitwise those of one thread.
//
// The block at `sync` (see src/thread-pool.ts): share s's claims at TAKEN + 64*s, its completed
// phases 4 bytes after, each share on a cache line of its own.

const TAKEN: usize = 64;
const SHARES: i32 = 2;

/** Claims share `s` of the phase that ends at count `end`, if nobody has. */
@inline function claim(taken: usize, end: i32): bool {
  return atomic.load<i32>(taken) < end && atomic.cmpxchg<i32>(taken, end - 1, end) == end - 1;
}

/**
 * Thread `self` (0: the caller, 1: the worker) of a shared call whose gruForward arguments are the
 * i32 at `args`, from phase `from`; `base` is the counts' value when the call began, `job` the
 * call's number in the block's first word (a thread finding another there stops). Returns -1 once
 * every share of every phase is done, or the phase at which it spun `spins` times on a share the
 * other thread holds (the caller then decides whether to go on waiting).
 */
export function gruForwardShared(args: usize, self: i32, sync: usize, base: i32, job: i32, from: i32, spins: i32): i32 {
  const P = forwardPhases(load<i32>(args, 4), load<i32>(args, 20));
  if (!ASC_FEATURE_THREADS) {
    for (let p = from; p < P; p++) for (let s = 0; s < SHARES; s++) gruForwardPhase(args, s, SHARES, p);
    return -1;
  }
  for (let p = from; p < P; p++) {
    if (atomic.load<i32>(sync) != job) return -1;
    const end = base + p + 1;
    // Own share first (its weights are in this core's cache), then the other's if unclaimed.
    for (let k = 0; k < SHARES; k++) {
      const s = self ^ k;
      const taken = sync + TAKEN + (<usize>s << 6);
      if (claim(taken, end)) {
        gruForwardPhase(args, s, SHARES, p);
        atomic.store<i32>(taken, end, 4);
      }
    }
    for (let s = 0; s < SHARES; s++) {
      const done = sync + TAKEN + (<usize>s << 6) + 4;
      for (let n = 0; atomic.load<i32>(done) < end; n++) if (n >= spins) return p;
    }
  }
  return -1;
}
