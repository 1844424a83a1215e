// A small persistent thread pool, and the phase protocol its jobs use.
//
// A call is a sequence of phases (the projection of a chunk of timesteps, then one phase per
// recurrence step); each phase is split into chunks (groups of unit blocks, i.e. output columns),
// and the chunks into one contiguous share per thread. A thread works through its own share, so
// across phases it keeps touching the same weights (they stay in its own L2 cache), and its
// bookkeeping lives on a cache line that only it writes: a phase costs each thread one atomic
// claim per chunk on its own line and, at the end, one read of every other share's line (the
// per-step barrier of a recurrence). A share whose owner makes no progress for a few microseconds
// (descheduled on a busy machine, or never woken) is taken over chunk by chunk by the threads
// waiting for it. Which thread computes a chunk never changes the result: a chunk's arithmetic is
// fixed, and no sum is ever split between chunks.
//
// Phases are a few microseconds, so waiting threads spin (with a pause instruction) for a while,
// then yield the core (the thread they wait for may need it), and only then sleep (a futex on
// Linux, with a timeout so that no lost wakeup can hang a call).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gru {

void cpuRelax();
// A monotonic clock in nanoseconds.
int64_t monoNs();

// A cheap clock for short intervals: the time-stamp counter on x86-64 (a few nanoseconds to read,
// against tens for the system clock in a VM); kPublishTicks of it are about 1-3 microseconds.
#if defined(__x86_64__) && defined(__GNUC__)
inline int64_t ticks() { return static_cast<int64_t>(__builtin_ia32_rdtsc()); }
constexpr int64_t kPublishTicks = 6000;
#else
inline int64_t ticks() { return monoNs(); }
constexpr int64_t kPublishTicks = 2000;
#endif

class Phaser {
 public:
  // Room for jobs of up to `threads` threads (a walker of more threads than that throws
  // std::invalid_argument). Shares hold cumulative counts; a Phaser serves one job, or a
  // sequence of jobs when the caller calls nextJob() after each (a bound call keeps one, so a
  // step's pool thread finds its own share, its row of counts and the job's fields in lines it
  // already holds, rather than in a Phaser freshly built on the caller's stack).
  explicit Phaser(int threads);
  Phaser(const Phaser&) = delete;
  Phaser& operator=(const Phaser&) = delete;

  int threads() const { return n_; }
  // Makes the Phaser ready for the caller's next job. Only once every thread of the last job
  // returned (ThreadPool::run returns then): a walker starts from the counts the caller's walker
  // (tid 0, which walks every phase) ended the job with.
  void nextJob();
  // How many times a thread helped with the share of an owner that was away (not yet joined, or
  // not even in the previous phase): on a machine with more runnable threads than cores, sharing
  // a small step between threads loses more than it gains.
  int64_t awayHelps() const { return awayHelps_.load(std::memory_order_relaxed); }
  // Chunks claimed through the shares so far (a walker alone claims none: it needs no atomics).
  int64_t claimed() const {
    int64_t n = 0;
    for (int s = 0; s < n_; ++s) n += shares_[s].taken.load(std::memory_order_relaxed);
    return n;
  }

 private:
  friend class PhaseWalker;

  // One thread's share: how many of its chunks were ever taken and finished, over all phases.
  // Cumulative counts (never reset) let a thread that lags phases behind see at once that every
  // chunk of its phase was taken, so it can never take one of a later phase by mistake.
  struct Share {
    alignas(64) std::atomic<int64_t> taken{0};
    // Phases the owner started (it alone writes them). An owner that has not started the phase
    // before the one others are in is away (descheduled): they help at once, rather than give
    // it the grace time again at every step.
    // Holds the phase the owner last started, plus one: an owner is behind by a phase or more
    // whether it missed phases of this job or whole jobs before it.
    std::atomic<int64_t> beat{0};
    // The job the owner last joined (jobs count from 1).
    std::atomic<int64_t> joined{0};
    // On a line of its own: waiters read it often, the owner's claims should not pay for that.
    alignas(64) std::atomic<int64_t> done{0};
    std::atomic<int> sleepers{0};
  };

