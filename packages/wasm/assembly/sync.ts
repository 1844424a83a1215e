// The barrier that the workers of one threaded call meet at, in shared memory: three i32 at `at`,
// [arrived, generation, sleepers]. A step of a small layer lasts microseconds, so a worker spins
// first and only then sleeps (memory.atomic.wait32); the last to arrive wakes sleepers only when
// there are any, which keeps the common case free of futex calls. Built without the threads
// feature (gru.wasm), a call has one worker and the barrier is compiled away.

const SPINS: i32 = 1 << 15;

export function barrier(at: usize, workers: i32): void {
  if (workers <= 1) return;
  if (ASC_FEATURE_THREADS) {
    const generation = atomic.load<i32>(at, 4);
    if (atomic.add<i32>(at, 1) == workers - 1) {
      atomic.store<i32>(at, 0);
      atomic.add<i32>(at, 1, 4);
      // Seq-cst: a worker that counted itself a sleeper before this load is woken; one that
      // counts itself after it finds the generation already changed and does not sleep.
      if (atomic.load<i32>(at, 8) > 0) atomic.notify(at + 4, workers);
      return;
    }
    for (let i = 0; i < SPINS; i++) {
      if (atomic.load<i32>(at, 4) != generation) return;
    }
    atomic.add<i32>(at, 1, 8);
    while (atomic.load<i32>(at, 4) == generation) memory.atomic.wait32(at + 4, generation, -1);
    atomic.sub<i32>(at, 1, 8);
  }
}