  // A thread waiting for one share: spins while the share makes progress, says when to help
  // (no progress for kHelpAfter, or an owner that never joined the job), yields after a while,
  // and says when sleeping is all that is left.
  class Waiter {
   public:
    enum Step { kDone, kHelp, kSpin };
    Waiter(Share& sh, int64_t job, int64_t phase);
    Step next(int64_t end);
    void progressed();
    bool sleepy() const { return sleepy_; }
    bool sawAway() const { return sawAway_; }

   private:
    Share& sh_;
    int64_t job_, phase_;
    int64_t start_, lastChange_;
    int64_t lastTaken_, lastDone_;
    bool sleepy_ = false;
    bool sawAway_ = false;
  };

  // Takes the next chunk of share s if one below `end` (cumulative) is left; returns its index
  // within the share's chunks of this phase (counted from `base`), or -1.
  int64_t take(int s, int64_t base, int64_t end) {
    std::atomic<int64_t>& t = shares_[s].taken;
    int64_t v = t.load(std::memory_order_relaxed);
    while (v < end) {
      if (t.compare_exchange_weak(v, v + 1, std::memory_order_relaxed)) return v - base;
    }
    return -1;
  }
  // Counts `count` chunks of share s done.
  void finished(int s, int64_t count = 1);
  // Returns once share s has `end` chunks done (and their results are visible), running its
  // chunks through `runChunk(i)` when its owner makes no progress.
  template <class Steal>
  void await(int s, int64_t job, int64_t phase, int64_t base, int64_t end, Steal&& runChunk);
  // Sleeps until share s has `end` chunks done (all of them taken by then).
  void sleepUntil(int s, int64_t end);

  static constexpr int kInlineShares = 4;
  // Counts per cache line: each walker's row of counts starts a line of its own.
  static constexpr int kLine = 8;
  struct alignas(64) Line {
    int64_t v[kLine];
  };

  int n_;
  int stride_;  // counts per walker's row: n_ rounded up to whole lines
  // Where a job starts, read by each walker as it joins; written between jobs only (nextJob).
  // The job's number, its first phase, and every share's chunks taken before it.
  struct alignas(64) Start {
    int64_t job = 1, phase = 0;
    // What the caller's walker ended the job with (written as it leaves, read by nextJob).
    int64_t callerPhase = 0;
    int callerThreads = 1;
  } start_;
  int64_t inlineStartBases_[kInlineShares] = {};
  std::unique_ptr<int64_t[]> heapStartBases_;
  int64_t* startBases_;
  alignas(64) std::atomic<int64_t> awayHelps_{0};
  Share inline_[kInlineShares];
  std::unique_ptr<Share[]> heap_;
  Share* shares_;
  // Each walker's running sum of its view of every share's chunks: n rows of stride_ counts.
  Line inlineBases_[kInlineShares] = {};
  std::unique_ptr<Line[]> heapBases_;
  int64_t* bases_;
};

// One thread's walk through the phases of a call.
class PhaseWalker {
 public:
  PhaseWalker(Phaser& phaser, int tid, int nthreads);
  ~PhaseWalker();
  PhaseWalker(const PhaseWalker&) = delete;
  PhaseWalker& operator=(const PhaseWalker&) = delete;

  // Runs work(c) for this thread's chunks of the next phase (and for any share it takes over),
  // then returns once every chunk of the phase is done and its results visible.
  template <class Work>
  void phase(int chunks, Work&& work) {
    if (chunks <= 0) return;
    const int n = n_;
    if (n == 1) {
      // Alone (a one-thread call, or a pool that was busy): nobody else reads or takes the
      // shares, so no claim, count or fence is needed; a streamed step then touches no atomics.
      for (int c = 0; c < chunks; ++c) work(c);
      ++p_;
      return;
    }
    int64_t* base = base_;
    // Own share first: chunks [first(tid), first(tid + 1)).
    runShare(tid_, chunks, base[tid_], work);
    for (int k = 1; k < n; ++k) {
      const int s = (tid_ + k) % n;
      const int c0 = first(chunks, s), size = first(chunks, s + 1) - c0;
      if (size == 0) continue;
      const int64_t b = base[s], end = b + size;
      ph_.await(s, job_, p_, b, end, [&](int64_t i) { work(c0 + static_cast<int>(i)); });
    }
    // Also the own share: a thread that was descheduled may have had its chunks done by others,
    // and must see their results (and a last chunk it took itself is already counted).
    {
      const int size = first(chunks, tid_ + 1) - first(chunks, tid_);
      const int64_t b = base[tid_], end = b + size;
      const int c0 = first(chunks, tid_);
      ph_.await(tid_, job_, p_, b, end, [&](int64_t i) { work(c0 + static_cast<int>(i)); });
    }
    for (int s = 0; s < n; ++s) base[s] += first(chunks, s + 1) - first(chunks, s);
    ++p_;
  }

 private:
  int first(int chunks, int s) const { return static_cast<int>(static_cast<int64_t>(chunks) * s / n_); }

  template <class Work>
  void runShare(int s, int chunks, int64_t b, Work& work) {
    const int c0 = first(chunks, s), size = first(chunks, s + 1) - c0;
    const int64_t end = b + size;
    // Counted in batches: a thread waiting for this share reads the counter's line, and every
    // write to it costs this thread a cache-line round trip. A batch closes after a couple of
    // microseconds, so chunks done are never hidden for long from threads that wait (from a
    // thread descheduled in the middle of a chunk they would wait either way).
    int64_t ran = 0;
    Phaser::Share& sh = ph_.shares_[s];
    sh.beat.store(p_ + 1, std::memory_order_relaxed);
    for (int64_t i, since = ticks(); (i = ph_.take(s, b, end)) >= 0;) {
      work(c0 + static_cast<int>(i));
      ++ran;
      if (const int64_t now = ticks(); now - since > kPublishTicks) {
        ph_.finished(s, ran);
        ran = 0;
        since = now;
      }
    }
    if (ran > 0) ph_.finished(s, ran);
  }

  Phaser& ph_;
  int tid_, n_;
  int64_t job_, p_;
  int64_t* base_;  // this walker's row of counts
};

template <class Steal>
void Phaser::await(int s, int64_t job, int64_t phase, int64_t base, int64_t end, Steal&& runChunk) {
  Share& sh = shares_[s];
  if (sh.done.load(std::memory_order_acquire) >= end) return;
  Waiter wait(sh, job, phase);
  for (;;) {
    switch (wait.next(end)) {
      case Waiter::kDone:
        if (wait.sawAway()) awayHelps_.fetch_add(1, std::memory_order_relaxed);
        return;
      case Waiter::kHelp:
        // The owner made no progress for a while (or never joined): take what is left of its
        // share, one chunk at a time, as long as it stays stalled.
        if (const int64_t i = take(s, base, end); i >= 0) {
          runChunk(i);
          finished(s);
          wait.progressed();
        } else if (wait.sleepy()) {
          // Every chunk is taken; whoever runs the last ones will finish them.
          if (wait.sawAway()) awayHelps_.fetch_add(1, std::memory_order_relaxed);
          return sleepUntil(s, end);
        }
        break;
      case Waiter::kSpin:
        break;
    }
  }
}

class ThreadPool {
 public:
  using Job = void (*)(void* ctx, int tid, int nthreads);

  // The process-wide pool (created on first use, never destroyed).
  static ThreadPool& shared();

  // Each Node environment that loads the addon (the main thread, every worker thread) is a user
  // of the pool, from its start to its cleanup hook. When the last user goes, the pool's threads
  // are stopped and joined: Node may unload the addon with that environment, and a thread left
  // running would then execute unmapped code. The next user starts threads afresh.
  static void addUser();
  static void removeUser();

  // Runs job(ctx, tid, n) on the calling thread (tid 0) and on up to n - 1 pool threads. The job
  // must finish its work even if no pool thread ever joins (the phase protocol does): a pool
  // thread that wakes after the caller finished does not join at all. If another call holds the
  // pool, runs job(ctx, 0, 1) alone.
  // Returns whether posting the job had to wake pool threads from sleep (false when it ran alone;
  // possibly true for sleepers past the job's n - 1, when an earlier call grew the pool).
  bool run(int n, Job job, void* ctx);

  // Pool threads asleep between jobs now (they spin a while after each job first), or woken and
  // not yet running.
  int sleepingWorkers() const { return idleSleepers_.load(std::memory_order_relaxed); }

  // Notes how a job of `steps` small steps went: in how many phases a waiting thread found a
  // share's owner away (ran its chunks), and whether run() woke sleepers for it. A job whose threads
  // were kept waiting in more than a quarter of its steps (one of them descheduled: more runnable
  // threads than cores) counts towards crowded(); when about half of the recent ones did,
  // crowded() says so for the next kCrowdedNs, and calls of small steps run alone meanwhile.
  // Except right after such a window, which the pool threads may have slept through: the burst
  // of jobs that found them asleep (a futex wakeup spans several small steps, on any machine),
  // each away no more than a wakeup explains, says nothing, up to kWakeGraceJobs of them and
  // until the first job that woke nobody (counted, they started the next window: a stream of small
  // steps on an idle machine ran alone most of the time). Returns whether a window started.
  bool noteSharing(int64_t awayPhases, int steps, bool wokeSleepers);
  bool crowded() const;
  // Notes a call of small steps that ran on one thread because the pool was crowded.
  void noteCrowdedAlone() { crowdedAlone_.fetch_add(1, std::memory_order_relaxed); }

  // What the pool did since the process started: whether calls that asked for several threads
  // got them, and if not, why (a diagnosis for a machine where two threads run no faster than one).
  struct Stats {
    int64_t sharedJobs = 0;      // jobs posted to pool threads
    int64_t wokeSleepers = 0;    // of those, jobs that had to wake sleeping pool threads first
    int64_t busyAlone = 0;       // jobs that ran alone: another call held the pool (or no thread could start)
    int64_t crowdedAlone = 0;    // calls of small steps that ran alone: the pool was crowded
    int64_t crowdedWindows = 0;  // crowded windows started
  };
  Stats stats() const;

 private:
  ThreadPool() = default;
  void ensureWorkers(int count);
  void workerLoop(int index);
  // Stops and joins every pool thread (between jobs: holds the pool like a caller does).
  void stop();

  std::mutex busy_;
  std::vector<std::thread> workers_;
  // A posted job on one cache line: a pool thread that sees the generation move fetches the
  // job's state and fields with it, rather than one line after another on the way to its first
  // chunk (each a transfer from the caller's core; a streamed step is a few microseconds).
  alignas(64) std::atomic<uint32_t> generation_{0};
  // Written before the generation moves; read only by a thread that joined the open job.
  Job job_ = nullptr;
  void* ctx_ = nullptr;
  int jobThreads_ = 0;
  // (generation << 1) | open: a pool thread joins a job only while it is open.
  std::atomic<uint64_t> state_{0};
  alignas(64) std::atomic<uint32_t> active_{0};
  std::atomic<int> idleSleepers_{0};
  std::atomic<int> callerSleeping_{0};
  std::atomic<bool> stopping_{false};
  alignas(64) std::atomic<int64_t> crowdedUntil_{0};
  // A decaying count of jobs that kept their threads waiting (each adds 128, each job noted takes
  // an eighth off, rounded up): 512 is about half of the recent ones. Updated racily (two callers
  // may note at once); it is only a hint.
  std::atomic<int> waitScore_{0};
  // Woken jobs that may still be let off after the last crowded window (see noteSharing); may
  // dip below 0 in a race, which ends the grace as 0 does.
  std::atomic<int> wakeGrace_{0};
  // Counted by the caller that holds the pool (loaded and stored: no locked instruction per job).
  alignas(64) std::atomic<int64_t> sharedJobs_{0};
  std::atomic<int64_t> wokeJobs_{0};
  // Counted by any caller, on a line of their own (readers of the window's line pay nothing).
  alignas(64) std::atomic<int64_t> busyAlone_{0};
  std::atomic<int64_t> crowdedAlone_{0};
  std::atomic<int64_t> windows_{0};
};

}  // namespace gru
